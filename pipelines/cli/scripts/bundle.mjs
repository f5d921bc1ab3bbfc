#!/usr/bin/env node
// Bundles the `shipgate` command into dist/bundle/ with esbuild, so a start reads a few files instead
// of resolving and compiling some 150 modules (zod, yaml, commander and shipgate's own packages).
//
//   node pipelines/cli/scripts/bundle.mjs            write pipelines/cli/dist/bundle/
//   node pipelines/cli/scripts/bundle.mjs --sizes    what each package adds to the start-up chunks
//
// ES modules with code splitting: what the sources import with `await import(...)` (the AWS SDK
// clients, the terminal progress display, HTML reports) becomes its own chunk and is read only by
// the command that needs it. The workspace packages are bundled from their TypeScript sources (as
// the actions' bundle is), never from a possibly stale dist/. bin/shipgate.js runs this bundle when
// it is there and the tsc output (dist/cli/main.js) otherwise.
//
// Plugins stay outside: `@shipgate/test-harness/plugin` and SHIPGATE_PLUGINS are imported from the
// user's node_modules at run time, as before. They may hold their own copy of @shipgate/protocol;
// ShipgateError is branded with Symbol.for, so `instanceof` holds across copies.
import { readFileSync, rmSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const cliDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(cliDir, '../..');
export const bundleDir = path.join(cliDir, 'dist', 'bundle');

// the packages the CLI depends on (its package.json), bundled from their TypeScript sources
const cliDependencies = Object.keys(JSON.parse(readFileSync(path.join(cliDir, 'package.json'), 'utf8')).dependencies ?? {});
const workspaceSources = Object.fromEntries(cliDependencies.filter((name) => name.startsWith('@shipgate/')).map((name) => [name, `pipelines/${name.slice('@shipgate/'.length)}/src/index.ts`]));const fromSource = {
  name: 'workspace-sources',
  setup(b) {
    b.onResolve({ filter: /^@shipgate\// }, (args) => {
      const file = workspaceSources[args.path];
      // anything else of ours (the test harness plugin) is a plugin: loaded at run time
      return file ? { path: path.join(root, file) } : { path: args.path, external: true };
    });
  },
};

// zod's error messages come in some 50 languages (190 KiB, parsed at every start); shipgate speaks
// English, so the locale index holds `en` only (as in the actions' bundle).
const zodEnglishOnly = {
  name: 'zod-en',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[/\\]zod[/\\]v4[/\\]/.test(args.importer) ? { path: path.join(path.dirname(args.importer), '../locales/en.js'), namespace: 'zod-en' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => ({ resolveDir: path.dirname(args.path), loader: 'js', contents: `export { default as en } from ${JSON.stringify(args.path)};\n` }));
  },
};

// An ES module import of a Node built-in makes Node read every export of it, getters included, to
// build the module namespace: `import http from 'node:http'` thus loads Node's whole fetch stack
// (http.WebSocket is a lazy getter over undici, some 40 ms) and `node:crypto` its WebCrypto. The
// bundle takes built-ins with require() and exports their names one by one, leaving out the getters
// that load a subsystem (they stay reachable through the default export, read on use).
const builtins = new Set(builtinModules.filter((name) => !name.startsWith('_')).flatMap((name) => [name, `node:${name}`]));
const expensiveGetters = new Set(['WebSocket', 'CloseEvent', 'MessageEvent', 'webcrypto', 'subtle']);
const nodeRequire = createRequire(import.meta.url);
function builtinShim(name) {
  const exported = Object.keys(nodeRequire(name)).filter((key) => /^[A-Za-z_$][\w$]*$/.test(key) && key !== 'default' && !expensiveGetters.has(key));
  return `const m = require(${JSON.stringify(name)});\nexport default m;\n${exported.map((key) => `export const ${key} = m.${key};`).join('\n')}\n`;
}
const requireBuiltins = {
  name: 'require-builtins',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => (builtins.has(args.path) && args.path !== 'node:module' && args.path !== 'module' && args.namespace !== 'builtin' ? { path: args.path, namespace: 'builtin' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: builtinShim(args.path), loader: 'js', resolveDir: root }));
  },
};

/** Builds the bundle; returns esbuild's metafile. */
export async function bundleCli({ outdir = bundleDir, write = true } = {}) {
  if (write) rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { shipgate: path.join(cliDir, 'src', 'cli', 'main.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    sourcemap: false,
    legalComments: 'linked',
    charset: 'utf8',
    write,
    metafile: true,
    logLevel: 'warning',
    plugins: [fromSource, zodEnglishOnly, requireBuiltins],
    // Every module compiled strict, whatever tsconfig esbuild would find for it (see actions/scripts/bundle.mjs)
    tsconfigRaw: { compilerOptions: { alwaysStrict: true, useDefineForClassFields: true, verbatimModuleSyntax: true, target: 'es2024' } },
    // the AWS SDK and a few others are CommonJS: give the ES module bundle a require() of its own
    banner: { js: "import { createRequire as __shipgateCreateRequire } from 'node:module'; const require = __shipgateCreateRequire(import.meta.url);" },
    external: ['pg-native'],
  });
  return result.metafile;
}

/**
 * Bytes each package adds to the chunks every start loads: the entry, the command tree it imports
 * once the compile cache is on (program-*), and their static imports.
 */
export function startupSizes(metafile) {
  const outputs = metafile.outputs;
  const entry = Object.keys(outputs).find((file) => file.endsWith('/shipgate.mjs'));
  const everyStart = (imported) => !imported.external && (imported.kind !== 'dynamic-import' || /\/program-[^/]+$/.test(imported.path));
  const seen = new Set();
  const pending = [entry];
  while (pending.length) {
    const file = pending.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    for (const imported of outputs[file].imports) if (everyStart(imported)) pending.push(imported.path);
  }
  const bytes = {};
  for (const file of seen) {
    for (const [input, { bytesInOutput }] of Object.entries(outputs[file].inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input.split('/').slice(0, 2).join('/');
      bytes[pkg] = (bytes[pkg] ?? 0) + bytesInOutput;
    }
  }
  return Object.entries(bytes).sort((a, b) => b[1] - a[1]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = process.argv.includes('--sizes');
  const metafile = await bundleCli({ write: !sizes });
  if (sizes) {
    for (const [pkg, n] of startupSizes(metafile).slice(0, 25)) process.stdout.write(`${(n / 1024).toFixed(0).padStart(6)} KiB  ${pkg}\n`);
  } else {
    const total = Object.values(metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
    process.stdout.write(`bundle: ${path.relative(process.cwd(), bundleDir)}/shipgate.mjs (${Object.keys(metafile.outputs).length} files, ${(total / 1024).toFixed(0)} KiB)\n`);
  }
}

#!/usr/bin/env node
// Bundles the `shipgate` command into dist/bundle/ with esbuild, so a start reads one file instead of
// resolving and compiling some 150 modules (zod, yaml, commander and shipgate's own packages).
//
//   node pipelines/cli/scripts/bundle.mjs            write pipelines/cli/dist/bundle/
//   node pipelines/cli/scripts/bundle.mjs --sizes    what each package adds to the file every start reads
//
// One CommonJS file, shipgate.cjs, that bin/shipgate.js runs through bin/bundle-loader.js: compiled
// as a script with V8's code cache of an earlier run, which (unlike Node's module compile cache, made
// before a module runs) holds every function that run called, so a start compiles almost nothing.
// Modules are evaluated when first used (esbuild wraps each in a lazy initialiser): what the sources
// import with `await import(...)` (the step packages, the terminal progress display, HTML reports)
// costs a start nothing until a command uses it. The AWS SDK clients are a file of their own,
// aws-sdk.cjs, required only by a command that calls AWS. The workspace packages are bundled from
// their TypeScript sources (as the actions' bundle is), never from a possibly stale dist/.
// bin/shipgate.js runs the tsc output (dist/cli/main.js) when there is no bundle.
//
// Plugins stay outside: `@shipgate/test-harness/plugin` and SHIPGATE_PLUGINS are imported from the
// user's node_modules at run time, through the import() the bin provides. They may hold their own
// copy of @shipgate/protocol; ShipgateError is branded with Symbol.for, so `instanceof` holds across
// copies.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { barrelImportsPlugin } from './barrel-imports.mjs';

const cliDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(cliDir, '../..');
export const bundleDir = path.join(cliDir, 'dist', 'bundle');

// the packages the CLI depends on (its package.json), bundled from their TypeScript sources
const cliDependencies = Object.keys(JSON.parse(readFileSync(path.join(cliDir, 'package.json'), 'utf8')).dependencies ?? {});
const workspaceSources = Object.fromEntries(cliDependencies.filter((name) => name.startsWith('@shipgate/')).map((name) => [name, `pipelines/${name.slice('@shipgate/'.length)}/src/index.ts`]));
const packageIndex = (name) => (Object.hasOwn(workspaceSources, name) ? path.join(root, workspaceSources[name]) : undefined);
const fromSource = {
  name: 'workspace-sources',
  setup(b) {
    b.onResolve({ filter: /^@shipgate\// }, (args) => {
      const file = workspaceSources[args.path];
      // anything else of ours (the test harness plugin) is a plugin: loaded at run time
      return file ? { path: path.join(root, file), sideEffects: false } : { path: args.path, external: true };
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
// (http.WebSocket is a lazy getter over undici, some 40 ms), `node:process` opens stdin, `node:util`
// loads its diff engine and `node:fs` the streams behind fs.ReadStream. So the bundle takes
// built-ins with require() and gives each importing module a stand-in that reads only the names it
// imports (`import { readFile } from 'node:fs/promises'` reads readFile; a default import reads
// nothing). A namespace import (`import * as fs`) or a dynamic import gets every export except the
// getters that load a subsystem. A CommonJS require() gets the module itself, and a built-in that
// takes milliseconds to load gets a stand-in that loads it on the first use of a property, as does
// a default import of one (commander imports child_process for external subcommands, which shipgate
// has none of).
const builtins = new Set(builtinModules.filter((name) => !name.startsWith('_')).flatMap((name) => [name, `node:${name}`]));
const expensiveGetters = new Set(['WebSocket', 'CloseEvent', 'MessageEvent', 'webcrypto', 'subtle']);
const lazyForCommonJs = new Set(['child_process', 'http', 'https', 'http2', 'net', 'tls', 'zlib', 'worker_threads', 'readline', 'tty', 'assert', 'inspector']);
const nodeRequire = createRequire(import.meta.url);
const identifier = /^[A-Za-z_$][\w$]*$/;

/** The names `importer` imports from `builtin` by `import … from`, sorted; undefined if it may need them all. */
const importedNamesCache = new Map();
function importedNames(importer, builtin) {
  const key = `${importer}\0${builtin}`;
  if (!importedNamesCache.has(key)) {
    let source = '';
    try {
      source = readFileSync(importer, 'utf8');
    } catch {
      // not a file (another plugin's module): take every export
    }
    const quoted = `['"]${builtin.replace(/[/]/g, '\\/')}['"]`;
    const names = new Set();
    let whole = !source;
    for (const [, clause] of source.matchAll(new RegExp(`(?:^|[;\\s])(?:import|export)\\s+([^;'"]*?)\\s*from\\s*${quoted}`, 'g'))) {
      const braces = /\{([^}]*)\}/.exec(clause);
      if (/\*/.test(clause.replace(/\{[^}]*\}/, '')) || (!braces && !/^(import\s+)?(type\s+)?[A-Za-z_$][\w$]*\s*$/.test(clause.trim()))) whole = true;
      for (const spec of braces ? braces[1].split(',') : []) {
        const name = spec.trim().replace(/^type\s+.*/, '').split(/\s+as\s+/)[0].trim();
        if (name && name !== 'default') names.add(name);
      }
    }
    importedNamesCache.set(key, whole ? undefined : [...names].sort());
  }
  return importedNamesCache.get(key);
}

/** A stand-in for a built-in that requires it on the first use of one of its properties. */
function lazyModule(name) {
  return `let m;\nconst load = () => (m ??= require(${JSON.stringify(name)}));\nconst lazy = new Proxy({}, { get: (_, key) => load()[key], has: (_, key) => key in load(), ownKeys: () => Reflect.ownKeys(load()), getOwnPropertyDescriptor: (_, key) => ({ ...Reflect.getOwnPropertyDescriptor(load(), key), configurable: true }) });\n`;
}
function esmShim(name, keys) {
  const exported = keys.filter((key) => identifier.test(key) && key !== 'default');
  return `const m = require(${JSON.stringify(name)});\nexport default m;\n${exported.map((key) => `export const ${key} = m.${key};`).join('\n')}\n`;
}
const shims = {
  'builtin-named': (file) => {
    const [name, list] = file.split('#');
    const mod = nodeRequire(name);
    // a default import only, of a built-in that is slow to load: load it on first use
    if (!list && lazyForCommonJs.has(name.replace(/^node:/, ''))) return `${lazyModule(name)}export default lazy;\n`;
    return esmShim(name, list ? list.split(',').filter((key) => key in mod) : []);
  },
  'builtin-all': (name) => esmShim(name, Object.keys(nodeRequire(name)).filter((key) => !expensiveGetters.has(key))),
  'builtin-cjs': (name) => (lazyForCommonJs.has(name.replace(/^node:/, '')) ? `${lazyModule(name)}module.exports = lazy;\n` : `module.exports = require(${JSON.stringify(name)});\n`),
};
const requireBuiltins = {
  name: 'require-builtins',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
      if (!builtins.has(args.path) || args.path === 'node:module' || args.path === 'module' || args.namespace.startsWith('builtin')) return undefined;
      if (args.kind === 'require-call') return { path: args.path, namespace: 'builtin-cjs' };
      const names = args.kind === 'import-statement' ? importedNames(args.importer, args.path) : undefined;
      return names ? { path: `${args.path}#${names.join(',')}`, namespace: 'builtin-named' } : { path: args.path, namespace: 'builtin-all' };
    });
    for (const [namespace, shim] of Object.entries(shims)) b.onLoad({ filter: /.*/, namespace }, (args) => ({ contents: shim(args.path), loader: 'js', resolveDir: root }));
  },
};

// yaml's Node entry is CommonJS: esbuild wraps each of its modules in a function and can drop none
// of them. Its ES module build (the one it gives browsers) is the same code with console.warn for
// process.emitWarning and Uint8Array for Buffer (!!binary, a YAML 1.1 tag the pipeline schema does
// not use); as ES modules it loads some 4 ms faster and 17 KiB smaller at every `shipgate validate`.
const yamlEsm = path.join(path.dirname(nodeRequire.resolve('yaml/package.json')), 'browser', 'index.js');

// The AWS SDK clients the sources import, kept out of shipgate.cjs: each import becomes a property of
// aws-sdk.cjs (a second bundle, built from the names collected here), required on first use.
const awsSdkFile = 'aws-sdk.cjs';
function awsSdkOutside(imported) {
  return {
    name: 'aws-sdk-outside',
    setup(b) {
      b.onResolve({ filter: /^@aws-sdk\// }, (args) => {
        imported.add(args.path);
        return { path: args.path, namespace: 'aws-sdk' };
      });
      b.onResolve({ filter: new RegExp(`^\\./${awsSdkFile.replace('.', '\\.')}$`) }, (args) => ({ path: args.path, external: true }));
      b.onLoad({ filter: /.*/, namespace: 'aws-sdk' }, (args) => ({ contents: `module.exports = require('./${awsSdkFile}')[${JSON.stringify(args.path)}];\n`, loader: 'js', resolveDir: root }));
    },
  };
}

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  minify: true,
  sourcemap: false,
  legalComments: 'linked',
  charset: 'utf8',
  logLevel: 'warning',
  // Every module compiled strict, whatever tsconfig esbuild would find for it (see actions/scripts/bundle.mjs)
  tsconfigRaw: { compilerOptions: { alwaysStrict: true, useDefineForClassFields: true, verbatimModuleSyntax: true, target: 'es2024' } },
  external: ['pg-native'],
};

/** Builds the bundle (shipgate.cjs, aws-sdk.cjs, build-id); returns esbuild's metafiles. */
export async function bundleCli({ outdir = bundleDir, write = true } = {}) {
  if (write) rmSync(outdir, { recursive: true, force: true });
  const sdkImports = new Set();
  const cli = await build({
    ...common,
    entryPoints: { shipgate: path.join(cliDir, 'src', 'cli', 'process-main.ts') },
    outdir,
    outExtension: { '.js': '.cjs' },
    write,
    metafile: true,
    alias: { yaml: yamlEsm },
    plugins: [fromSource, barrelImportsPlugin(path.join(root, 'pipelines'), packageIndex, { requireName: '__shipgateRequire' }), awsSdkOutside(sdkImports), zodEnglishOnly, requireBuiltins],
    // import.meta of the ES module sources, for a CommonJS file (bin/bundle-loader.js runs it with require, __filename)
    define: { 'import.meta.url': '__shipgateImportMetaUrl', 'import.meta.resolve': '__shipgateImportMetaResolve' },
    banner: {
      js: "var __shipgateRequire = require, __shipgateImportMetaUrl = require('node:url').pathToFileURL(__filename).href, __shipgateImportMetaResolve = (specifier) => require('node:url').pathToFileURL(require.resolve(specifier)).href;",
    },
  });
  const getters = [...sdkImports].sort().map((name) => `  get ${JSON.stringify(name)}() { return require(${JSON.stringify(name)}); },`);
  const sdk = await build({
    ...common,
    stdin: { contents: `module.exports = {\n${getters.join('\n')}\n};\n`, resolveDir: root, sourcefile: 'aws-sdk-entry.js', loader: 'js' },
    outfile: path.join(outdir, awsSdkFile),
    write,
    metafile: true,
    plugins: [requireBuiltins],
  });
  if (write) {
    // what the bin keys its code cache on: a cache made for other code must never be used for this one
    const id = createHash('sha256').update(readFileSync(path.join(outdir, 'shipgate.cjs'))).digest('hex').slice(0, 16);
    writeFileSync(path.join(outdir, 'build-id'), `${id}\n`);
  }
  return { cli: cli.metafile, sdk: sdk.metafile };
}

/** Bytes each package adds to shipgate.cjs, the file every start reads (its modules run only when used). */
export function startupSizes(metafile) {
  const bytes = {};
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input.split('/').slice(0, 2).join('/');
      bytes[pkg] = (bytes[pkg] ?? 0) + bytesInOutput;
    }
  }
  return Object.entries(bytes).sort((a, b) => b[1] - a[1]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = process.argv.includes('--sizes');
  const { cli, sdk } = await bundleCli({ write: !sizes });
  if (sizes) {
    for (const [pkg, n] of startupSizes(cli).slice(0, 25)) process.stdout.write(`${(n / 1024).toFixed(0).padStart(6)} KiB  ${pkg}\n`);
  } else {
    const kib = (m) => (Object.values(m.outputs).reduce((sum, o) => sum + o.bytes, 0) / 1024).toFixed(0);
    process.stdout.write(`bundle: ${path.relative(process.cwd(), bundleDir)}/shipgate.cjs (${kib(cli)} KiB) and ${awsSdkFile} (${kib(sdk)} KiB)\n`);
  }
}

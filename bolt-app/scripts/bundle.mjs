// Bundles the app into one ES module (build/bundle/shipgate-bolt.mjs) with esbuild, plus PGlite's
// WASM and data files beside it (PGlite finds them next to the importing module), so a container
// image needs only Node and these files — no npm ci.
//   node bolt-app/scripts/bundle.mjs [--out DIR]      (default bolt-app/build/bundle)
import { copyFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const at = process.argv.indexOf('--out');
const out = at > 0 ? path.resolve(process.argv[at + 1]) : path.join(root, 'build', 'bundle');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [path.join(root, 'src', 'cli.ts')],
  outfile: path.join(out, 'shipgate-bolt.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  // pg, pino and the AWS SDK are CommonJS: give the ES module bundle a require() of its own
  banner: { js: "import { createRequire as __sgCreateRequire } from 'node:module'; const require = __sgCreateRequire(import.meta.url);" },
  // optional native or unused drivers that the bundled libraries only try to load
  external: ['pg-native', 'pino-pretty', '@aws-sdk/credential-provider-sso'],
  legalComments: 'none',
  sourcemap: false,
  logLevel: 'warning',
});

const require = createRequire(import.meta.url);
const pgliteDist = path.dirname(require.resolve('@electric-sql/pglite'));
for (const file of ['pglite.wasm', 'pglite.data', 'initdb.wasm']) copyFileSync(path.join(pgliteDist, file), path.join(out, file));
copyFileSync(path.join(root, 'manifest.yml'), path.join(out, 'manifest.yml'));
const size = statSync(path.join(out, 'shipgate-bolt.mjs')).size;
console.log(`bundle: ${path.relative(process.cwd(), out)}/shipgate-bolt.mjs (${(size / 1e6).toFixed(1)} MB) + PGlite's wasm and data`);

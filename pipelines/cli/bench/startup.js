// Start-up benchmark (node pipelines/cli/bench/startup.js [rounds]; needs `npm run build`, which also
// writes the bundle). How long a `shipgate` process takes against a bare Node start in the same run:
// `node -e 0`, `shipgate --version`, and `shipgate validate` on a 50-step file, each through the
// bundled bin (what users run: the first round writes its code cache, see bin/bundle-loader.js), the
// bundle without a code cache (a user's first command, or SHIPGATE_CODE_CACHE=0), and the unbundled
// tsc output (dist/cli/main.js) for contrast. The code cache goes to a directory of this run's own.
// Rounds interleave the commands so that load on the machine hits all of them alike; the figure is
// the median wall time. Goals (issue 18): --version <= 2x, validate <= 3x the bare start.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const cliDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(cliDir, 'bin', 'shipgate.js');
const unbundled = path.join(cliDir, 'dist', 'cli', 'main.js');
if (!existsSync(path.join(cliDir, 'dist', 'bundle', 'shipgate.cjs'))) {
  console.error('no bundle: run `npm run build` (or node pipelines/cli/scripts/bundle.mjs) first');
  process.exit(1);
}
const rounds = Number(process.argv[2] ?? 21);

const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-startup-'));
const steps = Array.from({ length: 50 }, (_, i) => `  s${i}: { run: "echo ${i}"${i ? `, needs: s${i - 1}` : ''} }`);
writeFileSync(path.join(dir, 'shipgate.yml'), `name: fifty\nsteps:\n${steps.join('\n')}\n`);

const cacheDir = path.join(dir, 'code-cache');
const cases = [
  ['node -e 0', ['-e', '0']],
  ['shipgate --version', [bin, '--version']],
  ['shipgate validate (50 steps)', [bin, 'validate']],
  ['  no code cache: validate', [bin, 'validate'], { SHIPGATE_CODE_CACHE: '0' }],
  ['  unbundled --version', [unbundled, '--version']],
  ['  unbundled validate', [unbundled, 'validate']],
];
const times = new Map(cases.map(([label]) => [label, []]));
function once([label, args, env = {}]) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', timeout: 30_000, env: { ...process.env, SHIPGATE_CACHE_DIR: cacheDir, ...env } });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${label} failed (${result.status}): ${result.stderr}`);
  return ms;
}
try {
  for (const c of cases) once(c); // warm the compile cache and the file system cache
  for (let round = 0; round < rounds; round += 1) for (const c of cases) times.get(c[0]).push(once(c));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const bare = median(times.get('node -e 0'));
console.log(`shipgate start-up, median of ${rounds} interleaved rounds (Node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)})`);
for (const [label, xs] of times) console.log(`${label.padEnd(30)} ${median(xs).toFixed(0).padStart(5)} ms  ${(median(xs) / bare).toFixed(1).padStart(4)}x`);

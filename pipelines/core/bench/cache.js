// Cache benchmark (node pipelines/core/bench/cache.js; needs `npm run build` first). One step whose
// outputs are 5,000 files / 50 MB (a node_modules-like tree: 100 packages, executables, bin
// symlinks), run through the real CLI:
//  1. uncached: the step runs (`--no-cache`);
//  2. warm local hit: nothing changed, the outputs are in place;
//  3. local hit after `rm -rf` of the outputs: every file copied back from .shipgate/;
//  4. remote hit from a fresh clone (empty .shipgate/) through a file:// store and through S3
//     (s3rver on 127.0.0.1, started and stopped here): the whole run, and the time until the step
//     is reported (the files are in place; the local object store is filled after that);
//  5. the obvious alternative for a restore: `tar -xf` of the same tree (what a tarball cache does).
// The step's own work is calibrated to take about as long as `npm ci` of a real library with a
// node_modules of that size (15 s for 4,857 files on this machine); the restores do not depend on it.
// Prints a table with the ratios and whether the target (fresh clone with the shared cache
// ≤ 10 % of the uncached run) is met.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import S3rver from 's3rver';

const here = path.dirname(new URL(import.meta.url).pathname);
const cli = path.resolve(here, '../../cli/bin/shipgate.js');
const rounds = 3;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);

// 100 packages × 50 files × 10 KiB = 5,000 files, 50 MiB; the sha256 rounds stand in for the
// compile or install work that produces them
const generator = `
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
const work = Number(process.env.BENCH_WORK ?? 6);
rmSync('out', { recursive: true, force: true });
mkdirSync('out/.bin', { recursive: true });
for (let p = 0; p < 100; p += 1) {
  mkdirSync(\`out/pkg-\${p}/lib\`, { recursive: true });
  for (let f = 0; f < 50; f += 1) {
    const blocks = [];
    let block = createHash('sha256').update(\`\${p}/\${f}\`).digest();
    for (let b = 0; b < 320; b += 1) {
      for (let w = 0; w < work; w += 1) block = createHash('sha256').update(block).digest();
      blocks.push(block);
    }
    writeFileSync(\`out/pkg-\${p}/lib/file-\${f}.js\`, Buffer.concat(blocks));
  }
  chmodSync(\`out/pkg-\${p}/lib/file-0.js\`, 0o755);
  symlinkSync(\`../pkg-\${p}/lib/file-0.js\`, \`out/.bin/pkg-\${p}\`);
}
`;

const pipeline = ['name: cache-bench', 'steps:', '  build:', '    run: node gen.mjs', '    cache: { inputs: [gen.mjs], outputs: [out] }'].join('\n');

function checkout() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-bench-cache-'));
  writeFileSync(path.join(dir, 'gen.mjs'), generator);
  writeFileSync(path.join(dir, 'shipgate.yml'), pipeline);
  return dir;
}

/**
 * Runs the CLI; returns wall ms and the build step's outcome. Asynchronously: the S3 server lives
 * in this process and must keep answering while the CLI runs.
 */
async function shipgate(dir, args, env = {}) {
  settle();
  const t = performance.now();
  const child = spawn(process.execPath, [cli, 'run', '--reporter', 'plain', ...args], { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });
  let stdout = '';
  let stderr = '';
  let reportedMs;
  child.stdout.on('data', (c) => {
    stdout += c;
    // when the step is reported done: a shared hit fills the local store after that, before the run ends
    if (reportedMs === undefined && /\[build\] ↺ cached/.test(stdout)) reportedMs = performance.now() - t;
  });
  child.stderr.on('data', (c) => (stderr += c));
  const status = await new Promise((resolve) => child.on('close', resolve));
  const ms = performance.now() - t;
  if (status !== 0) throw new Error(`shipgate run failed:\n${stdout}\n${stderr}`);
  if (/shared cache .* failed/.test(stdout)) throw new Error(`the shared cache failed during the benchmark:\n${stdout}`);
  const outcome = /\[build\] ↺ cached/.test(stdout) ? 'cached' : 'success';
  return { ms, reportedMs: reportedMs ?? ms, outcome, log: stdout };
}

/**
 * Writes dirty pages out before each timed measure, so none pays for the writeback of the one
 * before it (without this, the same `tar -xf` took 0.2 s to 6 s here depending on what ran before).
 */
function settle() {
  spawnSync('sync');
}

function expectOutcome(result, wanted, what) {
  if (result.outcome !== wanted) throw new Error(`${what}: expected ${wanted}, got ${result.outcome}\n${result.log}`);
}

const temp = [];
const s3Dir = mkdtempSync(path.join(os.tmpdir(), 'sg-bench-s3-'));
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3Dir, configureBuckets: [{ name: 'bench', configs: [] }] });
try {
  const { port } = await server.run();
  const fileStore = mkdtempSync(path.join(os.tmpdir(), 'sg-bench-store-'));
  temp.push(fileStore);
  const stores = {
    file: { SHIPGATE_CACHE_URL: pathToFileURL(fileStore).href },
    s3: { SHIPGATE_CACHE_URL: 's3://bench/ci', AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' },
  };

  const origin = checkout();
  temp.push(origin);
  const uncached = [];
  const warm = [];
  const afterRm = [];
  const tar = [];
  const remote = { file: [], s3: [] };
  const reported = { file: [], s3: [] };
  const onCi = { file: [], s3: [] };
  // the first run fills the local cache and the file store; a second from an empty .shipgate/
  // fills the S3 store
  expectOutcome(await shipgate(origin, [], stores.file), 'success', 'first run');
  rmSync(path.join(origin, '.shipgate'), { recursive: true });
  expectOutcome(await shipgate(origin, [], stores.s3), 'success', 'upload to s3');
  spawnSync('tar', ['-cf', path.join(origin, 'out.tar'), 'out'], { cwd: origin });

  for (let round = 0; round < rounds; round += 1) {
    const u = await shipgate(origin, ['--no-cache']);
    expectOutcome(u, 'success', 'uncached');
    uncached.push(u.ms);

    const w = await shipgate(origin, []);
    expectOutcome(w, 'cached', 'warm hit');
    warm.push(w.ms);

    rmSync(path.join(origin, 'out'), { recursive: true });
    const a = await shipgate(origin, []);
    expectOutcome(a, 'cached', 'hit after rm -rf');
    afterRm.push(a.ms);

    for (const kind of ['file', 's3']) {
      const fresh = checkout();
      temp.push(fresh);
      const r = await shipgate(fresh, [], stores[kind]);
      expectOutcome(r, 'cached', `fresh clone, ${kind} store`);
      remote[kind].push(r.ms);
      reported[kind].push(r.reportedMs);
      // the same on a CI machine (CI=true): its local store goes with the machine, so by default a
      // shared hit is not copied into it (SHIPGATE_CACHE_LOCAL_FILL=auto)
      const ci = checkout();
      temp.push(ci);
      const c = await shipgate(ci, [], { ...stores[kind], CI: 'true' });
      expectOutcome(c, 'cached', `fresh clone on CI, ${kind} store`);
      onCi[kind].push(c.ms);
    }

    const into = mkdtempSync(path.join(os.tmpdir(), 'sg-bench-tar-'));
    temp.push(into);
    settle();
    const t = performance.now();
    spawnSync('tar', ['-xf', path.join(origin, 'out.tar')], { cwd: into });
    tar.push(performance.now() - t);
  }

  const base = median(uncached);
  const row = (name, xs, target) => {
    const ratio = median(xs) / base;
    return { line: `| ${name} | ${fmt(median(xs))} / ${fmt(base)} | ${ratio.toFixed(3)} | ${target === undefined ? '—' : `≤ ${target.toFixed(2)}`} |`, met: target === undefined || ratio <= target };
  };
  const rows = [
    row('warm local hit / uncached run', warm),
    row('local hit after rm -rf of the outputs / uncached run', afterRm),
    row('fresh clone on CI (CI=true, no local fill), file:// shared cache / uncached run', onCi.file, 0.1),
    row('fresh clone on CI (CI=true, no local fill), S3 shared cache (s3rver) / uncached run', onCi.s3, 0.1),
    row('fresh clone on a workstation (local store filled too), file:// / uncached run', remote.file),
    row('fresh clone on a workstation (local store filled too), S3 / uncached run', remote.s3),
    row('fresh clone, file:// — until the step is reported (the local fill comes after) / uncached run', reported.file),
    row('fresh clone, S3 — until the step is reported / uncached run', reported.s3),
  ];
  console.log(`shipgate cache benchmark — node ${process.version}, ${os.availableParallelism()} CPUs, load ${os.loadavg()[0].toFixed(1)}, medians of ${rounds}`);
  console.log('step outputs: 5,000 files, 50 MiB (100 packages, 100 executables, 100 bin symlinks)\n');
  console.log('| measure | times | ratio | target | met |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`${r.line} ${r.met ? 'yes' : 'NO'} |`);
  console.log(`| restore after rm -rf: shipgate hit / \`tar -xf\` of the same tree (restore only, no CLI) | ${fmt(median(afterRm))} / ${fmt(median(tar))} | ${(median(afterRm) / median(tar)).toFixed(3)} | — | — |`);
} finally {
  (server.httpServer ?? { closeAllConnections() {} }).closeAllConnections?.();
  await server.close().catch(() => undefined);
  for (const d of [...temp, s3Dir]) rmSync(d, { recursive: true, force: true });
}

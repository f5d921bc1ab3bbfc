// Benchmark: what the DORA series cost a /metrics scrape. They are computed from the deployment
// history when scraped (SQL read of two windows + computeDora); the obvious alternative is not
// having them: the same scrape of every other series. Prints both and their ratio, and where the
// time goes (the SQL read, the computation). Prometheus' default scrape timeout is 10 s.
//
//   npm run build && node bolt-app/bench/dora-scrape.js [--deployments 10000] [--rounds 5]
import { performance } from 'node:perf_hooks';
import { computeDora } from '@shipgate/core';
import { Store, openPglite } from '../dist/index.js';
import { AppMetrics } from '../dist/http/metrics.js';
import { doraReport, maxDoraRows } from '../dist/dora/history.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const deployments = arg('deployments', 10_000);
const rounds = arg('rounds', 5);
const day = 86_400_000;
const windowMs = 30 * day;

const store = new Store(await openPglite('memory://'));
await store.migrate();
// 20 services × 3 environments over the last 60 days; one in 8 failed, one in 20 rolled back
await store.db.query(
  `INSERT INTO deployments (id, service, environment, version, outcome, created_at, commit_sha, commit_at)
   SELECT 'dep_b' || g, 'svc' || (g % 20), (ARRAY['prod','staging','dev'])[1 + g % 3], 'v' || g,
          CASE WHEN g % 8 = 0 THEN 'failed' WHEN g % 20 = 0 THEN 'rolled-back' ELSE 'succeeded' END,
          now() - (($1::int - g) * (60 * 86400.0 / $1::int)) * interval '1 second',
          'abcdef' || g, now() - (($1::int - g) * (60 * 86400.0 / $1::int) + 3600 + g % 7200) * interval '1 second'
   FROM generate_series(1, $1::int) g`,
  [deployments],
);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timed(fn) {
  const times = [];
  for (let i = 0; i < rounds + 1; i++) {
    const t = performance.now();
    await fn();
    if (i > 0) times.push(performance.now() - t); // the first round warms up
  }
  return median(times);
}

const depth = async () => 0;
const without = await timed(() => new AppMetrics(depth, { defaultMetrics: false }).registry.metrics());
const withDora = await timed(() => new AppMetrics(depth, { defaultMetrics: false, dora: () => doraReport(store, { now: new Date(), windowMs }) }).registry.metrics());
const sqlOnly = await timed(() => store.deployments.doraRows(new Date(Date.now() - 2 * windowMs), {}, maxDoraRows));
const rows = await store.deployments.doraRows(new Date(Date.now() - 2 * windowMs), {}, maxDoraRows);
const computeOnly = await timed(async () => computeDora(rows, { now: new Date(), windowMs }));
// the same read with every column (the repository's `since`, as the API lists them)
const sqlAll = await timed(() => store.deployments.since(new Date(Date.now() - 2 * windowMs), {}, maxDoraRows));
const series = (await new AppMetrics(depth, { defaultMetrics: false, dora: () => doraReport(store, { now: new Date(), windowMs }) }).registry.metrics()).split('\n').filter((l) => l.startsWith('shipgate_dora_')).length;

console.log(`${deployments} deployments (60 days, 20 services × 3 environments), ${rows.length} read for the 30-day window (and the one before it), median of ${rounds} scrapes`);
console.log(`scrape without DORA series: ${without.toFixed(1)} ms`);
console.log(`scrape with DORA series:    ${withDora.toFixed(1)} ms (${series} shipgate_dora_* lines) — ${(withDora / Math.max(without, 0.01)).toFixed(0)}× the scrape without`);
console.log(`  of which the SQL read:    ${sqlOnly.toFixed(1)} ms (every column: ${sqlAll.toFixed(1)} ms, ${(sqlAll / sqlOnly).toFixed(1)}×); computeDora: ${computeOnly.toFixed(1)} ms`);
await store.close();

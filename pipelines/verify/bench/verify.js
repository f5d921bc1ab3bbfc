// Verify benchmark (npm run bench -w @shipgate/verify, after `npm run build`). Starts a small
// service and Debian's Prometheus (scraping it every second) on 127.0.0.1, then measures:
//   1. detection: from the moment a bad release's error rate rises to the moment the rollback
//      starts (runVerification returns `failed`; the step calls the rollbacks next), against the
//      schedule's limit initial-delay + (failure-limit + 1) × interval. Goal: within one interval.
//   2. overhead: one evaluation of one check by the step's client and judge against a bare
//      fetch of the same query to /api/v1/query, in the same run. Goal: ≤ 2 ms per evaluation.
// Needs the prometheus binary. Everything it starts is stopped, also on failure.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PrometheusClient, evaluateCheck, rollbackDeadlineMs, runVerification } from '@shipgate/verify';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The service: 20 simulated requests every 100 ms with the current release's error ratio. */
async function startService() {
  const counts = new Map();
  let release = { version: 'good', errorRatio: 0 };
  const tick = setInterval(() => {
    const failed = Math.round(20 * release.errorRatio);
    for (const [code, n] of [['500', failed], ['200', 20 - failed]]) counts.set(`${release.version}\t${code}`, (counts.get(`${release.version}\t${code}`) ?? 0) + n);
  }, 100);
  const server = http.createServer((req, res) => {
    const lines = [...counts].map(([k, n]) => `demo_http_requests_total{version="${k.split('\t')[0]}",code="${k.split('\t')[1]}"} ${n}`);
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`${lines.join('\n')}\n`);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    hostPort: `127.0.0.1:${server.address().port}`,
    deploy: (next) => (release = next),
    stop: () => (clearInterval(tick), server.closeAllConnections(), new Promise((r) => server.close(r))),
  };
}

async function startPrometheus(target) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-verify-bench-'));
  writeFileSync(path.join(dir, 'p.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ["${target}"]\n`);
  const port = await freePort();
  const child = spawn('prometheus', [`--config.file=${path.join(dir, 'p.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5000).then(() => child.kill('SIGKILL'))]);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200; i += 1) {
    const up = await fetch(`${url}/api/v1/query?query=up`).then((r) => r.json()).catch(() => undefined);
    if (up?.data?.result?.[0]?.value?.[1] === '1') return { url, stop };
    await sleep(100);
  }
  await stop();
  throw new Error('prometheus did not scrape the service within 20 s');
}

const errorRate = (v) => `sum(rate(demo_http_requests_total{code="500",version="${v}"}[3s])) / sum(rate(demo_http_requests_total{version="${v}"}[3s]))`;

async function detection(service, client, round) {
  const schedule = { count: 30, intervalMs: 1000, initialDelayMs: 3000, failureLimit: 1, inconclusiveLimit: 2 };
  const version = `bad-${round}`;
  service.deploy({ version, errorRatio: 0.3 });
  const risen = performance.now();
  const result = await runVerification([{ name: 'error-rate', query: errorRate(version), max: 0.05 }], schedule, { query: (q, signal) => client.query(q, signal), signal: new AbortController().signal });
  const rollbackStarts = performance.now() - risen;
  service.deploy({ version: `good-${round}`, errorRatio: 0 });
  return { verdict: result.verdict, rollbackStarts, limit: rollbackDeadlineMs(schedule), interval: schedule.intervalMs };
}

async function overhead(prometheusUrl, client) {
  const query = errorRate('good');
  const bare = async () => {
    const res = await fetch(`${prometheusUrl}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ query }) });
    return res.json();
  };
  const step = async () => evaluateCheck({ max: 0.05 }, await client.query(query));
  for (let i = 0; i < 20; i += 1) await Promise.all([bare(), step()]);
  const bareMs = [];
  const stepMs = [];
  for (let i = 0; i < 300; i += 1) {
    let t = performance.now();
    await bare();
    bareMs.push(performance.now() - t);
    t = performance.now();
    await step();
    stepMs.push(performance.now() - t);
  }
  return { bare: median(bareMs), step: median(stepMs) };
}

const service = await startService();
let prometheus;
try {
  prometheus = await startPrometheus(service.hostPort);
  const client = new PrometheusClient({ url: prometheus.url, timeoutMs: 2000 });
  const rounds = [];
  for (let round = 1; round <= 3; round += 1) rounds.push(await detection(service, client, round));
  for (const r of rounds) console.log(`detection: verdict ${r.verdict}, rollback starts ${(r.rollbackStarts / 1000).toFixed(2)} s after the error rate rose; limit ${(r.limit / 1000).toFixed(1)} s (goal ≤ ${((r.limit + r.interval) / 1000).toFixed(1)} s)`);
  const worst = Math.max(...rounds.map((r) => r.rollbackStarts));
  const goal = rounds[0].limit + rounds[0].interval;
  console.log(`detection worst of ${rounds.length}: ${(worst / 1000).toFixed(2)} s = ${(worst / rounds[0].limit).toFixed(2)}× the limit — ${worst <= goal && rounds.every((r) => r.verdict === 'failed') ? 'goal met' : 'GOAL MISSED'}`);
  const o = await overhead(prometheus.url, client);
  const per = o.step - o.bare;
  console.log(`overhead per evaluation (median of 300): step ${o.step.toFixed(2)} ms, bare fetch ${o.bare.toFixed(2)} ms → ${per.toFixed(2)} ms (${(o.step / o.bare).toFixed(2)}×) — ${per <= 2 ? 'goal met (≤ 2 ms)' : 'GOAL MISSED (> 2 ms)'}`);
} finally {
  await prometheus?.stop();
  await service.stop();
}

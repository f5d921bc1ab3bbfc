// Test-harness benchmark on a realistic pg_dump (npm run bench:dump -w test-harness; needs
// `npm run build` and Postgres server binaries with pg_dump and psql).
//
// Builds test/fixtures/pgdump/sample-db.sql at scale 1 (22 tables, one partitioned into 6, domains,
// sequences, about 50,000 rows) on a real Postgres, dumps it with pg_dump (plain: COPY blocks), then
// measures in one run on this machine:
//   - loading that dump into an empty database: the harness's loader (COPY protocol) vs `psql -f`,
//     on the same server, interleaved round by round;
//   - handing a test a fresh copy: a pooled template clone (postgres and, when Docker and the image
//     are there, testcontainers) vs re-applying schema + COPY data per test with psql;
//   - 1,000 isolated tests of a jest project whose seed is the dump (postgres provider, 2 workers).
// Prints p50 / p95 and the ratios against the targets.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findPostgresBinaries, openHarness, prepareHarness } from '../dist/index.js';
import { runScript } from '../dist/migrations/apply.js';
import { PgSqlClient } from '../dist/sql/client.js';
import { dropDatabase, hostTag, marker, urlFor } from '../dist/providers/server.js';
import { defaultServerRoot, startPostgres } from '../dist/providers/postgres.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const repo = path.resolve(here, '../..');
const quick = process.argv.includes('--quick');
const n = (full, small) => (quick ? small : full);

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const ms = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const rows = [];
function record(name, samples) {
  rows.push({ name, n: samples.length, p50: pct(samples, 50), p95: pct(samples, 95) });
  console.error(`  ${name}: p50 ${ms(pct(samples, 50))} ms, p95 ${ms(pct(samples, 95))} ms (n=${samples.length})`);
  return pct(samples, 50);
}
const timed = async (fn) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

const bin = findPostgresBinaries();
if (!bin) throw new Error('this benchmark needs Postgres server binaries (apt-get install postgresql)');
const psql = path.join(bin, 'psql');
const work = mkdtempSync(path.join(os.tmpdir(), 'sg-th-bench-dump-'));
const dumpFile = path.join(work, 'db/seed.sql');
// a cluster of this run's own (on the memory file system where there is one): other runs on the
// machine keep theirs, and nothing of theirs stops ours
const serverDir = mkdtempSync(path.join(defaultServerRoot(), 'sg-th-bench-dump-'));
mkdirSync(path.dirname(dumpFile), { recursive: true });

const label = (name) => `${name}_${hostTag}_${process.pid}`;
async function freshDatabase(admin, name) {
  await dropDatabase(admin, name);
  await admin.exec(`CREATE DATABASE "${name}"`);
  await admin.exec(`COMMENT ON DATABASE "${name}" IS '${marker} bench pid=${process.pid} host=${hostTag}'`);
}

/** A small test: a join over the partitioned table, and a write. */
async function testWork(client) {
  await client.query('SELECT c.customer_id, sum(p.amount) FROM public.payment p JOIN public.customer c USING (customer_id) WHERE c.customer_id = 7 GROUP BY 1');
  await client.query("INSERT INTO public.actor (first_name, last_name) VALUES ('bench', 'test')");
}

/** psql -f of the dump into a new database on `adminUrl`'s server (what a team without the harness does per test). */
function psqlLoad(adminUrl, name) {
  const url = new URL(urlFor(adminUrl, name));
  const password = decodeURIComponent(url.password);
  url.password = '';
  execFileSync(psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', dumpFile, '-o', '/dev/null', url.toString()], { env: { ...process.env, PGPASSWORD: password }, stdio: ['ignore', 'ignore', 'pipe'] });
}

async function loadComparison(server) {
  const admin = await PgSqlClient.connect(server.adminUrl);
  const sql = readFileSync(dumpFile, 'utf8');
  const ours = [];
  const theirs = [];
  try {
    for (let i = 0; i < n(15, 3); i += 1) {
      const name = label(`shipgate_t_benchload${i}`);
      // both over TCP to 127.0.0.1 with the password, one after the other in each round, taking turns at going first
      const loadOurs = async () => {
        await freshDatabase(admin, name);
        ours.push(
          await timed(async () => {
            const c = await PgSqlClient.connect(urlFor(server.adminUrl, name));
            await runScript(c, { name: 'db/seed.sql', sql }, 'seed');
            await c.close();
          }),
        );
      };
      const loadPsql = async () => {
        await freshDatabase(admin, name);
        theirs.push(await timed(async () => psqlLoad(server.adminUrl, name)));
      };
      for (const load of i % 2 ? [loadPsql, loadOurs] : [loadOurs, loadPsql]) await load();
      await dropDatabase(admin, name);
    }
  } finally {
    await admin.close();
  }
  return { ours: record('load the 50k-row dump: harness (COPY protocol)', ours), psql: record('load the 50k-row dump: psql -f', theirs) };
}

async function handOut(provider) {
  const prepared = await prepareHarness({ provider, seed: 'db/seed.sql', cwd: work, serverDir });
  const result = {};
  try {
    const harness = openHarness(prepared.state);
    await (await harness.acquire()).release();
    const times = [];
    for (let i = 0; i < n(200, 40); i += 1) {
      let db;
      times.push(await timed(async () => (db = await harness.acquire())));
      await testWork(db.client);
      await new Promise((r) => setTimeout(r, 20)); // a test that also waits on I/O
      await db.release();
    }
    await harness.close();
    result.pooled = record(`${provider}: pooled clone of the dump's template, tests of 20 ms or more`, times);
    const admin = await PgSqlClient.connect(prepared.state.adminUrl);
    const again = [];
    try {
      for (let i = 0; i < n(10, 3); i += 1) {
        const name = label(`shipgate_t_benchpsql${i}`);
        again.push(
          await timed(async () => {
            await freshDatabase(admin, name);
            psqlLoad(prepared.state.adminUrl, name);
          }),
        );
        await dropDatabase(admin, name);
      }
    } finally {
      await admin.close();
    }
    result.psql = record(`${provider}: new database + psql -f of the dump per test`, again);
  } finally {
    await prepared.stop();
  }
  return result;
}

/** 1,000 isolated tests (a clone each) of a jest project seeded from the dump. */
function thousandTests() {
  const project = path.join(work, 'project');
  mkdirSync(path.join(project, 'tests'), { recursive: true });
  symlinkSync(path.join(repo, 'node_modules'), path.join(project, 'node_modules'));
  writeFileSync(path.join(project, 'jest.config.mjs'), `export default { preset: '@shipgate/test-harness/jest', testEnvironment: 'node', transform: {}, testMatch: ['**/tests/*.test.mjs'], globals: { shipgateTestHarness: { provider: 'postgres', seed: '../db/seed.sql', serverDir: ${JSON.stringify(serverDir)} } } };\n`);
  for (const part of [1, 2, 3, 4]) {
    writeFileSync(
      path.join(project, 'tests', `part${part}.test.mjs`),
      `import { expect, test } from '@jest/globals';\nimport { useTestDatabase } from '@shipgate/test-harness/jest';\nconst db = useTestDatabase();\nfor (let i = 0; i < 250; i += 1) {\n  test('test ' + i, async () => {\n    const { rows } = await db.client.query("SELECT count(*)::int AS n FROM public.actor WHERE first_name = 'bench'");\n    expect(rows[0].n).toBe(0);\n    await db.client.query("INSERT INTO public.actor (first_name, last_name) VALUES ('bench', 'x')");\n  });\n}\n`,
    );
  }
  const jest = path.join(repo, 'node_modules/jest/bin/jest.js');
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--experimental-vm-modules', '--no-warnings', jest, '--maxWorkers=2', '--silent'], { cwd: project, encoding: 'utf8', timeout: 600_000 });
  const seconds = (performance.now() - t) / 1000;
  const passed = Number(/Tests:\s+(\d+) passed/.exec(r.stderr)?.[1] ?? 0);
  if (r.status !== 0) throw new Error(`the 1,000 tests failed:\n${r.stderr.slice(-3000)}`);
  console.error(`  1,000 isolated tests seeded from the dump (postgres, 2 workers): ${passed} passed in ${seconds.toFixed(1)} s`);
  return { seconds, passed };
}

// ---------------------------------------------------------------- run
// Node can find its event loop empty while Testcontainers waits on Docker (seen here now and then
// with an unsettled top-level await): hold the process open until the run is done.
const keepAlive = setInterval(() => undefined, 60_000);
const server = await startPostgres({ baseDir: serverDir });
try {
  const admin = await PgSqlClient.connect(server.adminUrl);
  const source = label('shipgate_t_benchsrc');
  try {
    await freshDatabase(admin, source);
    const c = await PgSqlClient.connect(urlFor(server.adminUrl, source));
    await c.exec(`SET sample.scale = '1';\n${readFileSync(path.join(here, '../test/fixtures/pgdump/sample-db.sql'), 'utf8')}`);
    let counted = 0;
    for (const { t } of (await c.query(`SELECT oid::regclass::text AS t FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace`)).rows) {
      counted += (await c.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n;
    }
    await c.close();
    const url = new URL(urlFor(server.adminUrl, source));
    const password = decodeURIComponent(url.password);
    url.password = '';
    execFileSync(path.join(bin, 'pg_dump'), ['-f', dumpFile, url.toString()], { env: { ...process.env, PGPASSWORD: password } });
    const text = readFileSync(dumpFile, 'utf8');
    console.error(`dump: 22 tables (payment partitioned into 6), ${counted} rows in ${(text.match(/^COPY /gm) ?? []).length} COPY blocks, ${(text.length / 1e6).toFixed(1)} MB; ${execFileSync(path.join(bin, 'pg_dump'), ['--version'], { encoding: 'utf8' }).trim()}${quick ? ' (quick run)' : ''}`);
  } finally {
    await dropDatabase(admin, source).catch(() => undefined);
    await admin.close();
  }
  const load = await loadComparison(server);
  await server.stop();

  const pg = await handOut('postgres');
  let tc;
  if (spawnSync('docker', ['image', 'inspect', process.env.SHIPGATE_TEST_PG_IMAGE ?? 'shipgate/postgres:15-bookworm'], { stdio: 'ignore', timeout: 20_000 }).status === 0) tc = await handOut('testcontainers');
  else console.error('  testcontainers: skipped (no Docker engine or no shipgate/postgres image: bash test-harness/scripts/build-postgres-image.sh)');
  const thousand = quick ? undefined : thousandTests();
  const cores = os.availableParallelism();

  console.log(`\n| what | n | p50 ms | p95 ms |\n| --- | ---: | ---: | ---: |`);
  for (const r of rows) console.log(`| ${r.name} | ${r.n} | ${ms(r.p50)} | ${ms(r.p95)} |`);
  console.log(`\n| target | measured | met |\n| --- | --- | --- |`);
  console.log(`| the 50k-row COPY dump loads at least as fast as psql -f (p50) | ${ms(load.ours)} ms vs ${ms(load.psql)} ms (${(load.psql / load.ours).toFixed(2)}×) | ${load.ours <= load.psql ? 'yes' : 'NO'} |`);
  console.log(`| postgres: pooled clone ≥ 50× faster than psql -f per test (p50) | ${(pg.psql / pg.pooled).toFixed(0)}× | ${pg.psql / pg.pooled >= 50 ? 'yes' : 'NO'} |`);
  if (tc) console.log(`| testcontainers: pooled clone ≥ 50× faster than psql -f per test (p50) | ${(tc.psql / tc.pooled).toFixed(0)}× | ${tc.psql / tc.pooled >= 50 ? 'yes' : 'NO'} |`);
  if (thousand) console.log(`| 1,000 isolated tests seeded from the dump ≤ 30 s on 2 cores | ${thousand.passed} tests in ${thousand.seconds.toFixed(1)} s on ${cores} cores | ${thousand.seconds <= 30 && thousand.passed >= 1000 ? 'yes' : 'NO'} |`);
  console.log(`\nNode ${process.versions.node}, ${cores} CPUs, ${os.cpus()[0]?.model ?? ''}`);
} finally {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
  rmSync(serverDir, { recursive: true, force: true });
  clearInterval(keepAlive);
}

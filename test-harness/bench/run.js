// Test-harness benchmark (npm run bench -w test-harness; needs `npm run build` first).
//
// On a generated, realistic schema — 48 tables with foreign keys and indexes, 6 enums, 6 views,
// 4 functions with 8 triggers, 12,000+ seed rows — measures, in one run on this machine, the time
// to hand a test a fresh database:
//   - postgres provider, pooled template clone (the harness's way) vs re-running migrations + seed
//     per test on the same server;
//   - pglite provider: rolled-back transaction (its default), a new instance from the template
//     dump (isolation file), vs re-migrating a new instance;
//   - testcontainers provider (when a Docker engine and the image are there): pooled clone, vs a
//     new container per test file (start + migrate + seed);
// and runs 1,000 isolated tests of examples/orders-service on the postgres provider.
// Prints p50 / p95 and the ratios against the targets.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { openHarness, prepareHarness } from '../dist/index.js';
import { applyMigrations } from '../dist/migrations/apply.js';
import { discoverMigrations } from '../dist/migrations/discover.js';
import { applySeed, loadSeed } from '../dist/migrations/seed.js';
import { PgliteSqlClient, PgSqlClient } from '../dist/sql/client.js';
import { ownDatabaseName, urlFor } from '../dist/providers/server.js';
import { MysqlSqlClient } from '../dist/sql/mysql.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const repo = path.resolve(here, '../..');
const quick = process.argv.includes('--quick');
const n = (full, small) => (quick ? small : full);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const rows = [];
function record(name, samples) {
  rows.push({ name, n: samples.length, p50: pct(samples, 50), p95: pct(samples, 95) });
  console.error(`  ${name}: p50 ${ms(pct(samples, 50))} ms, p95 ${ms(pct(samples, 95))} ms (n=${samples.length})`);
  return pct(samples, 50);
}

// ---------------------------------------------------------------- the schema
// The generated schemas (Postgres and MariaDB): 47 tables t00…t46, each but the first pointing at a
// parent (a binary tree), 1,000 rows in the first 7 and 120 in the others, and 6 views joining a
// table with one of its children. Both dialects accept the same view SQL.
const tableName = (i) => `t${String(i).padStart(2, '0')}`;
const parentOf = (i) => (i > 0 ? tableName(Math.floor((i - 1) / 2)) : undefined);
const rowsOf = (i) => (i < 7 ? 1000 : 120);
function benchViews() {
  return Array.from({ length: 6 }, (_, v) => {
    const [a, b] = [tableName(v), tableName(2 * v + 1)];
    return `CREATE OR REPLACE VIEW v${v} AS SELECT a.id, a.name, count(b.id) AS children, coalesce(sum(b.amount), 0) AS total FROM ${a} a LEFT JOIN ${b} b ON b.${a}_id = a.id GROUP BY a.id, a.name;`;
  });
}

function generateProject() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-th-bench-'));
  mkdirSync(path.join(dir, 'db/migrations'), { recursive: true });
  mkdirSync(path.join(dir, 'db/seed'), { recursive: true });
  const enums = ['status', 'tier', 'region', 'channel', 'priority', 'kind'];
  const v1 = enums.map((e, i) => `CREATE TYPE ${e}_t AS ENUM (${['a', 'b', 'c', 'd'].map((x) => `'${e}_${x}${i}'`).join(', ')});`);
  v1.push(`CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;`);
  v1.push(`CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit_log (tbl, op, at) VALUES (TG_TABLE_NAME, TG_OP, now()); RETURN NEW; END $$;`);
  v1.push(`CREATE FUNCTION positive(x numeric) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT x >= 0 $$;`);
  v1.push(`CREATE FUNCTION slugify(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(regexp_replace(t, '[^a-zA-Z0-9]+', '-', 'g')) $$;`);
  v1.push(`CREATE TABLE audit_log (id bigserial PRIMARY KEY, tbl text NOT NULL, op text NOT NULL, at timestamptz NOT NULL);`);
  const tables = 47;
  const ddl = [];
  const seed = [];
  let seedRows = 0;
  for (let i = 0; i < tables; i += 1) {
    const t = tableName(i);
    const parent = parentOf(i);
    const e = enums[i % enums.length];
    ddl.push(
      `CREATE TABLE ${t} (\n  id bigserial PRIMARY KEY,\n  ${parent ? `${parent}_id bigint NOT NULL REFERENCES ${parent} (id) ON DELETE CASCADE,\n  ` : ''}name text NOT NULL,\n  slug text GENERATED ALWAYS AS (slugify(name)) STORED,\n  state ${e}_t NOT NULL DEFAULT '${e}_a${i % enums.length}',\n  amount numeric(12,2) NOT NULL DEFAULT 0 CHECK (positive(amount)),\n  payload jsonb NOT NULL DEFAULT '{}',\n  created_at timestamptz NOT NULL DEFAULT now(),\n  updated_at timestamptz NOT NULL DEFAULT now(),\n  UNIQUE (name)\n);`,
      `CREATE INDEX ${t}_state_created ON ${t} (state, created_at);`,
      parent ? `CREATE INDEX ${t}_parent ON ${t} (${parent}_id);` : `CREATE INDEX ${t}_payload ON ${t} USING gin (payload);`,
    );
    if (i % 6 === 0) ddl.push(`CREATE TRIGGER ${t}_touch BEFORE UPDATE ON ${t} FOR EACH ROW EXECUTE FUNCTION touch();`);
    if (i % 12 === 1) ddl.push(`CREATE TRIGGER ${t}_audit AFTER INSERT ON ${t} FOR EACH ROW EXECUTE FUNCTION audit();`);
    const count = rowsOf(i);
    seed.push(
      `INSERT INTO ${t} (${parent ? `${parent}_id, ` : ''}name, amount, payload) SELECT ${parent ? `1 + (g % (SELECT count(*) FROM ${parent})), ` : ''}'${t} item ' || g, (g % 997) / 10.0, jsonb_build_object('g', g) FROM generate_series(1, ${count}) g;`,
    );
    seedRows += count;
  }
  const views = benchViews();
  writeFileSync(path.join(dir, 'db/migrations/V1__types_and_functions.sql'), `${v1.join('\n')}\n`);
  writeFileSync(path.join(dir, 'db/migrations/V2__tables.sql'), `${ddl.slice(0, Math.floor(ddl.length / 2)).join('\n')}\n`);
  writeFileSync(path.join(dir, 'db/migrations/V3__more_tables.sql'), `${ddl.slice(Math.floor(ddl.length / 2)).join('\n')}\n`);
  writeFileSync(path.join(dir, 'db/migrations/R__views.sql'), `${views.join('\n')}\n`);
  writeFileSync(path.join(dir, 'db/seed/001_data.sql'), `${seed.join('\n')}\n`);
  return { dir, tables: tables + 1, enums: enums.length, views: views.length, seedRows };
}

/** The same shape in MariaDB SQL: ENUM columns, generated columns, JSON, functions and triggers (DELIMITER). */
function generateMysqlProject() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-th-bench-my-'));
  mkdirSync(path.join(dir, 'db/migrations'), { recursive: true });
  mkdirSync(path.join(dir, 'db/seed'), { recursive: true });
  const enums = ['status', 'tier', 'region', 'channel', 'priority', 'kind'];
  const enumType = (i) => `ENUM(${['a', 'b', 'c', 'd'].map((x) => `'${enums[i % 6]}_${x}'`).join(', ')})`;
  const v1 = [
    'CREATE TABLE audit_log (id BIGINT AUTO_INCREMENT PRIMARY KEY, tbl VARCHAR(64) NOT NULL, op VARCHAR(16) NOT NULL, at TIMESTAMP(3) NOT NULL);',
    'DELIMITER $$',
    "CREATE FUNCTION slugify(t VARCHAR(200)) RETURNS VARCHAR(200) DETERMINISTIC BEGIN RETURN LOWER(REPLACE(t, ' ', '-')); END$$",
    'CREATE FUNCTION positive(x DECIMAL(12,2)) RETURNS BOOLEAN DETERMINISTIC BEGIN RETURN x >= 0; END$$',
    'DELIMITER ;',
  ];
  const ddl = [];
  const seed = [];
  let seedRows = 0;
  let triggers = 0;
  for (let i = 0; i < 47; i += 1) {
    const t = tableName(i);
    const parent = parentOf(i);
    ddl.push(
      `CREATE TABLE ${t} (id BIGINT AUTO_INCREMENT PRIMARY KEY, ${parent ? `${parent}_id BIGINT NOT NULL, ` : ''}name VARCHAR(120) NOT NULL UNIQUE, slug VARCHAR(120) AS (LOWER(REPLACE(name, ' ', '-'))) STORED, state ${enumType(i)} NOT NULL DEFAULT '${enums[i % 6]}_a', amount DECIMAL(12,2) NOT NULL DEFAULT 0 CHECK (amount >= 0), payload JSON NOT NULL DEFAULT '{}', created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), INDEX ${t}_state_created (state, created_at)${parent ? `, CONSTRAINT ${t}_parent FOREIGN KEY (${parent}_id) REFERENCES ${parent} (id) ON DELETE CASCADE` : ''});`,
    );
    if (i % 6 === 0) {
      ddl.push('DELIMITER $$', `CREATE TRIGGER ${t}_touch BEFORE UPDATE ON ${t} FOR EACH ROW BEGIN SET NEW.updated_at = CURRENT_TIMESTAMP(3); END$$`, 'DELIMITER ;');
      triggers += 1;
    }
    if (i % 12 === 1) {
      ddl.push('DELIMITER $$', `CREATE TRIGGER ${t}_audit AFTER INSERT ON ${t} FOR EACH ROW BEGIN INSERT INTO audit_log (tbl, op, at) VALUES ('${t}', 'INSERT', CURRENT_TIMESTAMP(3)); END$$`, 'DELIMITER ;');
      triggers += 1;
    }
    const count = rowsOf(i);
    seed.push(`INSERT INTO ${t} (${parent ? `${parent}_id, ` : ''}name, amount, payload) SELECT ${parent ? `1 + (seq % (SELECT COUNT(*) FROM ${parent})), ` : ''}CONCAT('${t} item ', seq), (seq % 997) / 10.0, JSON_OBJECT('g', seq) FROM seq_1_to_${count};`);
    seedRows += count;
  }
  const views = benchViews();
  writeFileSync(path.join(dir, 'db/migrations/V1__functions.sql'), `${v1.join('\n')}\n`);
  writeFileSync(path.join(dir, 'db/migrations/V2__tables.sql'), `${ddl.join('\n')}\n`);
  writeFileSync(path.join(dir, 'db/migrations/R__views.sql'), `${views.join('\n')}\n`);
  writeFileSync(path.join(dir, 'db/seed/001_data.sql'), `${seed.join('\n')}\n`);
  return { dir, tables: 48, enums: 6, views: views.length, triggers, seedRows, engine: 'mariadb' };
}

/** A small but real test: two reads and a write. */
async function testWork(client) {
  await client.query('SELECT count(*) FROM t03 WHERE state IS NOT NULL');
  await client.query(client.dialect === 'mysql' ? "INSERT INTO t00 (name) VALUES (CONCAT('bench ', RAND()))" : "INSERT INTO t00 (name) VALUES ('bench ' || random())");
  await client.query('SELECT * FROM v0 ORDER BY id LIMIT 5');
}

async function remigrate(client, project) {
  const migrations = await discoverMigrations(path.join(project.dir, 'db/migrations'));
  await applyMigrations(client, migrations, 'db/migrations');
  await applySeed(client, await loadSeed('db/seed', project.dir));
}

const timed = async (fn) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

// ---------------------------------------------------------------- providers
/** How long each of a run of tests waits for its database; each test does its work, then waits `pauseMs`. */
async function acquireTimes(harness, pauseMs) {
  const times = [];
  for (let i = 0; i < n(200, 40); i += 1) {
    let db;
    times.push(await timed(async () => (db = await harness.acquire())));
    await testWork(db.client);
    if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
    await db.release();
  }
  return times;
}

async function benchServer(provider, project, label) {
  const prepared = await prepareHarness({ provider, migrations: 'db/migrations', seed: 'db/seed', cwd: project.dir, ...(project.engine ? { engine: project.engine } : {}) });
  const result = {};
  try {
    const harness = openHarness(prepared.state);
    const warm = await harness.acquire(); // the pool's first clone
    await warm.release();
    // back to back: tests that take ~2 ms leave the pool no time to refill
    result.backToBack = record(`${label}: pooled template clone, 2 ms tests back to back`, await acquireTimes(harness, 0));
    // tests that also wait 20 ms on I/O (an HTTP round trip, a queue): the pool refills meanwhile
    result.pooled = record(`${label}: pooled template clone, tests of 20 ms or more`, await acquireTimes(harness, 20));
    await harness.close();

    const mysql = project.engine === 'mariadb';
    const admin = mysql ? await MysqlSqlClient.connect(prepared.state.adminUrl) : await PgSqlClient.connect(prepared.state.adminUrl);
    const again = [];
    for (let i = 0; i < n(10, 3); i += 1) {
      const name = ownDatabaseName(prepared.state.run, `r${i}`); // marked: a killed bench leaves nothing unreapable
      again.push(
        await timed(async () => {
          await admin.query(`CREATE DATABASE ${name}`);
          const url = urlFor(prepared.state.adminUrl, name);
          const c = mysql ? await MysqlSqlClient.connect(url) : await PgSqlClient.connect(url);
          await remigrate(c, project);
          await c.close();
        }),
      );
      await admin.query(`DROP DATABASE ${name}`);
    }
    await admin.close();
    result.remigrate = record(`${label}: re-run migrations + seed per test`, again);
  } finally {
    await prepared.stop();
  }
  return result;
}

async function benchPglite(project) {
  const prepared = await prepareHarness({ provider: 'pglite', migrations: 'db/migrations', seed: 'db/seed', cwd: project.dir, cacheDir: path.join(project.dir, '.cache') });
  const harness = openHarness({ ...prepared.state, poolSize: 1 });
  const db = await harness.acquire();
  const tx = [];
  for (let i = 0; i < n(200, 40); i += 1) {
    tx.push(await timed(() => db.client.exec('BEGIN')));
    await testWork(db.client);
    await db.client.exec('ROLLBACK');
  }
  await db.release();
  const result = { transaction: record('pglite: rolled-back transaction (default isolation)', tx) };
  const clones = [];
  for (let i = 0; i < n(8, 3); i += 1) {
    let c;
    clones.push(await timed(async () => (c = await harness.acquire())));
    await c.release();
  }
  await harness.close();
  result.instance = record('pglite: new instance from the template dump (isolation file)', clones);
  const again = [];
  for (let i = 0; i < n(5, 2); i += 1) {
    again.push(
      await timed(async () => {
        const c = new PgliteSqlClient(await PGlite.create());
        await remigrate(c, project);
        await c.close();
      }),
    );
  }
  result.remigrate = record('pglite: new instance + migrations + seed per test', again);
  return result;
}

function dockerReady(image = process.env.SHIPGATE_TEST_PG_IMAGE ?? 'shipgate/postgres:15-bookworm') {
  return spawnSync('docker', ['image', 'inspect', image], { stdio: 'ignore', timeout: 20_000 }).status === 0;
}

async function benchContainerPerFile(project) {
  const { startContainerServer } = await import('../dist/providers/testcontainers.js');
  const samples = [];
  for (let i = 0; i < n(3, 1); i += 1) {
    samples.push(
      await timed(async () => {
        const server = await startContainerServer();
        try {
          const c = await PgSqlClient.connect(server.adminUrl);
          await remigrate(c, project);
          await c.close();
        } finally {
          await server.stop();
        }
      }),
    );
  }
  return record('testcontainers: new container per test file (start + migrate + seed)', samples);
}

function exampleThousand(provider) {
  const example = path.join(repo, 'examples/orders-service');
  const jest = path.join(repo, 'node_modules/jest/bin/jest.js');
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--experimental-vm-modules', '--no-warnings', jest, '-c', 'jest.integration.config.js', '--silent', 'isolation'], {
    cwd: example,
    encoding: 'utf8',
    env: { ...process.env, SHIPGATE_TEST_PROVIDER: provider, ORDERS_TEST_REPEAT: '1000' },
    timeout: 600_000,
  });
  const seconds = (performance.now() - t) / 1000;
  const passed = /Tests:\s+(\d+) passed/.exec(r.stderr)?.[1];
  if (r.status !== 0) throw new Error(`the example's integration tests failed on ${provider}:\n${r.stderr.slice(-2000)}`);
  console.error(`  examples/orders-service, ${passed} isolated tests on ${provider}: ${seconds.toFixed(1)} s`);
  return { seconds, passed: Number(passed) };
}

// ---------------------------------------------------------------- run
const project = generateProject();
console.error(`schema: ${project.tables} tables, ${project.enums} enums, ${project.views} views, 4 functions, triggers; ${project.seedRows} seed rows${quick ? ' (quick run)' : ''}`);
try {
  const pg = await benchServer('postgres', project, 'postgres');
  await benchPglite(project);
  let tc;
  if (dockerReady()) {
    tc = await benchServer('testcontainers', project, 'testcontainers');
    tc.perFile = await benchContainerPerFile(project);
  } else {
    console.error('  testcontainers: skipped (no Docker engine or no shipgate/postgres image: bash test-harness/scripts/build-postgres-image.sh)');
  }
  let maria;
  if (dockerReady(process.env.SHIPGATE_TEST_MARIADB_IMAGE ?? 'shipgate/mariadb:10.11-bookworm')) {
    const mysqlProject = generateMysqlProject();
    console.error(`MariaDB schema: ${mysqlProject.tables} tables, ${mysqlProject.enums} ENUM types, ${mysqlProject.views} views, 2 functions, ${mysqlProject.triggers} triggers; ${mysqlProject.seedRows} seed rows`);
    try {
      maria = await benchServer('testcontainers', mysqlProject, 'testcontainers (MariaDB)');
    } finally {
      rmSync(mysqlProject.dir, { recursive: true, force: true });
    }
  } else {
    console.error('  testcontainers (MariaDB): skipped (no Docker engine or no shipgate/mariadb image: bash test-harness/scripts/build-mariadb-image.sh)');
  }
  const thousand = exampleThousand('postgres');
  const cores = os.availableParallelism();

  console.log(`\n| what | n | p50 ms | p95 ms |\n| --- | ---: | ---: | ---: |`);
  for (const r of rows) console.log(`| ${r.name} | ${r.n} | ${ms(r.p50)} | ${ms(r.p95)} |`);
  const ratio = pg.remigrate / pg.pooled;
  const ratioB2b = pg.remigrate / pg.backToBack;
  console.log(`\n| target | measured | met |\n| --- | --- | --- |`);
  console.log(`| postgres pooled clone p50 ≤ 5 ms (tests of 20 ms or more) | ${ms(pg.pooled)} ms | ${pg.pooled <= 5 ? 'yes' : 'NO'} |`);
  console.log(`| postgres pooled clone p50 ≤ 5 ms (2 ms tests back to back) | ${ms(pg.backToBack)} ms | ${pg.backToBack <= 5 ? 'yes' : 'NO'} |`);
  console.log(`| pooled clone ≥ 50× faster than re-migrating, p50 (tests of 20 ms or more) | ${ratio.toFixed(0)}× | ${ratio >= 50 ? 'yes' : 'NO'} |`);
  console.log(`| pooled clone ≥ 50× faster than re-migrating, p50 (back to back) | ${ratioB2b.toFixed(0)}× | ${ratioB2b >= 50 ? 'yes' : 'NO'} |`);
  if (tc) console.log(`| (testcontainers) pooled clone vs new container per file (p50) | ${(tc.perFile / tc.pooled).toFixed(0)}× | — |`);
  if (maria) console.log(`| (MariaDB) pooled clone vs re-migrating, p50 (tests of 20 ms or more / back to back) | ${(maria.remigrate / maria.pooled).toFixed(0)}× / ${(maria.remigrate / maria.backToBack).toFixed(0)}× | — |`);
  console.log(`| 1,000 isolated tests of the example ≤ 30 s on 2 cores | ${thousand.passed} tests in ${thousand.seconds.toFixed(1)} s on ${cores} cores | ${thousand.seconds <= 30 && thousand.passed >= 1000 ? 'yes' : 'NO'} |`);
  console.log(`\nNode ${process.versions.node}, ${cores} CPUs, ${os.cpus()[0]?.model ?? ''}`);
} finally {
  rmSync(project.dir, { recursive: true, force: true });
}

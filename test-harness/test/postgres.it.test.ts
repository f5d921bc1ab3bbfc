// The postgres and url providers against a real Postgres server started by the harness.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openHarness, prepareHarness, type PreparedHarness } from '../src/harness.js';
import { isClearlyTestServer, connectUrlServer } from '../src/providers/url.js';
import { PgSqlClient } from '../src/sql/client.js';
import { cleanup, postgresAvailable, project, runThenKill, schema } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.join(here, 'fixtures/project');
const enabled = postgresAvailable();
const describeIf = enabled ? describe : describe.skip;

afterAll(cleanup);

async function databases(adminUrl: string): Promise<string[]> {
  const admin = await PgSqlClient.connect(adminUrl);
  try {
    return (await admin.query<{ datname: string }>('SELECT datname FROM pg_database ORDER BY datname')).rows.map((r) => r.datname);
  } finally {
    await admin.close();
  }
}

describe('url provider safety', () => {
  it.each([
    ['postgres://u:p@127.0.0.1:5432/app', true],
    ['postgres://u:p@localhost/app', true],
    ['postgres://u:p@[::1]:5432/app', true],
    ['postgres:///app?host=/var/run/postgresql', true],
    ['not a url', false],
    ['postgres://u:p@db-test.internal:5432/app', true],
    ['postgres://u:p@db.internal:5432/app_ci', true],
    ['postgres://u:p@prod-db.example.com:5432/orders', false],
    ['postgres://u:p@10.0.0.5:5432/contest', false],
  ])('%s is clearly a test server: %s', (url, expected) => {
    expect(isClearlyTestServer(url)).toBe(expected);
  });

  it('refuses a server that is not clearly for tests without an opt-in, before connecting, and masks the password', async () => {
    await expect(connectUrlServer('postgres://admin:hunter22@prod-db.example.com:5432/orders')).rejects.toMatchObject({
      code: 'db.not-a-test-server',
      message: expect.not.stringContaining('hunter22'),
    });
  });
});

describeIf('postgres provider (a real server the harness starts)', () => {
  let prepared: PreparedHarness;
  let dir: string;

  beforeAll(async () => {
    dir = project(schema);
    prepared = await prepareHarness({ provider: 'postgres', migrations: 'db/migrations', seed: 'db/seed', cwd: dir });
  });
  afterAll(async () => {
    await prepared?.stop();
  });

  it('hands out distinct clones with the seed; writes in one are invisible to others', async () => {
    const harness = openHarness(prepared.state);
    const [a, b] = await Promise.all([harness.acquire(), harness.acquire()]);
    expect(a.name).not.toBe(b.name);
    expect(a.url).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/shipgate_t_/);
    await a.client.query("INSERT INTO customers (name) VALUES ('only in a')");
    expect((await a.client.query('SELECT count(*)::int AS n FROM customers')).rows).toEqual([{ n: 3 }]);
    expect((await b.client.query('SELECT count(*)::int AS n FROM customers')).rows).toEqual([{ n: 2 }]);
    expect((await b.client.query('SELECT total FROM totals')).rows).toEqual([{ total: 15 }]);
    await a.release();
    await b.release();
    await harness.close();
    // (the cluster is kept between runs: look only at this process's clones)
    const left = (await databases(prepared.state.adminUrl!)).filter((d) => d.includes(`_${process.pid}_`));
    expect(left).toEqual([]);
  });

  it('never touches a database it did not create, even one named like its own', async () => {
    const suffix = `${process.pid}x${Date.now()}`;
    const foreign = [`shipgate_t_0a7c9c_1_${suffix}`, `app_data_${suffix}`];
    const admin = await PgSqlClient.connect(prepared.state.adminUrl!);
    try {
      for (const name of foreign) await admin.exec(`CREATE DATABASE ${name}`);
      const again = await prepareHarness({ provider: 'url', url: prepared.state.adminUrl!, migrations: 'db/migrations', seed: 'db/seed', cwd: dir });
      await again.stop(); // reaps, drops its run's clones
      expect(await databases(prepared.state.adminUrl!)).toEqual(expect.arrayContaining(foreign));
    } finally {
      for (const name of foreign) await admin.exec(`DROP DATABASE IF EXISTS ${name}`);
      await admin.close();
    }
  });

  it('the url provider reuses the template and creates only its own clones', async () => {
    const viaUrl = await prepareHarness({ provider: 'url', url: prepared.state.adminUrl!, migrations: 'db/migrations', seed: 'db/seed', cwd: dir });
    expect(viaUrl.state.built).toBe(false);
    const harness = openHarness(viaUrl.state);
    const db = await harness.acquire();
    expect((await db.client.query('SELECT name FROM customers ORDER BY id')).rows).toEqual([{ name: 'ada' }, { name: 'linus' }]);
    await harness.close();
    await viaUrl.stop();
  });

  it('databases left by a killed run are reaped at the next start', async () => {
    const serverDir = project({});
    const { held } = await runThenKill<{ adminUrl: string; clones: string[] }>(path.join(here, 'fixtures/hold-clones.mjs'), [fixture, serverDir], 60_000);
    expect(held.clones).toHaveLength(2);

    // the next run on the same cluster restarts the server the killed run left and reaps its clones
    const next = await prepareHarness({ provider: 'postgres', migrations: 'db/migrations', seed: 'db/seed', cwd: fixture, serverDir });
    try {
      const names = await databases(next.state.adminUrl!);
      for (const clone of held.clones) expect(names).not.toContain(clone);
      expect(names).toContain(next.state.template);
    } finally {
      await next.stop();
    }
  });
});

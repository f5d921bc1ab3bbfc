// MariaDB through the testcontainers provider (engine: mariadb), on the image built locally from
// Debian packages (test-harness/scripts/build-mariadb-image.sh), host networking on loopback.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openHarness, prepareHarness, type PreparedHarness } from '../src/harness.js';
import { MysqlSqlClient } from '../src/sql/mysql.js';
import { cleanup, mariadbAvailable, mariadbSchema, project, runThenKill } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const describeIf = mariadbAvailable() ? describe : describe.skip;

afterAll(cleanup);

describeIf('MariaDB (testcontainers provider, engine mariadb)', () => {
  let prepared: PreparedHarness;
  const dir = project(mariadbSchema);

  beforeAll(async () => {
    prepared = await prepareHarness({ provider: 'testcontainers', engine: 'mariadb', migrations: 'db/migrations', seed: 'db/seed', cwd: dir });
  }, 120_000);
  afterAll(async () => {
    await prepared?.stop();
  }, 60_000);

  it('clones carry the seed, keys, generated columns, views, triggers and functions, and are independent', async () => {
    expect(prepared.state).toMatchObject({ engine: 'mariadb', built: true, isolation: 'test' });
    expect(prepared.state.adminUrl).toMatch(/^mysql:\/\/root:[^@]+@127\.0\.0\.1:\d+\/$/);
    const harness = openHarness(prepared.state);
    try {
      const a = await harness.acquire();
      const b = await harness.acquire();
      expect(a.name).not.toBe(b.name);
      expect(a.url).toMatch(new RegExp(`/${a.name}$`));
      expect((await a.client.query('SELECT name, tier, slug FROM customers ORDER BY id')).rows).toEqual([
        { name: 'Ada', tier: 'pro', slug: 'ada' },
        { name: 'Linus', tier: 'free', slug: 'linus' },
      ]);
      // the trigger fired in the template's seed, and fires in the clone
      await a.client.query('INSERT INTO orders (customer_id, total) VALUES (?, ?)', [2, 7]);
      expect((await a.client.query('SELECT customer_id, n FROM order_counts ORDER BY customer_id')).rows).toEqual([
        { customer_id: 1, n: 2 },
        { customer_id: 2, n: 1 },
      ]);
      // the view reads the clone's own tables; the function exists
      expect((await a.client.query('SELECT customer_id, CAST(total AS SIGNED) AS total, with_tax(total) AS taxed FROM totals ORDER BY customer_id')).rows).toEqual([
        { customer_id: 1, total: 15, taxed: 18 },
        { customer_id: 2, total: 7, taxed: 8 },
      ]);
      expect((await b.client.query('SELECT COUNT(*) AS n FROM orders')).rows).toEqual([{ n: 2 }]);
      // the foreign key came along
      await expect(a.client.query('INSERT INTO orders (customer_id, total) VALUES (99, 1)')).rejects.toMatchObject({ code: 'ER_NO_REFERENCED_ROW_2' });
      await a.release();
      await b.release();
    } finally {
      await harness.close();
    }
    const admin = await MysqlSqlClient.connect(prepared.state.adminUrl!);
    try {
      const names = (await admin.query<{ n: string }>("SELECT schema_name AS n FROM information_schema.schemata WHERE schema_name LIKE 'shipgate_t%'")).rows.map((r) => r.n);
      expect(names).toEqual([prepared.state.template]); // clones dropped, template kept
    } finally {
      await admin.close();
    }
  }, 120_000);

  it('a failing migration names the file, the line of the failing statement and the server error', async () => {
    const bad = project({ ...mariadbSchema, 'db/migrations/V3__bad.sql': 'ALTER TABLE customers ADD COLUMN note TEXT;\n\nALTER TABLE missing ADD COLUMN x INT;\n' });
    const url = prepared.state.adminUrl!;
    await expect(prepareHarness({ provider: 'url', url, migrations: 'db/migrations', cwd: bad })).rejects.toMatchObject({
      code: 'db.migration-failed',
      message: expect.stringMatching(/^migration failed: Table '.*missing' doesn't exist \(ER_NO_SUCH_TABLE 1146, SQLSTATE 42S02\)$/),
      location: { file: 'db/migrations/V3__bad.sql', line: 3, column: 1 },
    });
  }, 60_000);

  it('never drops a database it did not create; clones of a killed run are reaped at the next start', async () => {
    const url = prepared.state.adminUrl!;
    const admin = await MysqlSqlClient.connect(url);
    try {
      await admin.query('CREATE DATABASE IF NOT EXISTS shipgate_t_not_ours');
      const child = await runThenKill<{ clone: string }>(path.join(here, 'fixtures/hold-mariadb.mjs'), [dir, url]);
      const before = (await admin.query<{ n: string }>('SELECT schema_name AS n FROM information_schema.schemata')).rows.map((r) => r.n);
      expect(before).toContain(child.held.clone);

      const lines: string[] = [];
      const next = await prepareHarness({ provider: 'url', url, migrations: 'db/migrations', seed: 'db/seed', cwd: dir, log: (l) => lines.push(l) });
      await next.stop();
      const after = (await admin.query<{ n: string }>('SELECT schema_name AS n FROM information_schema.schemata')).rows.map((r) => r.n);
      expect(after).not.toContain(child.held.clone);
      expect(after).toContain('shipgate_t_not_ours');
      expect(lines.join('\n')).toMatch(/dropped \d+ database\(s\) left by killed runs/);
    } finally {
      await admin.query('DROP DATABASE IF EXISTS shipgate_t_not_ours');
      await admin.close();
    }
  }, 120_000);
});

// The pglite provider end to end: template built once by content hash, kept on disk, each
// database a fresh copy; failing migrations point at file:line:col.
import { afterEach, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { openHarness, prepareHarness } from '../src/harness.js';
import type { ShipgateError } from '@shipgate/protocol';
import { cleanup, project, schema } from './helpers.js';

afterEach(cleanup);

describe('pglite provider', () => {
  it('builds the template once, reuses it by content hash, and hands out independent databases', async () => {
    const dir = project(schema);
    const config = { provider: 'pglite' as const, migrations: 'db/migrations', seed: 'db/seed', cwd: dir };
    const first = await prepareHarness(config);
    expect(first.state.built).toBe(true);
    expect(first.state.isolation).toBe('transaction');

    const harness = openHarness(first.state);
    const a = await harness.acquire();
    const b = await harness.acquire();
    await a.client.query("INSERT INTO customers (name) VALUES ('only in a')");
    expect((await a.client.query<{ n: number }>('SELECT count(*)::int AS n FROM customers')).rows[0]!.n).toBe(3);
    expect((await b.client.query<{ n: number }>('SELECT count(*)::int AS n FROM customers')).rows[0]!.n).toBe(2);
    expect((await b.client.query('SELECT customer_id, total FROM totals')).rows).toEqual([{ customer_id: 1, total: 15 }]);
    await a.release();
    await b.release();
    await harness.close();

    const again = await prepareHarness(config);
    expect(again.state.built).toBe(false);
    expect(again.state.key).toBe(first.state.key);

    // a changed migration is a new template
    writeFileSync(path.join(dir, 'db/migrations/V1.2__notes.sql'), 'ALTER TABLE orders ADD COLUMN note text;\n');
    const changed = await prepareHarness(config);
    expect(changed.state.built).toBe(true);
    expect(changed.state.key).not.toBe(first.state.key);
  });

  it('a failing migration names the file, the line and column of the failing statement and the server error', async () => {
    const dir = project({
      'db/migrations/V1__ok.sql': 'CREATE TABLE a (id int);\n',
      'db/migrations/V2__bad.sql': '-- adds b\nCREATE TABLE b (id int);\n\nALTER TABLE missing ADD COLUMN x int;\n',
    });
    const error = (await prepareHarness({ provider: 'pglite', migrations: 'db/migrations', cwd: dir }).catch((e: unknown) => e)) as ShipgateError;
    expect(error).toMatchObject({ code: 'db.migration-failed', location: { file: 'db/migrations/V2__bad.sql', line: 4, column: 1 } });
    // file:line once, in front, as every door prints it
    expect(error.format()).toMatch(/^db\/migrations\/V2__bad\.sql:4:1: migration failed: relation "missing" does not exist \(SQLSTATE 42P01\) \[db\.migration-failed\]/);
    expect(error.format().match(/V2__bad\.sql/g)).toHaveLength(1);
  });

  it('a seed can be a TypeScript module that gets the client', async () => {
    const dir = project({
      'package.json': '{ "type": "module" }\n',
      'db/migrations/V1__t.sql': 'CREATE TABLE t (n int);\n',
      'db/seed.ts': 'export default async function seed(client: { query(sql: string, params?: unknown[]): Promise<unknown> }): Promise<void> {\n  for (let n = 1; n <= 3; n += 1) await client.query("INSERT INTO t VALUES ($1)", [n]);\n}\n',
    });
    const prepared = await prepareHarness({ provider: 'pglite', migrations: 'db/migrations', seed: 'db/seed.ts', cwd: dir });
    const harness = openHarness(prepared.state);
    const db = await harness.acquire();
    expect((await db.client.query('SELECT sum(n)::int AS s FROM t')).rows).toEqual([{ s: 6 }]);
    await harness.close();
  });

  it('rejects a command migration on pglite and an unknown provider, with the allowed values', async () => {
    await expect(prepareHarness({ provider: 'pglite', migrate: 'npx prisma migrate deploy' })).rejects.toMatchObject({ code: 'db.config' });
    await expect(prepareHarness({ provider: 'mysql' as never })).rejects.toMatchObject({ code: 'db.provider', hint: 'providers: pglite, postgres, testcontainers, url' });
  });
});

describe('errors that carry a position', () => {
  it('a syntax error points at the exact token', async () => {
    const dir = project({ 'db/migrations/001_init.sql': 'CREATE TABLE a (id int);\nCREATE TABLE b (id int,, name text);\n' });
    await expect(prepareHarness({ provider: 'pglite', migrations: 'db/migrations', cwd: dir })).rejects.toMatchObject({
      message: expect.stringMatching(/^migration failed: syntax error at or near ","/),
      location: { file: 'db/migrations/001_init.sql', line: 2, column: 24 },
    });
  });
});

// The harness as a shipgate plugin, driven through the real `shipgate` CLI: the `db-test` step in
// a shipgate.yml (a real command connecting over the Postgres wire protocol to its fresh database)
// and `shipgate db check` (migrations from zero, seed, committed schema snapshot).
import { afterEach, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { cli } from '../../pipelines/test/helpers.js';
import { dbCheck } from '../src/check/db-check.js';
import { cleanup, mariadbAvailable, mariadbSchema, postgresAvailable, project, schema } from './helpers.js';

afterEach(cleanup);


// A client program the db-test step runs: it reads $DATABASE_URL like any service would, counts the
// seeded rows, writes one row, and records what it saw in a file the test reads.
const pgPath = createRequire(import.meta.url).resolve('pg');
const client = `
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
const pg = createRequire(${JSON.stringify(pgPath)})(${JSON.stringify(pgPath)});
const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
await c.connect();
const { rows: [before] } = await c.query('SELECT count(*)::int AS n FROM customers');
await c.query("INSERT INTO customers (name, tier) VALUES ($1, 'pro')", ['grace']);
const { rows: [db] } = await c.query('SELECT current_database() AS name');
const { rows: totals } = await c.query('SELECT customer_id, total FROM totals');
await c.end();
writeFileSync(process.argv[2], JSON.stringify({ before: before.n, db: db.name, totals }));
`;

function pipeline(provider: string, command = 'node client.mjs seen-$RUN.json'): string {
  return [
    'name: db',
    'steps:',
    '  integration:',
    '    matrix: { run: [1, 2] }',
    '    uses: db-test',
    '    with:',
    `      command: ${command.replace('$RUN', '${{ matrix.run }}')}`,
    '      migrations: db/migrations',
    '      seed: db/seed',
    `      provider: ${provider}`,
  ].join('\n');
}

const mysqlPath = createRequire(import.meta.url).resolve('mysql2/promise');
const mysqlClient = `
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
const mysql = createRequire(${JSON.stringify(mysqlPath)})(${JSON.stringify(mysqlPath)});
const c = await mysql.createConnection({ uri: process.env.DATABASE_URL });
const [[before]] = await c.query('SELECT COUNT(*) AS n FROM customers');
await c.query('INSERT INTO orders (customer_id, total) VALUES (2, 3)');
const [[db]] = await c.query('SELECT DATABASE() AS name');
const [counts] = await c.query('SELECT customer_id, n FROM order_counts ORDER BY customer_id');
await c.end();
writeFileSync(process.argv[2], JSON.stringify({ scheme: process.env.DATABASE_URL.split(':')[0], before: before.n, db: db.name, counts }));
`;

describe('db-test step', () => {
  it('mariadb: DATABASE_URL is a mysql:// URL to a fresh clone on a MariaDB container', async () => {
    if (!mariadbAvailable()) return;
    const yaml = [
      'name: db',
      'steps:',
      '  integration:',
      '    uses: db-test',
      '    with: { command: node client.mjs seen.json, migrations: db/migrations, seed: db/seed, provider: testcontainers, engine: mariadb }',
    ].join('\n');
    const dir = project({ ...mariadbSchema, 'client.mjs': mysqlClient, 'shipgate.yml': yaml });
    const r = await cli(['run', '--no-cache'], dir);
    if (r.code !== 0) console.log(r.out, r.err);
    expect(r.code).toBe(0);
    const seen = JSON.parse(readFileSync(path.join(dir, 'seen.json'), 'utf8'));
    expect(seen).toMatchObject({ scheme: 'mysql', before: 2, counts: [{ customer_id: 1, n: 2 }, { customer_id: 2, n: 1 }] });
    expect(seen.db).toMatch(/^shipgate_t_/);
  }, 180_000);

  it('pglite: each matrix instance runs its command against its own fresh, migrated, seeded database', async () => {
    const dir = project({ ...schema, 'client.mjs': client, 'shipgate.yml': pipeline('pglite') });
    const r = await cli(['run', '--no-cache'], dir);
    expect(r.out).toContain('pglite: database pglite ready');
    expect(r.code).toBe(0);
    for (const n of [1, 2]) {
      const seen = JSON.parse(readFileSync(path.join(dir, `seen-${n}.json`), 'utf8'));
      // the seed is there, and the other instance's insert is not
      expect(seen).toMatchObject({ before: 2, totals: [{ customer_id: 1, total: 15 }] });
    }
  }, 120_000);

  it('postgres: same step on a real server; each instance gets its own database, dropped afterwards', async () => {
    if (!postgresAvailable()) return;
    const dir = project({ ...schema, 'client.mjs': client, 'shipgate.yml': pipeline('postgres') });
    const r = await cli(['run', '--no-cache'], dir);
    if (r.code !== 0) console.log(r.out, r.err);
    expect(r.code).toBe(0);
    const seen = [1, 2].map((n) => JSON.parse(readFileSync(path.join(dir, `seen-${n}.json`), 'utf8')));
    expect(seen.map((s) => s.before)).toEqual([2, 2]);
    expect(seen[0].db).toMatch(/^shipgate_t_/);
    expect(seen[0].db).not.toBe(seen[1].db);
  }, 120_000);

  it('a failing command fails the step with its exit code; a missing input is a config error with the field', async () => {
    const dir = project({ ...schema, 'shipgate.yml': pipeline('pglite', 'node -e "process.exit(3)"') });
    const r = await cli(['run', '--no-cache'], dir);
    expect(r.code).toBe(1);
    expect(r.out + r.err).toContain('exited with code 3');

    const bad = project({ 'shipgate.yml': 'name: x\nsteps:\n  t:\n    uses: db-test\n    with: { migrations: db, provider: sqlite }\n' });
    const v = await cli(['validate'], bad);
    expect(v.code).toBe(2);
    expect(v.err).toMatch(/shipgate\.yml:5:\d+: .*provider/);
    expect(v.err).toContain('pglite');
    expect(v.err).not.toMatch(/\n\s+at /);
  }, 60_000);
});

describe('shipgate db check', () => {
  it('missing snapshot fails; --update writes it; unchanged passes; a new migration without --update fails with a diff', async () => {
    const dir = project(schema);
    const args = ['db', 'check', '--migrations', 'db/migrations', '--seed', 'db/seed'];

    const missing = await cli(args, dir);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('no schema snapshot at db/schema.snapshot [db.snapshot-missing]');

    const update = await cli([...args, '--update'], dir);
    expect(update).toMatchObject({ code: 0, err: '' });
    expect(update.out).toContain('3 migrations applied from zero on PGlite (Postgres 18); seed: 4 rows in 2 of 2 tables');
    const snapshot = readFileSync(path.join(dir, 'db/schema.snapshot'), 'utf8');
    expect(snapshot).toContain('customers');
    expect(snapshot).toMatch(/tier.*free.*pro/s);

    expect(await cli(args, dir)).toMatchObject({ code: 0, err: '' });

    writeFileSync(path.join(dir, 'db/migrations/V2__note.sql'), 'ALTER TABLE orders ADD COLUMN note text;\n');
    const drift = await cli(args, dir);
    expect(drift.code).toBe(1);
    expect(drift.out).toMatch(/^\+.*note/m);
    expect(drift.err).toContain('[db.snapshot-drift]');
  }, 60_000);

  it('seed data that no longer fits the schema fails at its file:line:col', async () => {
    const dir = project({
      ...schema,
      'db/migrations/V2__rename.sql': 'ALTER TABLE customers RENAME COLUMN name TO full_name;\n',
    });
    const r = await cli(['db', 'check', '--migrations', 'db/migrations', '--seed', 'db/seed', '--update'], dir);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/db\/seed\/001\.sql:1:\d+: .*column "name" of relation "customers" does not exist/);
    expect(r.err).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('the snapshot does not depend on the provider: pglite and a real Postgres server write the same text', async () => {
    if (!postgresAvailable()) return;
    const dir = project({
      ...schema,
      'db/migrations/V3__more.sql': [
        'CREATE INDEX orders_customer ON orders (customer_id);',
        'ALTER TABLE orders ADD CONSTRAINT positive CHECK (total >= 0);',
        'CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;',
        'CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();',
        'CREATE SEQUENCE invoice_no START 1000;',
      ].join('\n'),
    });
    const base = { migrations: 'db/migrations', seed: 'db/seed', cwd: dir, update: true };
    await dbCheck({ ...base, provider: 'pglite', snapshot: 'a.snapshot' });
    await dbCheck({ ...base, provider: 'postgres', snapshot: 'b.snapshot' });
    // View bodies are the server's own pg_get_viewdef text, which changes between major versions
    // (README: commit the snapshot from the provider CI runs); everything else is the same text.
    const [a, b] = ['a', 'b'].map((f) => readFileSync(path.join(dir, `${f}.snapshot`), 'utf8').split('\n'));
    const notViews = (lines: string[]) => lines.filter((l) => !l.startsWith('view '));
    expect(a).toContain('trigger CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch()');
    expect(a!.length).toBeGreaterThan(15);
    expect(notViews(b!)).toEqual(notViews(a!));
    for (const lines of [a!, b!]) expect(lines.filter((l) => l.startsWith('view public.totals AS'))).toHaveLength(1);
  }, 120_000);
});

// Starting from pg_dump: a sample database (22 tables, a partitioned table, domains, sequences,
// text that COPY must escape) is built on a real Postgres, dumped with the real pg_dump (plain,
// -Fc, -Fd), and loaded as seed or migration on every provider; every table must come back row for
// row. Broken dumps must fail at the statement's own line, saying what was being done.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ShipgateError } from '@shipgate/protocol';
import { openHarness, prepareHarness, type HarnessConfig } from '../src/harness.js';
import { archiveToSql } from '../src/migrations/pg-archive.js';
import { cleanup, dockerAvailable, postgresAvailable, project } from './helpers.js';
import { makeSampleDumps, smallDumpFile, tableChecksums, type SampleDumps } from './pgdump.js';

afterAll(cleanup);

/** Prepares a harness for `config`, takes one database, returns its table checksums. */
async function loadedChecksums(config: HarnessConfig): Promise<Record<string, string>> {
  const prepared = await prepareHarness({ isolation: 'file', ...config });
  const harness = openHarness(prepared.state);
  try {
    const db = await harness.acquire();
    return await tableChecksums(db.client);
  } finally {
    await harness.close();
    await prepared.stop();
  }
}

async function failure(config: HarnessConfig): Promise<ShipgateError> {
  const error = await prepareHarness(config).then(
    async (prepared) => {
      await prepared.stop();
      throw new Error('expected the harness to fail');
    },
    (e: unknown) => e,
  );
  return error as ShipgateError;
}

describe('the committed pg_dump 15 fixture (no server needed)', () => {
  const small = readFileSync(smallDumpFile, 'utf8');

  it('pglite loads it as seed: \\restrict, SET, COPY blocks of 21 tables, partitions, domains', async () => {
    const dir = project({ 'db/dump.sql': small });
    const sums = await loadedChecksums({ provider: 'pglite', seed: 'db/dump.sql', cwd: dir });
    expect(Object.keys(sums)).toHaveLength(21); // 22 tables: the partitioned parent holds no rows itself
    expect(sums['public.payment_p2025_01']).toMatch(/^\d+:[0-9a-f]{32}$/);
    expect(Number(sums['public.film']!.split(':')[0])).toBe(10);
  }, 60_000);

  it('a row that does not fit is reported at the COPY statement, with the row, its line and the column', async () => {
    const lines = small.split('\n');
    const copyLine = lines.findIndex((l) => l.startsWith('COPY public.actor '));
    lines[copyLine + 2] = lines[copyLine + 2]!.replace(/^\d+/, 'x'); // the second row
    const dir = project({ 'db/dump.sql': lines.join('\n') });
    const error = await failure({ provider: 'pglite', seed: 'db/dump.sql', cwd: dir });
    expect(error.code).toBe('db.seed-failed');
    expect(error.location).toEqual({ file: 'db/dump.sql', line: copyLine + 1, column: 1 });
    expect(error.format()).toBe(
      `db/dump.sql:${copyLine + 1}:1: seed failed: COPY public.actor, row 2 (line ${copyLine + 3}), column actor_id: invalid input syntax for type integer: "x" (SQLSTATE 22P02) [db.seed-failed]\n  hint: fix the seed; nothing was kept (the database is thrown away)`,
    );
  }, 60_000);

  it('a psql meta-command pg_dump does not write is an error at its file:line:col', async () => {
    const dir = project({ 'db/migrations/V1__init.sql': 'CREATE TABLE a (id int);\n  \\i other.sql\n' });
    const error = await failure({ provider: 'pglite', migrations: 'db/migrations', cwd: dir });
    expect(error.format()).toMatch(/^db\/migrations\/V1__init\.sql:2:3: psql meta-command \\i is not supported here \[db\.psql-meta\]/);
  });

  it('a dump naming roles the test database lacks says how to dump without them', async () => {
    const dir = project({ 'db/dump.sql': small.replace('ALTER TABLE public.actor OWNER TO postgres;', 'ALTER TABLE public.actor OWNER TO app_owner;') });
    const error = await failure({ provider: 'pglite', seed: 'db/dump.sql', cwd: dir });
    expect(error.message).toBe('seed failed: role "app_owner" does not exist (SQLSTATE 42704)');
    expect(error.hint).toMatch(/pg_dump --no-owner --no-privileges/);
  }, 60_000);

  it('an archive pg_restore cannot read says how to convert it', async () => {
    const dir = project({ 'db/seed.dump': 'PGDMP\u0001\u0063not really an archive' });
    const error = await failure({ provider: 'pglite', seed: 'db/seed.dump', cwd: dir });
    expect(error.code).toBe('db.seed-archive');
    expect(error.hint).toContain('pg_restore -f db/seed.sql db/seed.dump');
    // and where there is no pg_restore at all
    await expect(archiveToSql(path.join(dir, 'db/seed.dump'), 'db/seed.dump', 'custom', null)).rejects.toMatchObject({
      code: 'db.seed-archive',
      message: 'seed db/seed.dump is a pg_dump archive (custom format), and reading it needs pg_restore, which is not on this machine',
      hint: expect.stringContaining('pg_restore -f db/seed.sql db/seed.dump'),
    });
  });
});

const describeServer = postgresAvailable() ? describe : describe.skip;

describeServer('real pg_dump output on every provider', () => {
  let dumps: SampleDumps;
  let dir: string;

  beforeAll(async () => {
    dumps = await makeSampleDumps(0.1);
    dir = project({});
    cpSync(dumps.plain, path.join(dir, 'db/seed/sample.sql'));
    cpSync(dumps.custom, path.join(dir, 'db/sample.dump'));
    cpSync(dumps.directory, path.join(dir, 'db/sample.dir'), { recursive: true });
  }, 120_000);
  afterAll(() => dumps?.cleanup());

  it('the source has 22 tables worth of rows', () => {
    expect(Object.keys(dumps.checksums)).toHaveLength(21);
    expect(dumps.rows).toBeGreaterThan(4000);
  });

  it.each(['pglite', 'postgres'] as const)('%s: a plain dump as seed comes back row for row', async (provider) => {
    expect(await loadedChecksums({ provider, seed: 'db/seed/sample.sql', cwd: dir })).toEqual(dumps.checksums);
  }, 120_000);

  it.each([
    ['pglite', 'db/sample.dump'],
    ['postgres', 'db/sample.dump'],
    ['pglite', 'db/sample.dir'],
    ['postgres', 'db/sample.dir'],
  ] as const)('%s: the archive %s as seed is read with pg_restore and comes back row for row', async (provider, seed) => {
    expect(await loadedChecksums({ provider, seed, cwd: dir })).toEqual(dumps.checksums);
  }, 120_000);

  it('postgres: a dump as the baseline migration, with later migrations on top (search_path is back to normal)', async () => {
    const migrations = project({ 'db/migrations/V2__notes.sql': 'CREATE TABLE note (id int PRIMARY KEY, actor_id int REFERENCES actor);\nINSERT INTO note SELECT actor_id, actor_id FROM actor;\n' });
    cpSync(dumps.plain, path.join(migrations, 'db/migrations/V1__baseline.sql'));
    const sums = await loadedChecksums({ provider: 'postgres', migrations: 'db/migrations', cwd: migrations });
    expect(sums).toMatchObject(dumps.checksums);
    expect(sums['public.note']!.split(':')[0]).toBe(dumps.checksums['public.actor']!.split(':')[0]);
  }, 120_000);

  it('postgres: a bad row fails at the COPY statement', async () => {
    const text = readFileSync(dumps.plain, 'utf8').split('\n');
    const copyLine = text.findIndex((l) => l.startsWith('COPY public.rental '));
    text[copyLine + 3] = text[copyLine + 3]!.replace(/\t\d+\t/, '\tnot-a-number\t');
    const bad = project({ 'db/seed.sql': text.join('\n') });
    const error = await failure({ provider: 'postgres', seed: 'db/seed.sql', cwd: bad });
    expect(error.format()).toMatch(new RegExp(`^db/seed\\.sql:${copyLine + 1}:1: seed failed: COPY public\\.rental, row 3 \\(line ${copyLine + 4}\\), column \\w+: invalid input syntax for type integer: "not-a-number" \\(SQLSTATE 22P02\\)`));
  }, 120_000);

  const testcontainers = dockerAvailable() ? it : it.skip;
  testcontainers('testcontainers: a plain dump and a -Fc archive as seed come back row for row', async () => {
    expect(await loadedChecksums({ provider: 'testcontainers', seed: 'db/seed/sample.sql', cwd: dir })).toEqual(dumps.checksums);
    expect(await loadedChecksums({ provider: 'testcontainers', seed: 'db/sample.dump', cwd: dir })).toEqual(dumps.checksums);
  }, 180_000);

  it('a seed folder: the dump, then a hand-written file that relies on the default search_path', async () => {
    const folder = project({ 'db/seed/002_more.sql': "INSERT INTO category (name) VALUES ('Added by hand');\n" });
    cpSync(dumps.plain, path.join(folder, 'db/seed/001_dump.sql'));
    writeFileSync(path.join(folder, 'README'), '');
    const sums = await loadedChecksums({ provider: 'pglite', seed: 'db/seed', cwd: folder });
    expect(sums['public.category']!.split(':')[0]).toBe(String(Number(dumps.checksums['public.category']!.split(':')[0]) + 1));
  }, 120_000);
});

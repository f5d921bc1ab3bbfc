// One Postgres version, stated and enforced: postgresVersion (config, SHIPGATE_TEST_POSTGRES_VERSION,
// `db check --postgres-version`, the db-test step's postgres-version) names production's major.
// Server providers must run it; with PGlite (18), db check also applies the migrations on a real
// server of that major, so an 18-only migration fails there, naming the file, the line and both
// versions.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { cli } from '../../pipelines/test/helpers.js';
import { defaultImageFor, majorOf, parsePostgresVersion } from '../src/providers/postgres-version.js';
import { prepareHarness, resolveConfig, startServer } from '../src/harness.js';
import { findPostgresBinaries } from '../src/providers/postgres.js';
import { cleanup, dockerAvailable, postgresAvailable, project, schema } from './helpers.js';

afterAll(cleanup);

describe('postgres versions, as plain data', () => {
  it.each([
    ['postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)', 15],
    ['PostgreSQL 17.5 on x86_64-pc-linux-gnu, compiled by gcc', 17],
    ['18.1', 18],
    ['180001', 18],
    ['no digits', undefined],
  ])('%s is major %s', (text, major) => {
    expect(majorOf(text)).toBe(major);
  });

  it('postgresVersion must be a major number; the env variable is named when it is wrong', () => {
    expect(parsePostgresVersion('15')).toBe(15);
    expect(() => parsePostgresVersion('15.4')).toThrow(/postgresVersion must be a Postgres major version such as 15 or 17, got "15.4"/);
    const saved = process.env.SHIPGATE_TEST_POSTGRES_VERSION;
    process.env.SHIPGATE_TEST_POSTGRES_VERSION = 'latest';
    try {
      expect(() => resolveConfig({ provider: 'pglite' })).toThrow(/SHIPGATE_TEST_POSTGRES_VERSION must be a Postgres major version/);
      process.env.SHIPGATE_TEST_POSTGRES_VERSION = '15';
      expect(resolveConfig({ provider: 'pglite' }).postgresVersion).toBe(15);
      expect(resolveConfig({ provider: 'pglite', postgresVersion: 17 }).postgresVersion).toBe(17); // config wins
    } finally {
      if (saved === undefined) delete process.env.SHIPGATE_TEST_POSTGRES_VERSION;
      else process.env.SHIPGATE_TEST_POSTGRES_VERSION = saved;
    }
  });

  it('testcontainers takes the image of the major: bookworm carries 15, trixie 17', () => {
    expect(defaultImageFor(15)).toBe('shipgate/postgres:15-bookworm');
    expect(defaultImageFor(17)).toBe('shipgate/postgres:17-trixie');
  });
});

// Postgres 18 accepts both; 15 knows neither a VIRTUAL generated column nor uuidv7().
const only18 = {
  ...schema,
  'db/migrations/V2__totals.sql': '-- money in cents, computed on read\nALTER TABLE orders\n  ADD COLUMN total_cents int GENERATED ALWAYS AS (total * 100) VIRTUAL;\n',
};
const uuidv7 = { ...schema, 'db/migrations/V2__ids.sql': 'CREATE TABLE events (\n  id uuid PRIMARY KEY DEFAULT uuidv7(),\n  name text\n);\n' };
// a major with neither local binaries nor an image here
const absentMajor = [16, 14, 13].find((major) => !findPostgresBinaries(major))!;

const describeServer = postgresAvailable() ? describe : describe.skip;

describeServer('db check --postgres-version (pglite, and a real Postgres 15 here)', () => {
  const args = ['db', 'check', '--migrations', 'db/migrations', '--seed', 'db/seed', '--update'];

  it('an 18-only migration passes on pglite alone, and fails with --postgres-version 15 naming the file, the line and both versions', async () => {
    const dir = project(only18);
    const onPglite = await cli(args, dir);
    expect(onPglite.code).toBe(0);
    expect(onPglite.out).toContain('migrations applied from zero on PGlite (Postgres 18);');

    const on15 = await cli([...args, '--postgres-version', '15'], dir);
    expect(on15.code).toBe(1);
    expect(on15.err).toMatch(/^db\/migrations\/V2__totals\.sql:3:\d+: fails on Postgres 15 \(postgresVersion\), though PGlite's Postgres 18 accepts it: migration failed: syntax error at or near "VIRTUAL" \(SQLSTATE 42601\) \[db\.postgres-version\]/m);
    expect(on15.err).not.toMatch(/\n\s+at /);
  }, 120_000);

  it('uuidv7() as a default: SHIPGATE_TEST_POSTGRES_VERSION=15 does the same', async () => {
    const r = await cli(args, project(uuidv7), { SHIPGATE_TEST_POSTGRES_VERSION: '15' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/db\/migrations\/V2__ids\.sql:2:\d+: fails on Postgres 15 \(postgresVersion\), though PGlite's Postgres 18 accepts it: migration failed: function uuidv7\(\) does not exist/);
  }, 120_000);

  it('migrations both accept pass on both, and the summary says where they ran', async () => {
    const r = await cli([...args, '--postgres-version', '15'], project(schema));
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toContain('3 migrations applied from zero on PGlite (Postgres 18) and Postgres 15; seed: 4 rows in 2 of 2 tables');
  }, 120_000);

  it(`a major with no server here (${absentMajor}) is checked on 18 only, with one plain warning`, async () => {
    const r = await cli([...args, '--postgres-version', String(absentMajor)], project(schema));
    expect(r.code).toBe(0);
    expect(r.err.match(/warning/g)).toHaveLength(1);
    expect(r.err).toContain(`shipgate: warning: postgresVersion is ${absentMajor}, but no Postgres ${absentMajor} server could be had here: the migrations were checked on PGlite's Postgres 18 only`);
  }, 120_000);
});

describeServer('server providers run the major asked for', () => {
  it('postgres provider: 15 runs on the local 15; a major without binaries is a plain error', async () => {
    const dir = project(schema);
    const prepared = await prepareHarness({ provider: 'postgres', migrations: 'db/migrations', cwd: dir, postgresVersion: 15 });
    await prepared.stop();
    await expect(prepareHarness({ provider: 'postgres', migrations: 'db/migrations', cwd: dir, postgresVersion: absentMajor })).rejects.toMatchObject({
      code: 'db.postgres-version',
      message: `no Postgres ${absentMajor} server binaries on this machine (postgresVersion is ${absentMajor})`,
      hint: expect.stringContaining(`postgresql-${absentMajor}`),
    });
  }, 120_000);

  it('url provider: a server of another major is refused, naming both', async () => {
    const server = await startServer(resolveConfig({ provider: 'postgres' }));
    try {
      await expect(startServer(resolveConfig({ provider: 'url', url: server.adminUrl, postgresVersion: 16 }))).rejects.toMatchObject({
        code: 'db.postgres-version',
        message: 'the url provider runs Postgres 15, but postgresVersion is 16',
      });
    } finally {
      await server.stop();
    }
  }, 120_000);

  const image17 = dockerAvailable() && spawnSync('docker', ['image', 'inspect', 'shipgate/postgres:17-trixie'], { stdio: 'ignore' }).status === 0;
  (image17 ? it : it.skip)('testcontainers: postgresVersion 17 runs the 17 image; db check --postgres-version 17 applies the migrations there', async () => {
    const server = await startServer(resolveConfig({ provider: 'testcontainers', postgresVersion: 17 }));
    try {
      expect(majorOf(server.version)).toBe(17);
    } finally {
      await server.stop();
    }
    const r = await cli(['db', 'check', '--migrations', 'db/migrations', '--update', '--postgres-version', '17'], project(uuidv7));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/db\/migrations\/V2__ids\.sql:2:\d+: fails on Postgres 17 \(postgresVersion\), though PGlite's Postgres 18 accepts it: migration failed: function uuidv7\(\) does not exist/);
  }, 180_000);
});

import { afterEach, describe, expect, it } from '@jest/globals';
import { discoverMigrations, migrationsDigest } from '../src/migrations/discover.js';
import { cleanup, project } from './helpers.js';

afterEach(cleanup);

const names = async (files: string[]) => (await discoverMigrations(`${project(Object.fromEntries(files.map((f) => [`m/${f}`, 'SELECT 1;'])))}/m`)).map((m) => m.name);

describe('discoverMigrations', () => {
  it('orders Flyway versions numerically, then repeatables by description; ignores undo files', async () => {
    expect(await names(['V10__late.sql', 'V2__b.sql', 'V1.1__a2.sql', 'V1__a.sql', 'R__views.sql', 'R__functions.sql', 'U2__undo_b.sql', 'V1_2__a3.sql'])).toEqual([
      'V1__a.sql',
      'V1.1__a2.sql',
      'V1_2__a3.sql',
      'V2__b.sql',
      'V10__late.sql',
      'R__functions.sql',
      'R__views.sql',
    ]);
  });

  it('orders plain numbered files numerically, in sub-folders too', async () => {
    expect(await names(['010_ten.sql', '002-two.sql', '001_one.sql', 'later/003_three.sql'])).toEqual(['001_one.sql', '002-two.sql', 'later/003_three.sql', '010_ten.sql']);
  });

  it.each([
    [['V1__a.sql', 'notes.sql'], /notes\.sql: not a migration name/],
    [['V1__a.sql', '002_b.sql'], /mixes Flyway names \(V1__a\.sql\) and numbered names \(002_b\.sql\)/],
    [['V1__a.sql', 'V1.0__b.sql'], /V1\.0__b\.sql and V1__a\.sql have the same version 1|V1__a\.sql and V1\.0__b\.sql have the same version/],
  ])('rejects %j', async (files, message) => {
    await expect(names(files)).rejects.toThrow(message);
  });

  it('a missing folder is a clear error', async () => {
    await expect(discoverMigrations('/nonexistent/migrations')).rejects.toMatchObject({ code: 'db.migrations-not-found' });
  });

  it('the digest changes with a file name or its content, not with the folder', async () => {
    const a = await discoverMigrations(`${project({ 'm/V1__a.sql': 'CREATE TABLE t (id int);' })}/m`);
    const b = await discoverMigrations(`${project({ 'x/V1__a.sql': 'CREATE TABLE t (id int);' })}/x`);
    const c = await discoverMigrations(`${project({ 'm/V1__a.sql': 'CREATE TABLE t (id bigint);' })}/m`);
    expect(migrationsDigest(a)).toBe(migrationsDigest(b));
    expect(migrationsDigest(a)).not.toBe(migrationsDigest(c));
  });
});

// The template key of a `migrate:` command covers what the command reads, not only its text: the
// migrations folder and the command's script by default, or the files its `inputs:` globs name.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { openHarness, prepareHarness, type HarnessConfig } from '../src/harness.js';
import { cleanup, postgresAvailable, project } from './helpers.js';
import { cleanupRuns, tempDir } from './runs.js';

const describeIf = postgresAvailable() ? describe : describe.skip;

afterAll(async () => {
  cleanup();
  await cleanupRuns();
}, 60_000);

/** Prepares a run, reads `SELECT n FROM t` from a clone, stops; returns what the run saw and logged. */
async function runOnce(config: HarnessConfig): Promise<{ built: boolean; n: number[]; log: string[] }> {
  const log: string[] = [];
  const prepared = await prepareHarness({ ...config, log: (l) => log.push(l) });
  try {
    const harness = openHarness(prepared.state);
    const db = await harness.acquire();
    const { rows } = await db.client.query<{ n: number }>('SELECT n FROM t ORDER BY n');
    await harness.close();
    return { built: prepared.state.built, n: rows.map((r) => r.n), log };
  } finally {
    await prepared.stop();
  }
}

// A migrate "tool" that reads SQL files itself, as knex, prisma and flyway do
const applyFolder = (folder: string) => `set -e\nfor f in ${folder}/*.sql; do psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$f"; done\n`;

describeIf('template key of a migrate command', () => {
  let serverDir: string;
  beforeAll(() => {
    serverDir = tempDir();
  });

  it('by default hashes the migrations folder and the command’s script: a changed SQL file is a new template', async () => {
    const dir = project({ 'migrate.sh': applyFolder('db/migrations'), 'db/migrations/001_t.sql': 'CREATE TABLE t (n int);\nINSERT INTO t VALUES (1);\n' });
    const config: HarnessConfig = { provider: 'postgres', migrate: 'sh migrate.sh', cwd: dir, serverDir };
    const first = await runOnce(config);
    expect(first).toMatchObject({ built: true, n: [1] });
    expect(first.log.join('\n')).toMatch(/template key: migrate command "sh migrate\.sh" \+ 2 files \(db\/migrations\/, migrate\.sh\)/);
    expect(await runOnce(config)).toMatchObject({ built: false, n: [1] });

    writeFileSync(path.join(dir, 'db/migrations/001_t.sql'), 'CREATE TABLE t (n int);\nINSERT INTO t VALUES (2);\n');
    expect(await runOnce(config)).toMatchObject({ built: true, n: [2] });

    writeFileSync(path.join(dir, 'migrate.sh'), `${applyFolder('db/migrations')}psql -X -q "$DATABASE_URL" -c 'INSERT INTO t VALUES (3)'\n`);
    expect(await runOnce(config)).toMatchObject({ built: true, n: [2, 3] });
  }, 180_000);

  it('with declared inputs, hashes the files the globs match', async () => {
    const dir = project({ 'tools/migrate.sh': applyFolder('schema/sql'), 'schema/sql/a.sql': 'CREATE TABLE t (n int);\n', 'schema/sql/b.sql': 'INSERT INTO t VALUES (1);\n', 'schema/README.md': 'notes\n' });
    const config: HarnessConfig = { provider: 'postgres', migrate: 'sh tools/migrate.sh', inputs: ['schema/**/*.sql', 'tools/*.sh'], cwd: dir, serverDir };
    const first = await runOnce(config);
    expect(first).toMatchObject({ built: true, n: [1] });
    expect(first.log.join('\n')).toContain('template key: migrate command "sh tools/migrate.sh" + 3 files (schema/**/*.sql, tools/*.sh)');

    writeFileSync(path.join(dir, 'schema/README.md'), 'other notes\n'); // not an input
    expect(await runOnce(config)).toMatchObject({ built: false, n: [1] });

    writeFileSync(path.join(dir, 'schema/sql/b.sql'), 'INSERT INTO t VALUES (1), (5);\n');
    expect(await runOnce(config)).toMatchObject({ built: true, n: [1, 5] });
  }, 180_000);
});

describe('db-test step input', () => {
  it('takes inputs: as a list of globs, passed to the harness with migrate', async () => {
    const { dbTestStep } = await import('../src/plugin.js');
    const dbTestInputs = dbTestStep.inputs;
    expect(dbTestInputs.parse({ command: 'npm test', migrate: 'npx knex migrate:latest', inputs: ['migrations/**', 'knexfile.js'] }).inputs).toEqual(['migrations/**', 'knexfile.js']);
    expect(() => dbTestInputs.parse({ command: 'npm test', inputs: 'migrations/**' })).toThrow();
  });
});

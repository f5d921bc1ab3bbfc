// Full and read-only disks: each is one coded error that names the path and says what to do (where
// the space or the permission is needed, and the variable that moves it), never a raw EACCES or a
// Postgres shared-memory message; a disk that fills mid-run is said once, not once per test.
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareHarness } from '../src/harness.js';
import { cleanup, postgresAvailable, project, schema } from './helpers.js';
import { canMount, cleanupRuns, serversUnder, startJest, tempDir, tmpfs, userProject } from './runs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const mountable = canMount();
const withPostgres = mountable && postgresAvailable();
const itMount = mountable ? it : it.skip;
const itPostgres = withPostgres ? it : it.skip;

afterAll(async () => {
  cleanup();
  await cleanupRuns();
}, 60_000);

describe('read-only folders', () => {
  itPostgres('a read-only cluster folder: db.not-writable with the path and the variable that moves it', async () => {
    const serverDir = path.join(tmpfs('1m', { readOnly: true }), 'clusters');
    const error = await prepareHarness({ provider: 'postgres', migrations: 'db/migrations', cwd: project(schema), serverDir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'db.not-writable', message: expect.stringContaining(serverDir), hint: expect.stringContaining('SHIPGATE_TEST_SERVER_DIR') });
  });

  itPostgres('a read-only cluster inside a writable folder: db.not-writable naming the cluster', async () => {
    const serverDir = tempDir();
    const cluster = path.join(serverDir, 'pg15');
    mkdirSync(cluster);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', cluster]);
    try {
      await expect(prepareHarness({ provider: 'postgres', migrations: 'db/migrations', cwd: project(schema), serverDir })).rejects.toMatchObject({
        code: 'db.not-writable',
        message: expect.stringContaining(cluster),
        hint: expect.stringContaining('SHIPGATE_TEST_SERVER_DIR'),
      });
    } finally {
      execFileSync('umount', [cluster]);
    }
  });

  itMount('a read-only pglite cache: db.not-writable before any migration runs', async () => {
    const cacheDir = path.join(tmpfs('1m', { readOnly: true }), 'cache');
    const log: string[] = [];
    const error = await prepareHarness({ provider: 'pglite', migrations: 'db/migrations', seed: 'db/seed', cwd: project(schema), cacheDir, log: (l) => log.push(l) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'db.not-writable', message: expect.stringContaining(cacheDir), hint: expect.stringContaining('SHIPGATE_TEST_CACHE_DIR') });
    expect(log.filter((l) => l.startsWith('migrating'))).toEqual([]); // said at once, not after a build
  });
});

describe('full disks', () => {
  itPostgres('a cluster folder without room: db.no-space with the path and the variable that moves it', async () => {
    const serverDir = tmpfs('1m');
    await expect(prepareHarness({ provider: 'postgres', migrations: 'db/migrations', cwd: project(schema), serverDir })).rejects.toMatchObject({
      code: 'db.no-space',
      message: expect.stringContaining(serverDir),
      hint: expect.stringContaining('SHIPGATE_TEST_SERVER_DIR'),
    });
    expect(serversUnder(serverDir)).toEqual([]);
  }, 60_000);

  itPostgres('a full /dev/shm: the move of the cluster is logged, and Postgres’ shared memory failure is db.no-space naming /dev/shm', () => {
    // a mount namespace of its own, where /dev/shm is a 64 KB tmpfs: nothing else on the machine sees it
    const tmp = tempDir();
    chmodSync(tmp, 0o755); // as root the cluster belongs to the postgres user, who must reach it
    const config = JSON.stringify({ provider: 'postgres', migrations: 'db/migrations', cwd: project(schema) });
    const script = `mount -t tmpfs -o size=64k tmpfs /dev/shm && exec "${process.execPath}" "${path.join(here, 'fixtures/prepare-outcome.mjs')}" '${config}'`;
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { env: { ...process.env, TMPDIR: tmp }, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    const outcome = JSON.parse(r.stdout) as { log: string[]; error?: { code: string; message: string; hint: string } };
    expect(outcome.log.join('\n')).toMatch(/\/dev\/shm has \d+ MB free.*the cluster goes to .*shipgate-test-harness/);
    expect(outcome.error).toMatchObject({ code: 'db.no-space', message: expect.stringContaining('/dev/shm'), hint: expect.stringMatching(/shm-size|free/) });
    expect(serversUnder(tmp)).toEqual([]);
  }, 150_000);

  itPostgres('the disk fills mid-run: the first failing test says so with the path and hint, the others in one short line', async () => {
    const serverDir = tmpfs('160m');
    const dir = userProject({
      'tests/fill.test.mjs': [
        "import { openSync, writeSync, closeSync } from 'node:fs';",
        "import { beforeEach, test } from '@jest/globals';",
        "import { useTestDatabase } from '@shipgate/test-harness/jest';",
        '// something else keeps filling the disk: topped up before each test takes its database',
        'beforeEach(() => {',
        "  const fd = openSync(process.env.FILL_FILE, 'a');",
        '  const chunk = Buffer.alloc(1 << 20, 1);',
        '  try { for (let i = 0; i < 4096; i += 1) writeSync(fd, chunk); } catch { /* full */ } finally { closeSync(fd); }',
        '});',
        'const db = useTestDatabase();',
        "for (let i = 0; i < 12; i += 1) test('after' + i, async () => { await db.client.query('SELECT 1'); });",
        '',
      ].join('\n'),
    });
    const r = await startJest(dir, { SHIPGATE_TEST_PROVIDER: 'postgres', SHIPGATE_TEST_SERVER_DIR: serverDir, FILL_FILE: path.join(serverDir, 'filler') }).done;
    expect(r.code).not.toBe(0);
    const full = r.output.match(/no space left for the Postgres test cluster folder/g) ?? [];
    const repeats = r.output.match(/no database for this test: the disk is full \(said once, in the first failure\)/g) ?? [];
    expect({ full: full.length, hint: (r.output.match(/SHIPGATE_TEST_SERVER_DIR/g) ?? []).length }).toEqual({ full: 1, hint: 1 });
    expect(r.output).toContain(serverDir);
    expect(repeats.length).toBeGreaterThan(0);
    // the run's flag that it was said is gone with the run
    expect(readdirSync(os.tmpdir()).filter((f) => /^shipgate-test-harness-[0-9a-z]+\.no-space$/.test(f))).toEqual([]);
  }, 300_000);
});

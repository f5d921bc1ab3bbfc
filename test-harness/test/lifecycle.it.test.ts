// What SIGKILLs and parallel runs leave behind, on the postgres provider with real processes: the
// real jest process group killed at named moments, a second run's throw-away cluster killed, and
// two runs started 0.25 s apart right after a killed one. After each, nothing is left that the next
// run does not reap.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareHarness } from '../src/harness.js';
import { alive } from '../src/lifecycle/processes.js';
import { PgSqlClient } from '../src/sql/client.js';
import { postgresAvailable, runThenKill } from './helpers.js';
import { cleanupRuns, holdTest, jsonLines, serversUnder, startJest, tempDir, userProject, waitFor } from './runs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.join(here, 'fixtures/project');
const describeIf = postgresAvailable() ? describe : describe.skip;

afterAll(cleanupRuns, 60_000);

async function databaseNames(adminUrl: string): Promise<string[]> {
  const admin = await PgSqlClient.connect(adminUrl);
  try {
    return (await admin.query<{ datname: string }>('SELECT datname FROM pg_database ORDER BY datname')).rows.map((r) => r.datname);
  } finally {
    await admin.close();
  }
}

/** The cluster folder of a server the harness started (its data directory is the socket host). */
function clusterDirOf(localAdminUrl: string): string {
  return path.dirname(decodeURIComponent(new URL(localAdminUrl).hostname));
}

describeIf('a SIGKILL of the jest process group at a named moment', () => {
  it.each([
    ['clone-created', 'a clone created but not yet handed out'],
    ['template-scratch-created', 'the template build database, just created'],
  ])('at %s (%s): the next run drops what it left', async (point) => {
    const serverDir = tempDir();
    const dir = userProject();
    const pauseFile = path.join(dir, 'paused.jsonl');
    const run = startJest(dir, { SHIPGATE_TEST_PROVIDER: 'postgres', SHIPGATE_TEST_SERVER_DIR: serverDir, SHIPGATE_TEST_HARNESS_PAUSE: point, SHIPGATE_TEST_HARNESS_PAUSE_FILE: pauseFile });
    let left: string[];
    try {
      left = await waitFor(`the run to reach ${point}`, () => {
        const lines = jsonLines<{ database: string }>(pauseFile);
        return lines.length ? lines.map((l) => l.database) : undefined;
      });
    } finally {
      run.killGroup();
    }
    await run.done;

    const next = await prepareHarness({ provider: 'postgres', migrations: 'db/migrations', seed: 'db/seed', cwd: dir, serverDir });
    try {
      const names = await databaseNames(next.state.localAdminUrl ?? next.state.adminUrl!);
      for (const name of left) expect(names).not.toContain(name);
      // nothing of a dead process is left at all: clones and build databases carry their owner in the name
      const ofDeadProcesses = names.filter((n) => n.startsWith('shipgate_t_') && !alive(Number(n.split('_')[3])));
      expect(ofDeadProcesses).toEqual([]);
    } finally {
      await next.stop();
    }
    expect(serversUnder(serverDir)).toEqual([]);
  }, 300_000);
});

describeIf('a second run’s throw-away cluster', () => {
  it('is reaped by the next run when its owner is killed: server stopped, folder removed', async () => {
    const serverDir = tempDir();
    const first = await prepareHarness({ provider: 'postgres', migrations: 'db/migrations', seed: 'db/seed', cwd: fixture, serverDir });
    try {
      const { held } = await runThenKill<{ localAdminUrl: string }>(path.join(here, 'fixtures/hold-cluster.mjs'), [fixture, serverDir], 120_000);
      const second = clusterDirOf(held.localAdminUrl);
      expect(second).not.toBe(clusterDirOf(first.state.localAdminUrl!)); // the kept cluster is taken: its own
      const [leftServer] = serversUnder(second);
      expect(leftServer).toBeDefined(); // what the SIGKILL left: a server still listening, and its folder
      expect(existsSync(second)).toBe(true);

      const third = await prepareHarness({ provider: 'postgres', migrations: 'db/migrations', seed: 'db/seed', cwd: fixture, serverDir });
      try {
        await waitFor('the left server to stop', () => (alive(leftServer!.pid) ? undefined : true), 20_000);
        expect(existsSync(second)).toBe(false);
      } finally {
        await third.stop();
      }
    } finally {
      await first.stop();
    }
    expect(serversUnder(serverDir)).toEqual([]);
    expect(readdirSync(serverDir).filter((d) => d.includes('-run-'))).toEqual([]);
  }, 300_000);
});

describeIf('start-up race on the kept cluster', () => {
  it('a run killed mid-tests, then two runs 0.25 s apart: both pass, 5 times over, and nothing is left', async () => {
    const serverDir = tempDir();
    const dir = userProject(holdTest);
    const env = { SHIPGATE_TEST_PROVIDER: 'postgres', SHIPGATE_TEST_SERVER_DIR: serverDir };
    for (let round = 1; round <= 5; round += 1) {
      const records = path.join(dir, `killed-${round}.jsonl`);
      const killed = startJest(dir, { ...env, HOLD_MS: '60000', RECORD_FILE: records });
      try {
        await waitFor('the killed run to be mid-tests', () => (jsonLines<{ test: string }>(records).some((r) => r.test === 'hold') ? true : undefined));
      } finally {
        killed.killGroup();
      }
      await killed.done;

      const a = startJest(dir, { ...env, RECORD_FILE: path.join(dir, `a-${round}.jsonl`) });
      await new Promise((r) => setTimeout(r, 250));
      const b = startJest(dir, { ...env, RECORD_FILE: path.join(dir, `b-${round}.jsonl`) });
      const [ra, rb] = await Promise.all([a.done, b.done]);
      for (const r of [ra, rb]) {
        expect({ round, code: r.code, tail: r.code === 0 ? '' : r.output.slice(-3000) }).toEqual({ round, code: 0, tail: '' });
        expect(r.output).toContain('Tests:       9 passed, 9 total');
      }
    }
    expect(serversUnder(serverDir)).toEqual([]);
    expect(readdirSync(serverDir).filter((d) => d.includes('-run-'))).toEqual([]);
    // the kept cluster's folder stays, and no server of the harness runs from it
    expect(existsSync(path.join(serverDir, readdirSync(serverDir)[0] ?? 'none', 'data', 'PG_VERSION'))).toBe(true);
    expect(readFileSync(path.join(dir, 'a-5.jsonl'), 'utf8')).toContain('"test":"hold"');
  }, 900_000);
});

describeIf('a plain script that stops the harness', () => {
  it('runs its clean-up to the end although nothing else keeps the process alive: no server left, 5 times over', () => {
    const serverDir = tempDir();
    for (let round = 1; round <= 5; round += 1) {
      const r = spawnSync(process.execPath, [path.join(here, 'fixtures/prepare-and-close.mjs'), fixture, serverDir], { encoding: 'utf8', timeout: 120_000 });
      expect({ round, status: r.status, stdout: r.stdout, left: serversUnder(serverDir).length }).toEqual({ round, status: 0, stdout: 'stopped\n', left: 0 });
    }
  }, 600_000);
});

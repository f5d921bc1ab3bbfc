// The testcontainers provider against a real Docker engine and the Postgres image built locally
// from Debian packages (test-harness/scripts/build-postgres-image.sh). Host networking: the server
// listens on a loopback port of this machine.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openHarness, prepareHarness } from '../src/harness.js';
import { containerLabel } from '../src/providers/testcontainers.js';
import { hostTag } from '../src/providers/server.js';
import { cleanup, dockerAvailable, runThenKill } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.join(here, 'fixtures/project');
const describeIf = dockerAvailable() ? describe : describe.skip;

afterAll(cleanup);

/** Names of this machine's harness containers (running or not), optionally of one owner pid. */
function containers(pid?: number): string[] {
  const filters = ['--filter', `label=${containerLabel}=${hostTag}`, ...(pid ? ['--filter', `label=${containerLabel}.pid=${pid}`] : [])];
  const r = spawnSync('docker', ['ps', '-a', '--format', '{{.Names}}', ...filters], { encoding: 'utf8', timeout: 20_000 });
  return r.stdout.split('\n').filter(Boolean);
}

describeIf('testcontainers provider', () => {
  it('starts a container on a loopback port, builds the template, hands out independent clones, removes the container at the end', async () => {
    const prepared = await prepareHarness({ provider: 'testcontainers', migrations: 'db/migrations', seed: 'db/seed', cwd: fixture });
    try {
      expect(prepared.state.adminUrl).toMatch(/@127\.0\.0\.1:\d+\/postgres$/);
      expect(prepared.state.isolation).toBe('test');
      expect(containers(process.pid)).toHaveLength(1);
      const harness = openHarness(prepared.state);
      const a = await harness.acquire();
      const b = await harness.acquire();
      expect(a.name).not.toBe(b.name);
      await a.client.query('DELETE FROM orders');
      const count = async (db: typeof a) => (await db.client.query<{ n: number }>('SELECT count(*)::int AS n FROM orders')).rows[0]!.n;
      expect(await count(a)).toBe(0);
      expect(await count(b)).toBeGreaterThan(0);
      const version = await b.client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
      expect(version.rows[0]!.v).toMatch(/^15\./);
      await harness.close();
    } finally {
      await prepared.stop();
    }
    expect(containers(process.pid)).toEqual([]);
  }, 120_000);

  it('a container left by a killed run is removed at the next start', async () => {
    const child = await runThenKill<{ adminUrl: string; clone: string }>(path.join(here, 'fixtures/hold-container.mjs'), [fixture]);
    const left = containers(child.pid);
    expect(left).toHaveLength(1); // SIGKILL: nothing in the child could clean up

    const lines: string[] = [];
    const next = await prepareHarness({ provider: 'testcontainers', migrations: 'db/migrations', seed: 'db/seed', cwd: fixture, log: (l) => lines.push(l) });
    try {
      expect(containers(child.pid)).toEqual([]);
      expect(lines.join('\n')).toContain(`removed 1 container(s) left by killed runs: ${left[0]}`);
    } finally {
      await next.stop();
    }
  }, 180_000);
});

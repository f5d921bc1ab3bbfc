// `shipgate deployments --dora` on this machine's deployments.jsonl (the README's example history),
// and the listing it shares the command with, which must keep working. The Slack app as the source
// is tested against the real app in bolt-app/test/dora.it.test.ts.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { cli } from '../../../test/helpers.js';

let dir = '';
const hour = 3_600_000;
const ago = (h: number) => new Date(Date.now() - h * hour).toISOString();

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'shipgate-dora-'));
  await mkdir(path.join(dir, '.shipgate', 'state'), { recursive: true });
  const records = [
    { service: 'orders', environment: 'prod', version: '1.4.0', outcome: 'succeeded', at: ago(100), commitAt: ago(103) },
    { service: 'orders', environment: 'prod', version: '1.5.0', outcome: 'succeeded', at: ago(50), commitAt: ago(70) },
    // `shipgate rollback` records the version it went back to
    { service: 'orders', environment: 'prod', version: '1.4.0', outcome: 'rolled-back', at: ago(49) },
    { service: 'orders', environment: 'prod', version: '1.5.1', outcome: 'succeeded', at: ago(20), commitAt: ago(22) },
    { service: 'orders', environment: 'staging', version: '1.5.1', outcome: 'succeeded', at: ago(21), commitAt: ago(22) },
  ];
  await writeFile(path.join(dir, '.shipgate', 'state', 'deployments.jsonl'), `${records.map((r) => JSON.stringify(r)).join('\n')}\n{torn line\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('shipgate deployments --dora', () => {
  it("prints the README's table from this machine's deployments.jsonl", async () => {
    const { code, out, err } = await cli(['-C', dir, 'deployments', '--dora'], dir);
    expect(err).toBe('');
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^DORA metrics, \d{4}-\d\d-\d\d \d\d:\d\d → \d{4}-\d\d-\d\d \d\d:\d\d UTC \(30 days\), from \.shipgate\/state\/deployments\.jsonl$/);
    expect(lines.slice(1, 4)).toEqual([
      'service  environment  deploys  frequency  lead time (median)         change failure  time to restore (median)',
      'orders   prod         3        3.0/30d    3h 00m (p90 20h 00m, n=3)  33% (1/3)       1h 00m (p90 1h 00m, n=1)',
      'orders   staging      1        1.0/30d    1h 00m (p90 1h 00m, n=1)   0% (0/1)        –',
    ]);
  });

  it('--json, --since, --service, --fix-window and --local (the app configured but not asked)', async () => {
    const env = { SHIPGATE_APP_URL: 'http://127.0.0.1:9', SHIPGATE_API_TOKEN: 'unused' };
    const { code, out } = await cli(['-C', dir, 'deployments', '--dora', '--local', '--since', '2d', '--service', 'orders', '--environment', 'prod', '--fix-window', '0', '--json'], dir, env);
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(report).toMatchObject({ source: '.shipgate/state/deployments.jsonl', windowDays: 2, fixForwardSeconds: 0 });
    // in two days: 1.5.1 only; 1.5.0 (50 h ago) and its rollback are history before the window
    expect(report.groups).toEqual([expect.objectContaining({ service: 'orders', environment: 'prod', changes: 1, deployments: 1, deploymentsPerDay: 0.5, failures: 0, leadTimesSeconds: [7200] })]);
  });

  it('exits 3 when the configured Slack app does not answer, and 2 for a bad window or a --dora flag without --dora', async () => {
    const down = await cli(['-C', dir, 'deployments', '--dora'], dir, { SHIPGATE_APP_URL: 'http://127.0.0.1:9', SHIPGATE_API_TOKEN: 't' });
    expect(down.code).toBe(3);
    expect(down.err).toMatch(/^shipgate: the Slack app at http:\/\/127\.0\.0\.1:9 did not answer: .* \[deployments\.app-unreachable\]\n {2}hint: check SHIPGATE_APP_URL, or unset it/);
    const bad = await cli(['-C', dir, 'deployments', '--dora', '--since', '30'], dir);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain(`argument '30' is invalid. "30" is not a window of a minute or more (write it with units: 30d, 2w, 12h, 90m)`);
    const alone = await cli(['-C', dir, 'deployments', '--since', '7d'], dir);
    expect(alone.code).toBe(2);
    expect(alone.err).toContain('--since only applies with --dora [cli.usage]');
  });

  it("counts `shipgate rollback`'s record (rollbackOf set) as a restore even when its version is a revision", async () => {
    const other = await mkdtemp(path.join(os.tmpdir(), 'shipgate-dora-rb-'));
    try {
      await mkdir(path.join(other, '.shipgate', 'state'), { recursive: true });
      const records = [
        { service: 'orders', environment: 'prod', version: '1.4.0', outcome: 'succeeded', at: ago(10) },
        { service: 'orders', environment: 'prod', version: '1.5.0', outcome: 'succeeded', at: ago(5) },
        { service: 'orders', environment: 'prod', version: 's3://releases/orders-1.4.0.zip', outcome: 'rolled-back', at: ago(4.5), rollbackOf: 'd-NEW' },
      ];
      await writeFile(path.join(other, '.shipgate', 'state', 'deployments.jsonl'), records.map((r) => JSON.stringify(r)).join('\n'));
      const report = JSON.parse((await cli(['-C', other, 'deployments', '--dora', '--json'], other)).out);
      expect(report.groups[0]).toMatchObject({ changes: 2, deployments: 2, failures: 1, timeToRestore: { medianSeconds: 1800 } });
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('leaves the listing as it was', async () => {
    const { code, out } = await cli(['-C', dir, 'deployments', '--environment', 'prod', '--limit', '2'], dir);
    expect(code).toBe(0);
    expect(out.split('\n').slice(0, 3).map((l) => l.split(/\s{2,}/).slice(2, 5).join(' '))).toEqual(['environment version outcome', 'prod 1.5.1 succeeded', 'prod 1.4.0 rolled-back']);
    expect((await cli(['deployments', '--help'], dir)).out).toMatch(/--dora[\s\S]*--since <window>/);
  });
});

// DORA metrics from the app's deployment history, end to end on PGlite: deployments recorded over
// the real API (with their commit times) at chosen times, then read back three ways — the
// shipgate_dora_* series on /metrics, `/shipgate dora <service>` as a signed slash command through
// the real receiver, and `shipgate deployments --dora` (the CLI in this process) over GET /api/deployments.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import type { ShipgateApp } from '../src/app.js';
import { migrate, migrations } from '../src/store/migrations.js';
import { openPglite } from '../src/store/sql.js';
import { Store } from '../src/store/store.js';
import { cli } from '../../pipelines/test/helpers.js';
import { api, apiToken, memoryStore, postSlack, slackStandIn, slashCommand, startApp, users, waitFor, type SlackStandIn } from './helpers.js';

const hour = 3_600_000;
const t0 = Date.now();
let clock = t0;
let slack: SlackStandIn;
let store: Store;
let app: ShipgateApp;

const at = (hoursAgo: number) => new Date(t0 - hoursAgo * hour).toISOString();

/** Records a deployment as the app's clock reads `hoursAgo` before the test started. */
async function deployed(hoursAgo: number, body: Record<string, unknown>) {
  clock = t0 - hoursAgo * hour;
  const res = await api(app.url, 'POST', '/api/deployments', { service: 'orders', environment: 'prod', outcome: 'succeeded', deployer: users.bob, ...body });
  expect(res.status).toBe(201);
}

beforeAll(async () => {
  slack = await slackStandIn();
  store = await memoryStore();
  app = await startApp(slack, { store, now: () => new Date(clock) });
  // orders in prod: v1, v2 (rolled back an hour later by `shipgate rollback`, which records the
  // version it went back to), v3, v4 failed, v5 fixed it an hour later; orders in staging: v3
  await deployed(100, { version: 'v1', commit: 'a1b2c3d', commitAt: at(103) });
  await deployed(50, { version: 'v2', commit: 'b2c3d4e', commitAt: at(70) });
  await deployed(49, { version: 'v1', outcome: 'rolled-back' });
  await deployed(21, { version: 'v3', environment: 'staging', commit: 'c3d4e5f', commitAt: at(22) });
  await deployed(20, { version: 'v3', commit: 'c3d4e5f', commitAt: at(22) });
  await deployed(10, { version: 'v4', outcome: 'failed', commit: 'd4e5f60', commitAt: at(11) });
  await deployed(9, { version: 'v5', commit: 'e5f6071', commitAt: at(9.5) });
  // another service, long ago: outside the 30-day window
  await deployed(40 * 24, { service: 'billing', version: 'b1' });
  clock = t0;
});
afterAll(async () => {
  await app?.stop();
  await store?.close();
  await slack?.close();
});

describe('migration 4 (deployments.commit_sha, commit_at)', () => {
  it('upgrades a database at version 3: old rows keep no commit, new ones store it', async () => {
    const db = await openPglite('memory://');
    try {
      // the database as the app left it before migration 4
      const later = migrations.splice(migrations.findIndex((m) => m.version === 4));
      try {
        expect(await migrate(db)).toEqual([1, 2, 3]);
      } finally {
        migrations.push(...later);
      }
      await db.query(`INSERT INTO deployments (id, service, environment, version, outcome, created_at) VALUES ('dep_old', 'orders', 'prod', 'v0', 'succeeded', now())`);
      expect((await migrate(db))[0]).toBe(4);
      const upgraded = new Store(db);
      expect(await upgraded.deployments.get('dep_old')).toMatchObject({ version: 'v0', commit: null, commitAt: null });
      const recorded = await upgraded.deployments.record({ service: 'orders', environment: 'prod', version: 'v1', outcome: 'succeeded', commit: 'abcdef1', commitAt: '2026-03-01T10:15:00+01:00' }, { channel: null, now: new Date('2026-03-01T12:00:00Z') });
      expect(recorded).toMatchObject({ commit: 'abcdef1', commitAt: new Date('2026-03-01T09:15:00Z') });
    } finally {
      await db.close();
    }
  }, 60_000);
});

describe('GET /api/deployments', () => {
  it('returns the history oldest first as deploy records, with commit and commit time, filtered', async () => {
    const res = await api(app.url, 'GET', `/api/deployments?service=orders&environment=prod&since=${encodeURIComponent(at(60))}`);
    expect(res.status).toBe(200);
    expect(res.body.deployments.map((d: { version: string; outcome: string }) => `${d.version}:${d.outcome}`)).toEqual(['v2:succeeded', 'v1:rolled-back', 'v3:succeeded', 'v4:failed', 'v5:succeeded']);
    expect(res.body.deployments[0]).toMatchObject({ service: 'orders', environment: 'prod', at: at(50), commit: 'b2c3d4e', commitAt: at(70), deployer: users.bob, deploymentId: expect.stringMatching(/^dep_/) });
    expect(res.body.deployments[1].commit).toBeUndefined();
  });

  it('says which parameter is wrong, and needs the token', async () => {
    expect((await api(app.url, 'GET', '/api/deployments?since=yesterday')).body.error).toMatchObject({ code: 'api.invalid', message: 'since: "yesterday" is not an ISO 8601 time' });
    expect((await api(app.url, 'GET', '/api/deployments?limit=0')).status).toBe(400);
    expect((await api(app.url, 'GET', '/api/deployments', undefined, null)).status).toBe(401);
  });

  it('refuses a commit time that is not ISO 8601, naming the field', async () => {
    const res = await api(app.url, 'POST', '/api/deployments', { service: 'orders', environment: 'prod', version: 'v9', outcome: 'succeeded', commitAt: 'last tuesday' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/^commitAt: an ISO 8601 time/);
  });
});

/** The value of one series in Prometheus' text format, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (m?.[1] !== name) continue;
    const have = m[2]!.split(',');
    if (wanted.every((w) => have.includes(w)) && have.length === wanted.length) return Number(m[3]);
  }
  return undefined;
}

describe('/metrics', () => {
  it('exposes the four DORA metrics per service and environment, gauges and histograms', async () => {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const prod = { service: 'orders', environment: 'prod' };
    expect(sample(text, 'shipgate_dora_deployments', prod)).toBe(4);
    expect(sample(text, 'shipgate_dora_deployments_per_day', prod)).toBeCloseTo(4 / 30);
    expect(sample(text, 'shipgate_dora_changes', prod)).toBe(5);
    expect(sample(text, 'shipgate_dora_change_failures', prod)).toBe(2);
    expect(sample(text, 'shipgate_dora_change_failure_ratio', prod)).toBeCloseTo(0.4);
    // lead times 3h, 20h, 2h, 30m: nearest-rank median 2h
    expect(sample(text, 'shipgate_dora_lead_time_median_seconds', prod)).toBe(2 * 3600);
    // v2 → the rollback an hour later; v4 → v5 an hour later
    expect(sample(text, 'shipgate_dora_time_to_restore_median_seconds', prod)).toBe(3600);
    expect(sample(text, 'shipgate_dora_unrestored_failures', prod)).toBe(0);
    expect(sample(text, 'shipgate_dora_lead_time_seconds_bucket', { le: '3600', ...prod })).toBe(1);
    expect(sample(text, 'shipgate_dora_lead_time_seconds_bucket', { le: '14400', ...prod })).toBe(3);
    expect(sample(text, 'shipgate_dora_lead_time_seconds_count', prod)).toBe(4);
    expect(sample(text, 'shipgate_dora_time_to_restore_seconds_count', prod)).toBe(2);
    expect(sample(text, 'shipgate_dora_deployments', { service: 'orders', environment: 'staging' })).toBe(1);
    expect(text).not.toMatch(/shipgate_dora_deployments\{[^}]*service="billing"/);
    expect(text).toMatch(/^shipgate_dora_window_seconds 2592000$/m);
    expect(sample(text, 'shipgate_deployments_total', { ...prod, outcome: 'rolled-back' })).toBe(1);
  });
});

describe('POST /api/runs', () => {
  it("counts a run's report.json into the pipeline series once, and names a wrong field", async () => {
    const run = { schemaVersion: 1, runId: 'r-1', pipeline: 'orders', durationMs: 90_000, outcome: 'failure', invocations: [{ stepId: 'lint', outcome: 'success', durationMs: 4000, logTail: ['ok'] }, { stepId: 'test', outcome: 'timed-out', durationMs: 60_000 }, { stepId: 'deploy', outcome: 'skipped', durationMs: 0 }] };
    expect(await api(app.url, 'POST', '/api/runs', run)).toMatchObject({ status: 201, body: { runId: 'r-1', counted: true } });
    expect(await api(app.url, 'POST', '/api/runs', run)).toMatchObject({ status: 200, body: { counted: false } });
    const bad = await api(app.url, 'POST', '/api/runs', { ...run, runId: 'r-2', invocations: [{ stepId: 'x', outcome: 'exploded', durationMs: 1 }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^invocations\.0\.outcome: /);
    const text = await (await fetch(`${app.url}/metrics`)).text();
    expect(sample(text, 'shipgate_pipeline_runs_total', { pipeline: 'orders', outcome: 'failure' })).toBe(1);
    expect(sample(text, 'shipgate_pipeline_step_runs_total', { pipeline: 'orders', step: 'test', outcome: 'timed-out' })).toBe(1);
    expect(sample(text, 'shipgate_pipeline_step_duration_seconds_count', { pipeline: 'orders', step: 'test' })).toBe(1);
    // skipped steps say nothing of a step's duration
    expect(sample(text, 'shipgate_pipeline_step_duration_seconds_count', { pipeline: 'orders', step: 'deploy' })).toBeUndefined();
    expect(sample(text, 'shipgate_pipeline_run_duration_seconds_bucket', { pipeline: 'orders', le: '120' })).toBe(1);
  });
});

describe('shipgate send-report against this app', () => {
  it("sends a real `shipgate run`'s report.json once; its steps show on /metrics", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'shipgate-send-report-'));
    try {
      await writeFile(path.join(dir, 'shipgate.yml'), 'name: checkout-api\nsteps:\n  build: { run: "echo built" }\n  test: { run: "echo 2 failed; exit 3", needs: [build] }\n  deploy: { run: "echo never", needs: [test] }\n');
      const ran = await shipgate(['-C', dir, 'run', '--reporter', 'plain'], {});
      expect(ran.code).toBe(1);
      const env = { SHIPGATE_APP_URL: app.url, SHIPGATE_API_TOKEN: apiToken };
      const sent = await shipgate(['-C', dir, 'send-report'], env);
      expect(sent.err).toBe('');
      expect(sent.out).toMatch(/^sent: checkout-api run \S+ \(failure, 3 invocations\)\n$/);
      expect((await shipgate(['send-report', path.join(dir, '.shipgate', 'report.json')], env)).out).toMatch(/^already counted: checkout-api run /);
      const text = await (await fetch(`${app.url}/metrics`)).text();
      expect(sample(text, 'shipgate_pipeline_runs_total', { pipeline: 'checkout-api', outcome: 'failure' })).toBe(1);
      expect(sample(text, 'shipgate_pipeline_step_runs_total', { pipeline: 'checkout-api', step: 'build', outcome: 'success' })).toBe(1);
      expect(sample(text, 'shipgate_pipeline_step_runs_total', { pipeline: 'checkout-api', step: 'test', outcome: 'failure' })).toBe(1);
      expect(sample(text, 'shipgate_pipeline_step_runs_total', { pipeline: 'checkout-api', step: 'deploy', outcome: 'skipped' })).toBe(1);

      const missing = await shipgate(['-C', dir, 'send-report', 'nope.json'], env);
      expect(missing.code).toBe(2);
      expect(missing.err).toContain('nope.json: no such file [report.not-found]');
      const refused = await shipgate(['-C', dir, 'send-report'], { ...env, SHIPGATE_API_TOKEN: 'wrong' });
      expect(refused.code).toBe(3);
      expect(refused.err).toContain('the Slack app refused the run report: HTTP 401: missing or wrong bearer token [report.app-refused]');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('/shipgate dora <service>', () => {
  it('answers a signed slash command with a table of the environments the asker may see', async () => {
    const sent = await postSlack(app.url, slashCommand({ user: users.ada, text: 'dora orders', responseUrl: `${slack.url}/response/dora-ada` }));
    expect(sent.status).toBe(200);
    const reply = await waitFor(() => slack.responses.find((r) => r.path === '/response/dora-ada'), 'the dora reply');
    expect(reply.body.response_type).toBe('ephemeral');
    const text = JSON.stringify(reply.body.blocks);
    expect(text).toContain('DORA metrics of orders*, last 30 days');
    expect(text).toMatch(/orders {3}prod {9}4 {8}4\.0\/30d {4}2h 00m \(p90 20h 00m, n=4\) +40% \(2\/5\) +1h 00m \(p90 1h 00m, n=2\)/);
    expect(text).toMatch(/orders {3}staging/);

    // bob approves staging only, and is in no channel: prod is left out, and the reply says so
    await postSlack(app.url, slashCommand({ user: users.bob, text: 'dora orders', responseUrl: `${slack.url}/response/dora-bob` }));
    const bobs = JSON.stringify((await waitFor(() => slack.responses.find((r) => r.path === '/response/dora-bob'), 'bob’s reply')).body.blocks);
    expect(bobs).toMatch(/orders {3}staging/);
    expect(bobs).not.toMatch(/orders {3}prod/);
    expect(bobs).toContain('1 environment you are not in the channel of (or an approver for) is not shown');
  });

  it('is declared in the Slack app manifest (Slack only sends commands the manifest names)', async () => {
    const manifest = parse(await readFile(new URL('../manifest.yml', import.meta.url), 'utf8')) as { features: { slash_commands: Array<{ command: string; usage_hint: string; url: string }> } };
    const command = manifest.features.slash_commands.find((c) => c.command === '/shipgate');
    expect(command?.usage_hint).toContain('dora <service>');
    expect(command?.url).toMatch(/\/slack\/events$/);
  });

  it('says when a service has no deployments in the window, and how to ask when the service is missing', async () => {
    await postSlack(app.url, slashCommand({ user: users.ada, text: 'dora billing', responseUrl: `${slack.url}/response/dora-none` }));
    expect(JSON.stringify((await waitFor(() => slack.responses.find((r) => r.path === '/response/dora-none'), 'the reply')).body)).toContain('No deployments of billing in the last 30 days.');
    // eve approves nothing and is in no channel: she sees none of orders' environments, and is told why
    await postSlack(app.url, slashCommand({ user: users.eve, text: 'dora orders', responseUrl: `${slack.url}/response/dora-eve` }));
    const eves = (await waitFor(() => slack.responses.find((r) => r.path === '/response/dora-eve'), 'eve’s reply')).body;
    expect(eves.text).toBe('No deployments of orders in the last 30 days that you may see.');
    expect(JSON.stringify(eves.blocks)).toContain('2 environments you are not in the channel of (or an approver for) are not shown');
    await postSlack(app.url, slashCommand({ user: users.ada, text: 'dora', responseUrl: `${slack.url}/response/dora-usage` }));
    expect((await waitFor(() => slack.responses.find((r) => r.path === '/response/dora-usage'), 'the usage')).body.text).toContain('`/shipgate dora <service>`');
  });
});

/** The real `shipgate` CLI in this process (the pipelines tests' own helper), run where the test is. */
const shipgate = (args: string[], env: Record<string, string>) => cli(args, process.cwd(), env);

describe('shipgate deployments --dora against this app', () => {
  it('reads the history over GET /api/deployments and prints the same metrics', async () => {
    const env = { SHIPGATE_APP_URL: app.url, SHIPGATE_API_TOKEN: apiToken };
    const json = await shipgate(['deployments', '--dora', '--service', 'orders', '--json'], env);
    expect(json.err).toBe('');
    expect(json.code).toBe(0);
    const report = JSON.parse(json.out);
    expect(report.source).toBe(`the Slack app at ${app.url}`);
    expect(report.groups.map((g: { environment: string; deployments: number; failures: number }) => [g.environment, g.deployments, g.failures])).toEqual([
      ['prod', 4, 2],
      ['staging', 1, 0],
    ]);
    expect(report.groups[0]).toMatchObject({ changeFailureRate: 0.4, leadTime: { count: 4, medianSeconds: 7200, p90Seconds: 72_000 }, timeToRestore: { count: 2, medianSeconds: 3600 } });

    const text = await shipgate(['deployments', '--dora', '--since', '2d'], env);
    expect(text.code).toBe(0);
    expect(text.out).toContain(`(2 days), from the Slack app at ${app.url}`);
    // in two days: v2 (50 h ago) is out; its rollback is not a change
    expect(text.out).toMatch(/orders {3}prod {9}2 {8}1\.0\/day/);
  });

  it('exits 3 with the app’s own message when the token is wrong', async () => {
    const res = await shipgate(['deployments', '--dora'], { SHIPGATE_APP_URL: app.url, SHIPGATE_API_TOKEN: 'wrong' });
    expect(res.code).toBe(3);
    expect(res.err).toContain('the Slack app refused GET /api/deployments: missing or wrong bearer token [deployments.app-refused]');
    expect(res.err).not.toContain('    at ');
  });
});

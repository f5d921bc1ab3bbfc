// The prometheus/ folder against the real thing: the rules pass `promtool check rules` and their
// own `promtool test rules` unit tests; every query of the Grafana dashboard parses as PromQL
// (promtool, Prometheus' own parser) and returns data from a real Prometheus (Debian's package)
// started here on 127.0.0.1, scraping the real Slack app after deployments, approvals and pipeline
// runs were made through its API and its signed Slack requests.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ShipgateApp } from '../../bolt-app/src/app.js';
import type { Store } from '../../bolt-app/src/store/store.js';
import { api, approvalBody, blockActions, memoryStore, postSlack, slackStandIn, startApp, users, viewSubmission, waitFor, type SlackStandIn } from '../../bolt-app/test/helpers.js';

const root = path.resolve(import.meta.dirname, '../..');
const rulesFile = path.join(root, 'prometheus/rules/shipgate.rules.yml');
const dashboardFile = path.join(root, 'prometheus/grafana/shipgate.json');
const run = promisify(execFile);
const installed = existsSync('/usr/bin/prometheus') && existsSync('/usr/bin/promtool');
// CI installs Debian's prometheus package (.ci/run); elsewhere these tests need it too, and say so
const describeWithPrometheus = installed || process.env.CI ? describe : describe.skip;
if (!installed && !process.env.CI) console.warn('test/prometheus: skipped, the `prometheus` package (prometheus, promtool) is not installed: apt-get install prometheus');

interface Target {
  refId: string;
  expr: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: Target[];
}

async function dashboardQueries(): Promise<Array<{ panel: string; refId: string; expr: string }>> {
  const dashboard = JSON.parse(await readFile(dashboardFile, 'utf8')) as { panels: Panel[] };
  return dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, refId: t.refId, expr: t.expr })));
}

/** Grafana's variables as a query sent to Prometheus would have them: every value, a minute's rate, the last five minutes. */
function withVariables(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '5m').replace(/\$(service|environment|pipeline)\b/g, '.*');
}

async function promtool(args: string[], cwd = root): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd, timeout: 30_000 });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

let tmp = '';
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'shipgate-prometheus-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describeWithPrometheus('prometheus/rules', () => {
  it('pass promtool check rules', async () => {
    const { code, out } = await promtool(['check', 'rules', rulesFile]);
    expect(out).toContain('SUCCESS: 15 rules found');
    expect(code).toBe(0);
  });

  it('pass their unit tests (promtool test rules): alerts fire when they should, and only then', async () => {
    const { code, out } = await promtool(['test', 'rules', 'shipgate.rules.test.yml'], path.dirname(rulesFile));
    expect(out).toContain('SUCCESS');
    expect(code).toBe(0);
  });

  it('the check fails on a broken rule (so the checks above can fail)', async () => {
    const broken = path.join(tmp, 'broken.rules.yml');
    await writeFile(broken, (await readFile(rulesFile, 'utf8')).replace('max(shipgate_outbox_depth) > 50', 'max(shipgate_outbox_depth > 50'));
    const { code, out } = await promtool(['check', 'rules', broken]);
    expect(code).not.toBe(0);
    expect(out).toMatch(/unclosed left parenthesis/);
  });
});

describeWithPrometheus('prometheus/grafana/shipgate.json', () => {
  it('has the delivery, approvals and pipelines rows, and a query in every panel', async () => {
    const dashboard = JSON.parse(await readFile(dashboardFile, 'utf8')) as { uid: string; panels: Panel[] };
    expect(dashboard.uid).toBe('shipgate-delivery');
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows.map((r) => r.split(' ')[0])).toEqual(['Delivery', 'Approvals', 'Pipelines', 'The']);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) expect([panel.title, panel.targets?.length ?? 0]).toEqual([panel.title, expect.any(Number)]);
    expect(dashboard.panels.filter((p) => p.type !== 'row').every((p) => (p.targets ?? []).every((t) => t.expr.trim().length > 0) && (p.targets ?? []).length > 0)).toBe(true);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    const queries = (await dashboardQueries()).map((q) => q.expr).join('\n');
    for (const metric of ['shipgate_dora_deployments_per_day', 'shipgate_dora_lead_time_median_seconds', 'shipgate_dora_change_failure_ratio', 'shipgate_dora_time_to_restore_median_seconds', 'shipgate_approval_time_to_decision_seconds_bucket', 'shipgate_pipeline_run_duration_seconds_bucket', 'shipgate_pipeline_step_runs_total']) expect(queries).toContain(metric);
  });

  it('every query parses as PromQL (Prometheus’ own parser, through promtool)', async () => {
    const queries = await dashboardQueries();
    const asRules = (list: typeof queries) => `groups:\n  - name: dashboard\n    rules:\n${list.map((q, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(withVariables(q.expr))}\n`).join('')}`;
    const file = path.join(tmp, 'dashboard.rules.yml');
    await writeFile(file, asRules(queries));
    const ok = await promtool(['check', 'rules', file]);
    expect(ok.out).toContain(`SUCCESS: ${queries.length} rules found`);
    // and the same check refuses a query with a typo
    await writeFile(file, asRules([{ panel: 'x', refId: 'A', expr: 'sum by (le (rate(x[1m]))' }]));
    expect((await promtool(['check', 'rules', file])).code).not.toBe(0);
  });
});

/** A free loopback port (the kernel's choice, released just before Prometheus takes it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface QueryResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

describeWithPrometheus('the dashboard on a real Prometheus scraping the real Slack app', () => {
  let slack: SlackStandIn;
  let store: Store;
  let app: ShipgateApp;
  let prometheus: ChildProcess | undefined;
  let promUrl = '';
  let promLog = '';

  const query = async (expr: string): Promise<QueryResult> => (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(5000) })).json()) as QueryResult;
  const hasValue = async (expr: string) => ((await query(expr)).data?.result.length ?? 0) > 0;

  beforeAll(async () => {
    slack = await slackStandIn();
    store = await memoryStore();
    app = await startApp(slack, { store });
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const config = path.join(tmp, 'prometheus.yml');
    const appHost = new URL(app.url).host;
    await writeFile(config, `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - ${JSON.stringify(rulesFile)}\nscrape_configs:\n  - job_name: shipgate-bolt\n    static_configs:\n      - targets: [${JSON.stringify(appHost)}]\n`);
    prometheus = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${path.join(tmp, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    prometheus.stdout?.on('data', (c: Buffer) => (promLog += c.toString()));
    prometheus.stderr?.on('data', (c: Buffer) => (promLog += c.toString()));
    await waitFor(async () => (await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok, `Prometheus ready (log: ${promLog.slice(-500)})`, 30_000);
    await waitFor(() => hasValue('up{job="shipgate-bolt"} == 1'), 'the first scrape of the app', 30_000);
  }, 90_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (prometheus.exitCode === null) prometheus.kill('SIGKILL');
    }
    await app?.stop();
    await store?.close();
    await slack?.close();
  });

  /** One round of activity through the app's API and signed Slack requests. */
  async function activity(round: number): Promise<void> {
    const hour = 3_600_000;
    const commitAt = (h: number) => new Date(Date.now() - h * hour).toISOString();
    for (const [service, environment, version, outcome, lead] of [
      ['orders', 'prod', `v${round}.0`, 'succeeded', 3],
      ['orders', 'staging', `v${round}.0`, 'succeeded', 2],
      ['orders', 'prod', `v${round}.1`, 'failed', 1],
      ['orders', 'prod', `v${round}.2`, 'succeeded', 0.5],
    ] as const) {
      const res = await api(app.url, 'POST', '/api/deployments', { service, environment, version, outcome, commit: `abc${round}def0`, commitAt: commitAt(lead) });
      expect(res.status).toBe(201);
    }
    // the second round ends with `shipgate rollback` to v1.0 (what it records: the version it went back to)
    if (round === 2) expect((await api(app.url, 'POST', '/api/deployments', { service: 'orders', environment: 'prod', version: 'v1.0', outcome: 'rolled-back' })).status).toBe(201);
    // one approval approved, one rejected (through the modal), one click refused
    const approve = await api(app.url, 'POST', '/api/approvals', approvalBody({ version: `v${round}.2` }));
    const reject = await api(app.url, 'POST', '/api/approvals', approvalBody({ version: `v${round}.3` }));
    await postSlack(app.url, blockActions({ user: users.eve, actionId: 'shipgate_approve', value: approve.body.id }));
    await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: approve.body.id }));
    await postSlack(app.url, viewSubmission({ user: users.ada, approvalId: reject.body.id, reason: 'not today' }));
    await waitFor(async () => (await store.approvals.get(reject.body.id))?.state === 'rejected' && (await store.approvals.get(approve.body.id))?.state === 'approved', 'both decisions');
    // two pipeline runs as report.json has them: test fails in one
    for (const [n, outcome] of [
      [1, 'success'],
      [2, 'failure'],
    ] as const) {
      const res = await api(app.url, 'POST', '/api/runs', {
        schemaVersion: 1,
        runId: `run-${round}-${n}`,
        pipeline: 'orders',
        durationMs: 60_000 * n,
        outcome,
        startedAt: new Date().toISOString(),
        counts: {},
        invocations: [
          { stepId: 'build', outcome: 'success', durationMs: 20_000, logTail: ['built'] },
          { stepId: 'test', outcome: outcome === 'success' ? 'success' : 'failure', durationMs: 30_000 * n, logTail: [] },
          { stepId: 'deploy', outcome: outcome === 'success' ? 'success' : 'skipped', durationMs: 0, logTail: [] },
        ],
      });
      expect(res.status).toBe(201);
    }
  }

  it('every panel query returns data (a number, not NaN) once deployments, approvals and runs were made', async () => {
    // two rounds a few scrapes apart, so rate() and increase() see counters go up
    await activity(1);
    await waitFor(() => hasValue('shipgate_pipeline_runs_total'), 'the first round scraped', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await activity(2);
    await waitFor(() => hasValue('sum(shipgate_pipeline_runs_total) >= 4'), 'the second round scraped', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));

    const empty: string[] = [];
    for (const q of await dashboardQueries()) {
      const res = await query(withVariables(q.expr));
      expect([q.panel, q.refId, res.status, res.error]).toEqual([q.panel, q.refId, 'success', undefined]);
      const values = (res.data?.result ?? []).map((r) => Number(r.value[1]));
      if (!values.some((v) => Number.isFinite(v))) empty.push(`${q.panel} ${q.refId}: ${JSON.stringify(res.data?.result)}`);
    }
    expect(empty).toEqual([]);

    // and the numbers are the app's: 6 changes in prod; all failed — two failed outright, the second
    // round's rollback undid v2.2, and the others were each followed by another change within the
    // fix-forward hour (rounds seconds apart)
    expect(Number((await query('shipgate_dora_changes{service="orders", environment="prod"}')).data?.result[0]?.value[1])).toBe(6);
    expect(Number((await query('shipgate_dora_change_failures{service="orders", environment="prod"}')).data?.result[0]?.value[1])).toBe(6);
    expect(Number((await query('shipgate_pipeline_step_runs_total{pipeline="orders", step="test", outcome="failure"}')).data?.result[0]?.value[1])).toBe(2);
    // the retried POST of a run is not counted twice
    const again = await api(app.url, 'POST', '/api/runs', { schemaVersion: 1, runId: 'run-2-2', pipeline: 'orders', durationMs: 1, outcome: 'failure', invocations: [] });
    expect(again).toMatchObject({ status: 200, body: { counted: false } });
  }, 120_000);

  it('loads the rules into the same Prometheus, evaluates them without error, and the rollback alert fires', async () => {
    type Rules = { data: { groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string; state?: string; alerts?: Array<{ labels: Record<string, string> }> }> }> } };
    const rules = async () => (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as Rules;
    expect((await rules()).data.groups.map((g) => g.name).sort()).toEqual(['shipgate-alerts', 'shipgate-recording']);
    expect((await rules()).data.groups.flatMap((g) => g.rules).length).toBe(15);
    const alerts = await waitFor(async () => {
      const group = (await rules()).data.groups.find((g) => g.name === 'shipgate-alerts');
      return group?.rules.every((r) => r.health === 'ok') ? group.rules : undefined;
    }, 'the alerting rules evaluated', 20_000);
    const rolledBack = alerts.find((r) => r.name === 'ShipgateDeploymentRolledBack');
    expect(rolledBack?.state).toBe('firing');
    expect(rolledBack?.alerts?.[0]?.labels).toMatchObject({ alertname: 'ShipgateDeploymentRolledBack', service: 'orders', environment: 'prod', severity: 'info' });
    expect(alerts.find((r) => r.name === 'ShipgateAppDown')?.state).toBe('inactive');
  }, 30_000);
});

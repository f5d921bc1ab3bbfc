// The verify step against a real Prometheus (Debian's binary, started here on 127.0.0.1) scraping
// a small service whose error rate the test switches between releases. The step is the one the CLI
// builds, with its real rollbacks: CodeDeploy's (against the loopback AWS stand-in) and the image
// registry's (against a real registry holding images pushed with docker). Scenarios of issue 16:
// a good release passes after its bake time; a bad one is rolled back within failure-limit + 1
// evaluations and recorded as rolled back (deployments.jsonl and the Slack app's API); Prometheus
// stopped mid-verify is inconclusive, never passed; a malformed query fails `shipgate validate`.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StepDefinition } from '@shipgate/protocol';
import { runStepInProcess } from '@shipgate/core';
import { defaultRegistry } from '@shipgate/cli';
import { promoteImage } from '@shipgate/image';
import { recordDeployment } from '@shipgate/core';
import type { ApprovalStore, ShipgateApp } from '@shipgate/bolt-app';
import { apiToken, memoryStore, slackStandIn, startApp, waitFor, type SlackStandIn } from '../../../bolt-app/test/helpers.js';
import { cli } from '../../test/helpers.js';
import { fakeAwsEnv, startAwsStandIn, type AwsStandIn } from '../../test/support/aws-stand-in.js';
import { requirePrometheus, startPrometheus, type StartedPrometheus } from '../../test/support/prometheus.js';
import { buildTinyImage, inspectDigest, pushImage, removeLocalImages, requireDocker, startRegistry, type StartedRegistry } from '../../test/support/registry.js';
import { startReleaseService, type ReleaseService } from '../../test/support/release-service.js';

const enabled = requirePrometheus('verify tests against Prometheus');
const withDocker = enabled && (await requireDocker('verify image rollback on a real registry'));
const suite = enabled ? describe : describe.skip;

const errorRate = 'sum(rate(demo_http_requests_total{code="500",version="{{ version }}"}[4s])) / sum(rate(demo_http_requests_total{version="{{ version }}"}[4s]))';
const latency = 'sum(rate(demo_request_seconds_sum{version="{{ version }}"}[4s])) / sum(rate(demo_http_requests_total{version="{{ version }}"}[4s]))';
const checks = [
  { name: 'error-rate', query: errorRate, max: 0.05 },
  { name: 'latency', query: latency, max: 0.3 },
];

const verify = defaultRegistry().get('verify') as StepDefinition;

suite('verify against a real Prometheus', () => {
  let service: ReleaseService;
  let stable: ReleaseService; // the previous version, still serving beside the new one (a canary's baseline)
  let prometheus: StartedPrometheus;
  let workspace: string;

  beforeAll(async () => {
    service = await startReleaseService({ version: '1.0.0', errorRatio: 0.01, latency: 0.1 });
    stable = await startReleaseService({ version: '0.9.0', errorRatio: 0, latency: 0.1 });
    prometheus = await startPrometheus({ targets: [service.hostPort, stable.hostPort] });
    await prometheus.scraped();
    workspace = mkdtempSync(path.join(os.tmpdir(), 'sg-verify-it-'));
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await service?.stop();
    await stable?.stop();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  it('passes a good release after its bake time, with a table of every evaluation', async () => {
    service.deploy({ version: '1.1.0', errorRatio: 0.01, latency: 0.1 });
    const started = performance.now();
    const result = await runStepInProcess(verify, { prometheus: prometheus.url, checks, version: '1.1.0', environment: 'production', interval: '1s', count: 3, 'initial-delay': '4s' }, { cwd: workspace, env: {} });
    const took = performance.now() - started;
    expect([result.status, result.error, result.outputs]).toEqual(['success', undefined, { verdict: 'passed', evaluations: '3', 'failing-check': '' }]);
    expect(took).toBeGreaterThanOrEqual(6_000); // initial-delay + (count - 1) × interval
    const table = result.logs.find((l) => l.startsWith('verdict: passed'))!;
    expect(table.split('\n').filter((l) => /^\d+\s/.test(l)).map((l) => l.split(/\s+/).slice(0, 3).concat(l.trim().split(/\s+/).pop()!))).toEqual([
      ['1', expect.stringMatching(/s$/), 'error-rate', 'pass'],
      ['1', expect.stringMatching(/s$/), 'latency', 'pass'],
      ['2', expect.stringMatching(/s$/), 'error-rate', 'pass'],
      ['2', expect.stringMatching(/s$/), 'latency', 'pass'],
      ['3', expect.stringMatching(/s$/), 'error-rate', 'pass'],
      ['3', expect.stringMatching(/s$/), 'latency', 'pass'],
    ]);
    expect(result.summaries.join('\n')).toContain('| 3 |');
  }, 30_000);

  it('fails a release worse than the previous version by more than the margin (baseline), with the failing check', async () => {
    service.deploy({ version: '2.0.0', errorRatio: 0, latency: 0.3 });
    const baselineChecks = [{ name: 'latency-vs-previous', query: latency, baseline: { margin: 0.2 } }];
    const result = await runStepInProcess(verify, { prometheus: prometheus.url, checks: baselineChecks, version: '2.0.0', 'baseline-version': '0.9.0', interval: '1s', count: 3, 'initial-delay': '4s' }, { cwd: workspace, env: {} });
    expect(result.outputs).toEqual({ verdict: 'failed', evaluations: '1', 'failing-check': 'latency-vs-previous', 'rolled-back': 'false' });
    expect(result.error?.message).toMatch(/^verification failed: check "latency-vs-previous": 0\.3 is worse than the baseline 0\.1 by more than 20% \(evaluation 1\); nothing rolled back \(no on-failure\)$/);
  }, 30_000);

  describe('a bad release', () => {
    let aws: AwsStandIn;
    let slack: SlackStandIn;
    let store: ApprovalStore;
    let app: ShipgateApp;
    let registry: StartedRegistry | undefined;
    const images: string[] = [];
    let good = '';
    let bad = '';

    beforeAll(async () => {
      aws = await startAwsStandIn();
      // the real shipgate Slack app (PGlite store, HTTP API on loopback; Slack's Web API stood in)
      slack = await slackStandIn();
      store = await memoryStore();
      app = await startApp(slack, { store });
      const s3 = (key: string, version: string) => ({ revisionType: 'S3', s3Location: { bucket: 'releases', key, bundleType: 'zip', version } });
      aws.handlers.set('GetDeploymentGroup', () => ({ deploymentGroupInfo: { applicationName: 'orders', deploymentGroupName: 'production', targetRevision: s3('orders-1.2.0.zip', 'v3'), lastSuccessfulDeployment: { deploymentId: 'd-3', status: 'Succeeded' } } }));
      aws.handlers.set('ListDeployments', () => ({ deployments: ['d-3', 'd-2'] }));
      aws.handlers.set('BatchGetDeployments', () => ({
        deploymentsInfo: [
          { deploymentId: 'd-3', status: 'Succeeded', completeTime: 1_764_000_300, revision: s3('orders-1.2.0.zip', 'v3') },
          { deploymentId: 'd-2', status: 'Succeeded', completeTime: 1_764_000_200, revision: s3('orders-1.1.0.zip', 'v2') },
        ],
      }));
      aws.handlers.set('CreateDeployment', () => ({ deploymentId: 'd-BACK' }));
      aws.handlers.set('GetDeployment', () => ({ deploymentInfo: { deploymentId: 'd-BACK', applicationName: 'orders', deploymentGroupName: 'production', status: 'Succeeded', computePlatform: 'Server' } }));
      if (!withDocker) return;
      registry = await startRegistry();
      const refs = ['1.1.0', '1.2.0'].map((v) => `${registry!.host}/shop/orders:${v}`);
      images.push(...refs);
      await Promise.all(refs.map((ref, i) => buildTinyImage(ref, { 'version.txt': `orders ${i} ${Date.now()}\n` })));
      [good, bad] = (await Promise.all(refs.map((ref) => pushImage(ref)))) as [string, string];
      await promoteImage({ source: refs[0]!, tag: 'prod' });
      await promoteImage({ source: refs[1]!, tag: 'prod' });
    }, 120_000);

    afterAll(async () => {
      await aws?.close();
      await app?.stop();
      await store?.close();
      await slack?.close();
      await removeLocalImages(...images);
      await registry?.stop();
    });

    it('is rolled back within failure-limit + 1 evaluations, through CodeDeploy and the registry, and recorded as rolled back', async () => {
      if (withDocker) expect(await inspectDigest(`${registry!.host}/shop/orders:prod`)).toBe(bad);
      // the bad release was deployed and told to the app, as the codedeploy step does
      const appEnv = { SHIPGATE_APP_URL: app.url, SHIPGATE_API_TOKEN: apiToken };
      await recordDeployment({ service: 'orders', environment: 'prod', version: '1.2.0', outcome: 'succeeded', via: 'codedeploy' }, { stateDir: path.join(workspace, '.shipgate/state'), env: appEnv });
      const deployed = await waitFor(() => slack.of('chat.postMessage').find((c) => JSON.stringify(c.args).includes('1.2.0')), 'the deployment message');
      const deployedTs = (await store.deployments.history('orders', 'prod'))[0]!.messageTs;
      expect(deployedTs).toBeTruthy();
      service.deploy({ version: '1.2.0', errorRatio: 0.4, latency: 0.1 });
      const onFailure = {
        codedeploy: { application: 'orders', 'deployment-group': 'production', endpoint: aws.url },
        ...(withDocker ? { image: { repository: `${registry!.host}/shop/orders` } } : {}),
      };
      const env = { ...fakeAwsEnv, ...appEnv };
      const inputs = { prometheus: prometheus.url, checks, version: '1.2.0', environment: 'prod', service: 'orders', interval: '1s', count: 10, 'failure-limit': 1, 'initial-delay': '4s', 'on-failure': onFailure };
      const result = await runStepInProcess(verify, inputs, { cwd: workspace, env });

      expect(result.status).toBe('failure');
      expect(result.error).toMatchObject({ code: 'verify.failed', message: expect.stringMatching(/^verification failed: check "error-rate": 0\.\d+ > 0\.05 \(evaluation 2\); codedeploy rolled back/) });
      expect(result.outputs).toEqual({ verdict: 'failed', evaluations: '2', 'failing-check': 'error-rate', 'rolled-back': 'true' });
      // the rollback reached CodeDeploy: a new deployment of the previous good revision
      const created = aws.calls.filter((c) => c.target.endsWith('.CreateDeployment'));
      expect(created.map((c) => c.input)).toEqual([expect.objectContaining({ applicationName: 'orders', deploymentGroupName: 'production', revision: { revisionType: 'S3', s3Location: { bucket: 'releases', key: 'orders-1.1.0.zip', bundleType: 'zip', version: 'v2' } } })]);
      // and the registry: the environment's tag points at the good image again
      if (withDocker) expect(await inspectDigest(`${registry!.host}/shop/orders:prod`)).toBe(good);

      const records = readFileSync(path.join(workspace, '.shipgate/state/deployments.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(records.at(-1)).toMatchObject({ service: 'orders', environment: 'prod', version: '1.2.0', outcome: 'rolled-back', via: 'verify', rollback: { kind: 'codedeploy', application: 'orders', deploymentGroup: 'production' } });
      expect(records.at(-1)!.detail).toMatch(/^verify: check "error-rate" failed at evaluation 2: 0\.\d+ > 0\.05; codedeploy rolled back: rolled orders\/production back from s3:\/\/releases\/orders-1\.2\.0\.zip \(version v3\) to s3:\/\/releases\/orders-1\.1\.0\.zip \(version v2\) \(deployment d-BACK\)/);
      expect(records.at(-1)!.reason).toMatch(/^verify: check "error-rate" failed at evaluation 2: 0\.\d+ > 0\.05$/);
      // the Slack app has it as rolled back, with the failing check, and answered in the thread of
      // the deployment's message (escaped: `>` as `&gt;`)
      const history = await store.deployments.history('orders', 'prod');
      expect(history.map((d) => [d.version, d.outcome])).toEqual([['1.2.0', 'rolled-back'], ['1.2.0', 'succeeded']]);
      expect(history[0]!.reason).toBe(records.at(-1)!.reason);
      const posted = await waitFor(() => slack.of('chat.postMessage').find((c) => c !== deployed && /rolled.back/i.test(JSON.stringify(c.args))), 'the rolled-back message');
      expect(posted.args).toMatchObject({ channel: 'C0PROD0001', thread_ts: deployedTs });
      expect(posted.args.text).toMatch(/^Rolled back by the pipeline: orders 1\.2\.0 in prod — verify: check "error-rate" failed at evaluation 2: 0\.\d+ &gt; 0\.05$/);
    }, 60_000);
  });

  it('is inconclusive, never passed, when Prometheus stops mid-verify', async () => {
    const own = await startPrometheus({ targets: [service.hostPort] });
    try {
      await own.scraped();
      service.deploy({ version: '1.3.0', errorRatio: 0, latency: 0.1 });
      const stopping = new Promise<void>((resolve) => setTimeout(() => void own.stop().then(resolve), 5_500));
      const result = await runStepInProcess(verify, { prometheus: own.url, checks, version: '1.3.0', interval: '1s', count: 8, 'initial-delay': '4s', 'query-timeout': '1s' }, { cwd: workspace, env: {} });
      await stopping;
      expect(result.status).toBe('failure');
      expect(result.outputs.verdict).toBe('inconclusive');
      expect(result.error).toMatchObject({ code: 'verify.inconclusive', message: expect.stringContaining('Prometheus: fetch failed') });
      expect(result.logs.filter((l) => l.startsWith('evaluation ')).map((l) => / (pass|inconclusive|fail) — /.exec(l)![1])).toEqual(['pass', 'pass', 'inconclusive']);
    } finally {
      await own.stop();
    }
  }, 60_000);
});

describe('shipgate validate parses every check as PromQL', () => {
  it('reports a malformed query at its file:line:col in shipgate.yml', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-verify-validate-'));
    try {
      writeFileSync(
        path.join(dir, 'shipgate.yml'),
        ['name: orders', 'steps:', '  verify:', '    uses: verify', '    with:', '      prometheus: http://127.0.0.1:9090', '      checks:', '        - name: error-rate', '          query: sum(rate(http_requests_total{code="500"}[1m]) / 2', '          max: 0.05', ''].join('\n'),
      );
      const { code, err } = await cli(['validate'], dir);
      expect(code).toBe(2);
      expect(err).toContain('shipgate.yml:9:18: step "verify": input checks[0].query: PromQL syntax error at column 50 of the query (it ends too early)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the pipelines guide', () => {
  it('has a verify example pipeline (deploy → verify → promote) that shipgate validate accepts', async () => {
    const guide = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    const section = guide.slice(guide.indexOf('\n## verify\n'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    expect(yaml).toMatch(/uses: codedeploy[\s\S]*uses: verify[\s\S]*on-failure:[\s\S]*command: promote/);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-verify-guide-'));
    try {
      writeFileSync(path.join(dir, 'shipgate.yml'), yaml);
      const { code, err } = await cli(['validate'], dir);
      expect([code, err]).toEqual([0, '']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

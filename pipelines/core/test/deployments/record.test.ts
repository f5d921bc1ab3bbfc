// Deploy records: deployments.jsonl on disk, and the POST the Slack app receives, against a
// loopback HTTP server standing in for the app's /api/deployments.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readDeployments, recordDeployment } from '../../src/deployments/index.js';
import { closeServer, listenOnLoopback } from '../../../test/helpers.js';

type Received = { method: string | undefined; url: string | undefined; auth: string | undefined; body: unknown };
const received: Received[] = [];
let statuses: number[] = [];
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    received.push({ method: req.method, url: req.url, auth: req.headers.authorization, body: body ? JSON.parse(body) : undefined });
    const status = statuses.shift() ?? 201;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(status === 201 ? { id: `dep-${received.length}` } : { error: 'nope' }));
  });
});
let appUrl = '';
let dir = '';

beforeAll(async () => {
  appUrl = await listenOnLoopback(server);
});
afterAll(async () => {
  await closeServer(server);
  if (dir) await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  received.length = 0;
  statuses = [];
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = await mkdtemp(path.join(os.tmpdir(), 'shipgate-records-'));
});

const record = {
  service: 'orders',
  environment: 'prod',
  version: '1.4.2',
  digest: `sha256:${'ab'.repeat(32)}`,
  outcome: 'succeeded' as const,
  deployer: 'alice',
  url: 'https://eu-west-1.console.aws.amazon.com/codesuite/codedeploy/deployments/d-1?region=eu-west-1',
  rollback: { kind: 'codedeploy' as const, application: 'orders', deploymentGroup: 'prod', region: 'eu-west-1' },
  via: 'codedeploy',
  deploymentId: 'd-1',
};

describe('recordDeployment', () => {
  it('appends a line to deployments.jsonl and POSTs the contract fields with the bearer token', async () => {
    const stateDir = path.join(dir, '.shipgate', 'state');
    const result = await recordDeployment(record, { stateDir, env: { SHIPGATE_APP_URL: `${appUrl}/`, SHIPGATE_API_TOKEN: 'tok-123' } });
    expect(result).toEqual({ file: path.join(stateDir, 'deployments.jsonl'), appId: 'dep-1' });

    const lines = (await readFile(result.file, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ ...record, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });

    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', url: '/api/deployments', auth: 'Bearer tok-123' });
    // only what the app's API accepts: no `via`, `deploymentId` or `at`
    expect(received[0]!.body).toEqual({
      service: 'orders',
      environment: 'prod',
      version: '1.4.2',
      digest: record.digest,
      outcome: 'succeeded',
      deployer: 'alice',
      url: record.url,
      rollback: { kind: 'codedeploy', application: 'orders', deploymentGroup: 'prod', region: 'eu-west-1' },
    });
  });

  it.each([
    ['an https URL is sent as reportUrl', 'https://ci.example.com/orders/runs/42', 'https://ci.example.com/orders/runs/42'],
    ['a javascript: URL is left out', 'javascript:alert(1)', undefined],
    ['an empty value is left out', '  ', undefined],
  ])('SHIPGATE_REPORT_URL: %s', async (_name, given, sent) => {
    await recordDeployment(record, { stateDir: dir, env: { SHIPGATE_APP_URL: appUrl, SHIPGATE_API_TOKEN: 't', SHIPGATE_REPORT_URL: given } });
    expect((received[0]!.body as { reportUrl?: string }).reportUrl).toBe(sent);
  });

  it.each([
    ['a short reason is sent as given, trimmed', '  check "error-rate" failed: 0.4 > 0.05 ', 'check "error-rate" failed: 0.4 > 0.05'],
    ['a reason over the app\'s 1000 characters is cut with an ellipsis, not refused', 'x'.repeat(1500), `${'x'.repeat(999)}…`],
  ])('reason: %s', async (_name, reason, sent) => {
    const result = await recordDeployment({ ...record, outcome: 'rolled-back', reason }, { stateDir: dir, env: { SHIPGATE_APP_URL: appUrl, SHIPGATE_API_TOKEN: 't' } });
    expect(result.warning).toBeUndefined();
    expect((received[0]!.body as { reason?: string }).reason).toBe(sent);
    expect((await readDeployments(dir))[0]!.reason).toBe(sent);
  });

  it('keeps every deployment, oldest first', async () => {
    await recordDeployment({ ...record, version: '1.4.1' }, { stateDir: dir, env: {} });
    await recordDeployment({ ...record, version: '1.4.2', outcome: 'rolled-back' }, { stateDir: dir, env: {} });
    expect((await readDeployments(dir)).map((r) => [r.version, r.outcome])).toEqual([
      ['1.4.1', 'succeeded'],
      ['1.4.2', 'rolled-back'],
    ]);
    expect(received).toHaveLength(0);
  });

  it('retries a 503 from the app, then succeeds', async () => {
    statuses = [503];
    const result = await recordDeployment(record, { stateDir: dir, env: { SHIPGATE_APP_URL: appUrl, SHIPGATE_API_TOKEN: 't' }, retryDelayMs: 1 });
    expect(result.appId).toBe('dep-2');
    expect(received).toHaveLength(2);
  });

  it('turns a refused POST into a warning, not a failure, and does not retry a 4xx', async () => {
    statuses = [401];
    const result = await recordDeployment(record, { stateDir: dir, env: { SHIPGATE_APP_URL: appUrl, SHIPGATE_API_TOKEN: 'wrong' }, retryDelayMs: 1 });
    expect(result.warning).toMatch(/not told about the deployment: HTTP 401/);
    expect(received).toHaveLength(1);
    expect(await readDeployments(dir)).toHaveLength(1);
  });

  it('warns when the app cannot be reached, within the bound', async () => {
    const started = performance.now();
    const result = await recordDeployment(record, { stateDir: dir, env: { SHIPGATE_APP_URL: 'http://127.0.0.1:1', SHIPGATE_API_TOKEN: 't' }, retryDelayMs: 1, attempts: 2 });
    expect(result.warning).toMatch(/not told/);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('refuses a record without a version', async () => {
    await expect(recordDeployment({ ...record, version: '' }, { stateDir: dir, env: {} })).rejects.toThrow(/version/);
  });
});

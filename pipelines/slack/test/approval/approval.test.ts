// The approval step against a loopback stand-in of the Slack app's approval API.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runStepInProcess } from '../../../core/src/executors/local.js';
import type { StepDefinition } from '../../../protocol/src/step.js';
import { createApprovalStep } from '../../src/approval/index.js';
import { startApprovalApp, type ApprovalAppStandIn } from './stand-in.js';

const step = createApprovalStep({ retryBaseDelayMs: 20, maxAttempts: 3 }) as unknown as StepDefinition;
let app: ApprovalAppStandIn;

beforeAll(async () => {
  app = await startApprovalApp();
});
afterAll(async () => {
  await app.close();
});

const base = { service: 'orders', environment: 'production', version: '1.4.2' };
const env = () => ({ PATH: process.env.PATH, SHIPGATE_APP_URL: app.url, SHIPGATE_API_TOKEN: app.token });
const ci = { provider: 'github' as const, repository: 'acme/orders', runId: '9001', actor: 'octocat' };

/** Waits (bounded) until the stand-in holds `count` approvals, then returns the newest. */
async function approvalAppears(count: number) {
  for (let i = 0; i < 200; i += 1) {
    if (app.approvals.size >= count) return [...app.approvals.values()].at(-1)!;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the step never asked for an approval');
}

describe('approval step', () => {
  it('asks the Slack app, waits on the long-poll and succeeds with who approved and when', async () => {
    const before = app.approvals.size;
    const running = runStepInProcess(step, { ...base, digest: 'sha256:abc', 'poll-seconds': 5 }, { env: env(), ci });
    const asked = await approvalAppears(before + 1);
    expect(asked.request).toMatchObject({ ...base, digest: 'sha256:abc', expiresInSeconds: 3600, requester: 'octocat', backend: { kind: 'shipgate' }, idempotencyKey: 'acme/orders:9001:approval:production:1.4.2' });
    await new Promise((r) => setTimeout(r, 200)); // let the step start its long-poll
    app.decide(asked.id, 'approved', 'U0ALICE');
    const started = Date.now();
    const result = await running;
    expect(result.status).toBe('success');
    expect(Date.now() - started).toBeLessThan(2000); // woken by the decision, not by the 5 s poll
    expect(result.outputs).toEqual({ 'approval-id': asked.id, 'decided-by': 'U0ALICE', 'decided-at': app.approvals.get(asked.id)!.decidedAt });
    expect(result.summaries.join('\n')).toMatch(/\| orders \| production \| 1\.4\.2 \| ✅ approved \| U0ALICE \|/);
    const mine = app.requests.filter((r) => r.url.includes(asked.id) || r.method === 'POST');
    expect(mine.every((r) => r.authorization === `Bearer ${app.token}`)).toBe(true);
    expect(mine.some((r) => r.url === `/api/approvals/${asked.id}?wait=5`)).toBe(true);
    expect(result.logs.join('\n')).not.toContain(app.token);
  });

  it('fails with the reason when someone rejects', async () => {
    const before = app.approvals.size;
    const running = runStepInProcess(step, { ...base, version: '2.0.0', 'poll-seconds': 5 }, { env: env(), ci });
    const asked = await approvalAppears(before + 1);
    app.decide(asked.id, 'rejected', 'U0BOB', 'error budget spent this week');
    const result = await running;
    expect(result.status).toBe('failure');
    expect(result.error).toMatchObject({ code: 'approval.rejected', message: 'orders 2.0.0 to production was rejected by U0BOB: error budget spent this week' });
    expect(result.summaries.join('\n')).toContain('❌ rejected');
  });

  it('fails when the approval expires undecided', async () => {
    const before = app.approvals.size;
    const running = runStepInProcess(step, { ...base, version: '2.0.1', 'expires-in': '30s', 'poll-seconds': 5 }, { env: env(), ci });
    const asked = await approvalAppears(before + 1);
    expect(asked.request.expiresInSeconds).toBe(30);
    app.decide(asked.id, 'expired');
    const result = await running;
    expect(result.error?.code).toBe('approval.expired');
  });

  it('stops waiting at its own timeout and leaves the approval open', async () => {
    const started = Date.now();
    const result = await runStepInProcess(step, { ...base, version: '2.0.2', timeout: '2s', 'poll-seconds': 1 }, { env: env(), ci });
    expect(result.error?.code).toBe('approval.timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(Date.now() - started).toBeLessThan(5000);
    const id = result.outputs['approval-id']!;
    expect(app.approvals.get(id)?.state).toBe('pending');
  });

  it('a re-run with the same idempotency key waits on the same approval', async () => {
    const inputs = { ...base, version: '2.0.3', 'idempotency-key': 'rerun-key', timeout: '1s', 'poll-seconds': 1 };
    const first = await runStepInProcess(step, inputs, { env: env(), ci });
    const second = await runStepInProcess(step, inputs, { env: env(), ci });
    expect(first.outputs['approval-id']).toBeDefined();
    expect(second.outputs['approval-id']).toBe(first.outputs['approval-id']);
  });

  it('retries 503s and dropped connections with back-off, then carries on', async () => {
    app.failNext(2, 503);
    const before = app.approvals.size;
    const running = runStepInProcess(step, { ...base, version: '2.0.4', 'poll-seconds': 5 }, { env: env(), ci });
    const asked = await approvalAppears(before + 1);
    app.failNext(1, 'drop');
    await new Promise((r) => setTimeout(r, 300));
    app.decide(asked.id, 'approved');
    const result = await running;
    expect(result.status).toBe('success');
    expect(result.logs.filter((l) => l.includes('trying again')).length).toBeGreaterThanOrEqual(2);
  });

  it('gives up after its bounded attempts when the app stays down', async () => {
    app.failNext(10, 502);
    const result = await runStepInProcess(step, { ...base, version: '2.0.5' }, { env: env(), ci });
    app.failNext(0, 503);
    expect(result.error?.code).toBe('approval.unreachable');
    expect(result.error?.message).toContain('after 3 attempts');
  });

  it('does not retry a refused token, and never shows it', async () => {
    const seen = app.requests.length;
    const result = await runStepInProcess(step, { ...base, token: 'wrong-token-123' }, { env: { ...env() }, ci });
    expect(result.error?.code).toBe('approval.unauthorized');
    expect(app.requests.length - seen).toBe(1);
    expect(JSON.stringify(result)).not.toContain('wrong-token-123');
  });

  it('explains a missing URL or token', async () => {
    const noUrl = await runStepInProcess(step, base, { env: { SHIPGATE_API_TOKEN: 'x' } });
    expect(noUrl.error).toMatchObject({ code: 'approval.no-url', message: expect.stringContaining('SHIPGATE_APP_URL') });
    const noToken = await runStepInProcess(step, base, { env: { SHIPGATE_APP_URL: app.url } });
    expect(noToken.error?.code).toBe('approval.no-token');
    const badBackend = await runStepInProcess(step, { ...base, backend: { kind: 'jenkins' } }, { env: env() });
    expect(badBackend.error).toMatchObject({ code: 'step.inputs', message: expect.stringContaining('backend.buildUrl') });
  });

  it('stops a pending wait as soon as the run is cancelled', async () => {
    const controller = new AbortController();
    const before = app.approvals.size;
    const running = runStepInProcess(step, { ...base, version: '2.0.6', 'poll-seconds': 30 }, { env: env(), ci, signal: controller.signal });
    await approvalAppears(before + 1);
    const started = Date.now();
    controller.abort();
    const result = await running;
    expect(result.status).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

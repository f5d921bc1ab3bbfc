// The store is split by aggregate (approvals, deployments, rollbacks, outbox, audit), but a change
// and its consequences still commit as one: these run the repositories on PGlite and check what
// each transaction left behind, including when part of it fails.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { approvalRequestSchema, deploymentRequestSchema } from '../src/approvals/model.js';
import { openPglite } from '../src/store/sql.js';
import { Store } from '../src/store/store.js';

let store: Store;
beforeAll(async () => {
  store = new Store(await openPglite('memory://'));
  await store.migrate();
}, 60_000);
afterAll(async () => {
  await store?.close();
});

const now = new Date('2026-03-01T10:00:00Z');
const ask = (version: string) => store.approvals.create(approvalRequestSchema.parse({ service: 'orders', environment: 'prod', version, backend: { kind: 'shipgate' } }), { channel: 'C0PROD0001', now });
const outboxOf = async (id: string) => (await store.outbox.rows()).filter((r) => r.subjectId === id).map((r) => r.kind);
const auditOf = async (id: string) => (await store.audit.trail(id)).map((e) => `${e.action}:${e.outcome}`);

describe('the store, one transaction per change across aggregates', () => {
  it('a request writes its approval, its Slack message row and its audit row', async () => {
    const { approval, created } = await ask('v1.0.0');
    expect(created).toBe(true);
    expect(await outboxOf(approval.id)).toEqual(['slack.approval']);
    expect(await auditOf(approval.id)).toEqual(['approval.requested:created']);
  });

  it('a decision commits with its backend and Slack rows and its audit row; a second one loses and is audited', async () => {
    const { approval } = await ask('v1.0.1');
    const won = await store.approvals.decide(approval.id, { state: 'approved', by: 'U0ADA00001' }, now);
    const lost = await store.approvals.decide(approval.id, { state: 'rejected', by: 'U0BOB00002', reason: 'late' }, now);
    expect(won).toMatchObject({ ok: true, approval: { state: 'approved', decidedBy: 'U0ADA00001' } });
    expect(lost).toMatchObject({ ok: false, refusal: 'already-decided', approval: { state: 'approved' } });
    expect(await outboxOf(approval.id)).toEqual(['slack.approval', 'backend.notify', 'slack.approval']);
    expect(await auditOf(approval.id)).toEqual(['approval.requested:created', 'approval.approved:ok', 'approval.rejected:already-decided']);
  });

  it('when the audit row cannot be written, the transition and its outbox rows roll back with it', async () => {
    const { approval } = await ask('v1.0.2');
    await store.db.query('ALTER TABLE audit RENAME TO audit_away');
    try {
      await expect(store.approvals.decide(approval.id, { state: 'approved', by: 'U0ADA00001' }, now)).rejects.toThrow(/audit/);
    } finally {
      await store.db.query('ALTER TABLE audit_away RENAME TO audit');
    }
    expect((await store.approvals.get(approval.id))?.state).toBe('pending');
    expect(await outboxOf(approval.id)).toEqual(['slack.approval']);
  });

  it('a deployment of an approved release names the approval; a finished rollback marks its outbox row done and records the restored release', async () => {
    const rollback = { kind: 'jenkins', jobUrl: 'https://ci.example.com/job/rollback/' };
    const record = (version: string, at: number) => store.deployments.record(deploymentRequestSchema.parse({ service: 'orders', environment: 'prod', version, outcome: 'succeeded', rollback }), { channel: 'C0PROD0001', now: new Date(now.getTime() + at) });
    const good = await record('v1.0.0', 1000);
    const bad = await record('v1.0.1', 2000);
    expect(bad.approvalId).toMatch(/^apr_/); // v1.0.1 was approved above
    expect(good.approvalId).toBeNull();
    expect(await store.rollbacks.request(bad.id, good.id, 'U0ADA00001', now)).toMatchObject({ rollbackState: 'requested', rollbackTargetId: good.id });
    expect(await store.rollbacks.request(bad.id, good.id, 'U0BOB00002', now)).toBeUndefined();
    const [row] = (await store.outbox.claim('w_test', 60, 100)).filter((r) => r.kind === 'rollback.run');
    expect(row?.subjectId).toBe(bad.id);
    await store.rollbacks.finish(bad.id, { ok: true, detail: 'job #7' }, new Date(now.getTime() + 3000), { id: row!.id, worker: 'w_test' });
    expect((await store.outbox.rows()).find((r) => r.id === row!.id)?.doneAt).toBeInstanceOf(Date);
    const [restored] = await store.deployments.history('orders', 'prod');
    expect(restored).toMatchObject({ version: 'v1.0.0', rollbackOf: bad.id, deployer: 'U0ADA00001' });
    expect(await auditOf(bad.id)).toEqual(['deployment.recorded:succeeded', 'rollback.requested:ok', 'rollback.requested:already-rolled-back', 'rollback.finished:succeeded']);
  });
});

// Approvals: asked for, decided once, expired. Transitions are single conditional statements
// (`UPDATE … WHERE state = 'pending' RETURNING`): whoever runs first wins, everyone else sees why
// they lost. Each transition writes its outbox rows and audit row in the same transaction.
import { nextState, type Refusal } from '../approvals/machine.js';
import type { Approval, ApprovalBackend, ApprovalRequest, ApprovalState } from '../approvals/model.js';
import type { AuditLog } from './audit.js';
import type { Outbox } from './outbox.js';
import { date, dateOrNull, json, newId, str, type Row } from './rows.js';
import type { Queryable, SqlDatabase } from './sql.js';

export type DecideResult = { ok: true; approval: Approval } | { ok: false; refusal: Refusal | 'not-found'; approval?: Approval };

export interface Decision {
  state: 'approved' | 'rejected';
  by: string;
  reason?: string | undefined;
}

function toApproval(r: Row): Approval {
  return {
    id: String(r.id),
    service: String(r.service),
    environment: String(r.environment),
    version: String(r.version),
    digest: str(r.digest),
    summary: str(r.summary),
    requester: str(r.requester),
    idempotencyKey: str(r.idempotency_key),
    backend: json<ApprovalBackend>(r.backend),
    state: String(r.state) as ApprovalState,
    createdAt: date(r.created_at),
    expiresAt: date(r.expires_at),
    decidedBy: str(r.decided_by),
    decidedAt: dateOrNull(r.decided_at),
    reason: str(r.reason),
    channel: str(r.channel),
    messageTs: str(r.message_ts),
  };
}

export class ApprovalRepository {
  constructor(
    private readonly db: SqlDatabase,
    private readonly outbox: Outbox,
    private readonly audit: AuditLog,
  ) {}

  /** A new pending approval (or, for a known idempotency key, the one it already made). */
  async create(request: ApprovalRequest, context: { channel: string; now: Date; actor?: string }): Promise<{ approval: Approval; created: boolean }> {
    return this.db.transaction(async (tx) => {
      const expiresAt = new Date(context.now.getTime() + request.expiresInSeconds * 1000);
      const { rows } = await tx.query<Row>(
        `INSERT INTO approvals (id, service, environment, version, digest, summary, requester, idempotency_key, backend, created_at, expires_at, channel)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`,
        [newId('apr'), request.service, request.environment, request.version, request.digest ?? null, request.summary ?? null, request.requester ?? null, request.idempotencyKey ?? null, JSON.stringify(request.backend), context.now, expiresAt, context.channel],
      );
      if (rows[0]) {
        const approval = toApproval(rows[0]);
        await this.outbox.add([{ kind: 'slack.approval', subjectId: approval.id }], tx);
        await this.audit.record({ actor: context.actor ?? request.requester ?? null, action: 'approval.requested', subjectId: approval.id, outcome: 'created', detail: { service: request.service, environment: request.environment, version: request.version, backend: request.backend.kind } }, tx);
        return { approval, created: true };
      }
      const existing = await tx.query<Row>('SELECT * FROM approvals WHERE idempotency_key = $1', [request.idempotencyKey]);
      return { approval: toApproval(existing.rows[0]!), created: false };
    });
  }

  async get(id: string): Promise<Approval | undefined> {
    const { rows } = await this.db.query<Row>('SELECT * FROM approvals WHERE id = $1', [id]);
    return rows[0] ? toApproval(rows[0]) : undefined;
  }

  /**
   * Approves or rejects, once: the conditional UPDATE lets exactly one of any number of concurrent
   * clicks (double clicks, two replicas) through; its outbox rows and audit row commit with it.
   */
  async decide(id: string, decision: Decision, now: Date): Promise<DecideResult> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<Row>(
        `UPDATE approvals SET state = $2, decided_by = $3, decided_at = $4, reason = $5
         WHERE id = $1 AND state = 'pending' AND expires_at > $4 RETURNING *`,
        [id, decision.state, decision.by, now, decision.reason ?? null],
      );
      if (!rows[0]) return this.#refused(tx, id, decision, now);
      const approval = toApproval(rows[0]);
      await this.outbox.add(
        [
          { kind: 'backend.notify', subjectId: id },
          { kind: 'slack.approval', subjectId: id },
        ],
        tx,
      );
      await this.audit.record({ actor: decision.by, action: `approval.${decision.state}`, subjectId: id, outcome: 'ok', detail: decision.reason ? { reason: decision.reason } : {} }, tx);
      return { ok: true as const, approval };
    });
  }

  /** Why a decision lost its race (unknown, decided, expired), audited in the decision's transaction. */
  async #refused(tx: Queryable, id: string, decision: Decision, now: Date): Promise<DecideResult> {
    const current = await tx.query<Row>('SELECT * FROM approvals WHERE id = $1', [id]);
    if (!current.rows[0]) {
      await this.audit.record({ actor: decision.by, action: `approval.${decision.state}`, subjectId: id, outcome: 'not-found' }, tx);
      return { ok: false as const, refusal: 'not-found' as const };
    }
    const approval = toApproval(current.rows[0]);
    const t = nextState(approval, decision.state === 'approved' ? { type: 'approve', by: decision.by } : { type: 'reject', by: decision.by, reason: decision.reason ?? '-' }, now);
    const refusal: Refusal = t.ok ? 'already-decided' : t.refusal;
    await this.audit.record({ actor: decision.by, action: `approval.${decision.state}`, subjectId: id, outcome: refusal, detail: { state: approval.state, decidedBy: approval.decidedBy } }, tx);
    return { ok: false as const, refusal, approval };
  }

  /** Marks every pending approval past its deadline as expired (each once, whichever replica gets there first). */
  async expireDue(now: Date, limit = 100): Promise<Approval[]> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<Row>(
        `UPDATE approvals SET state = 'expired', decided_at = $1
         WHERE id IN (SELECT id FROM approvals WHERE state = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
           AND state = 'pending' RETURNING *`,
        [now, limit],
      );
      const expired = rows.map(toApproval);
      for (const a of expired) {
        await this.outbox.add(
          [
            { kind: 'backend.notify', subjectId: a.id },
            { kind: 'slack.approval', subjectId: a.id },
          ],
          tx,
        );
        await this.audit.record({ actor: null, action: 'approval.expired', subjectId: a.id, outcome: 'ok', detail: { expiresAt: a.expiresAt.toISOString() } }, tx);
      }
      return expired;
    });
  }

  /** Where the approval's Slack message is, once posted. */
  async setMessage(id: string, channel: string, ts: string): Promise<void> {
    await this.db.query('UPDATE approvals SET channel = $2, message_ts = $3 WHERE id = $1', [id, channel, ts]);
  }

  /** Approvals still waiting for a decision (of one service, if given), oldest first. */
  async pending(service?: string): Promise<Approval[]> {
    const { rows } = service
      ? await this.db.query<Row>(`SELECT * FROM approvals WHERE state = 'pending' AND service = $1 ORDER BY created_at`, [service])
      : await this.db.query<Row>(`SELECT * FROM approvals WHERE state = 'pending' ORDER BY created_at`);
    return rows.map(toApproval);
  }

  /** The id of the latest approved approval of this release (a deployment's message goes into its thread). */
  async approvedFor(release: { service: string; environment: string; version: string }, tx: Queryable = this.db): Promise<string | undefined> {
    const { rows } = await tx.query<{ id: string }>(`SELECT id FROM approvals WHERE service = $1 AND environment = $2 AND version = $3 AND state = 'approved' ORDER BY decided_at DESC LIMIT 1`, [release.service, release.environment, release.version]);
    return rows[0]?.id;
  }
}

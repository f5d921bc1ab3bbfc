// ApprovalStore: every read and write of the Slack app, as SQL over one SqlDatabase. Each change
// that must be followed by work elsewhere (a backend call, a Slack message) writes that work to the
// outbox and an audit row in the same transaction, so the change and its consequences commit
// together or not at all. Transitions are single conditional statements: whoever runs first wins,
// everyone else sees why they lost.
import { randomBytes } from 'node:crypto';
import { nextState, type Refusal } from '../approvals/machine.js';
import type { Approval, ApprovalBackend, ApprovalRequest, ApprovalState, Deployment, DeploymentRequest, RollbackSpec } from '../approvals/model.js';
import { migrate } from './migrations.js';
import type { Queryable, SqlDatabase } from './sql.js';

export type OutboxKind = 'slack.approval' | 'slack.deployment' | 'slack.thread' | 'backend.notify' | 'rollback.run';

export interface OutboxRow {
  id: number;
  kind: OutboxKind;
  subjectId: string;
  payload: Record<string, unknown>;
  attempts: number;
  createdAt: Date;
}

export interface AuditEntry {
  actor?: string | null | undefined;
  action: string;
  subjectId?: string | null | undefined;
  outcome: string;
  detail?: Record<string, unknown> | undefined;
}

export interface AuditRow extends Required<Omit<AuditEntry, 'detail'>> {
  id: number;
  at: Date;
  detail: Record<string, unknown>;
}

export type DecideResult = { ok: true; approval: Approval } | { ok: false; refusal: Refusal | 'not-found'; approval?: Approval };

export interface OutboxWork {
  kind: OutboxKind;
  subjectId: string;
  payload?: Record<string, unknown>;
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}

type Row = Record<string, unknown>;
const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));
const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : date(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

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

function toDeployment(r: Row): Deployment {
  return {
    id: String(r.id),
    seq: Number(r.seq),
    service: String(r.service),
    environment: String(r.environment),
    version: String(r.version),
    digest: str(r.digest),
    image: str(r.image),
    outcome: String(r.outcome) as Deployment['outcome'],
    deployer: str(r.deployer),
    url: str(r.url),
    reportUrl: str(r.report_url),
    rollback: r.rollback === null || r.rollback === undefined ? null : json<RollbackSpec>(r.rollback),
    approvalId: str(r.approval_id),
    createdAt: date(r.created_at),
    channel: str(r.channel),
    messageTs: str(r.message_ts),
    rollbackState: str(r.rollback_state) as Deployment['rollbackState'],
    rollbackBy: str(r.rollback_by),
    rollbackAt: dateOrNull(r.rollback_at),
    rollbackTargetId: str(r.rollback_target_id),
    rollbackDetail: str(r.rollback_detail),
    rollbackOf: str(r.rollback_of),
  };
}

function toOutbox(r: Row): OutboxRow {
  return { id: Number(r.id), kind: String(r.kind) as OutboxKind, subjectId: String(r.subject_id), payload: json<Record<string, unknown>>(r.payload) ?? {}, attempts: Number(r.attempts), createdAt: date(r.created_at) };
}

async function enqueue(tx: Queryable, work: OutboxWork[]): Promise<void> {
  for (const w of work) {
    await tx.query('INSERT INTO outbox (kind, subject_id, payload) VALUES ($1, $2, $3)', [w.kind, w.subjectId, JSON.stringify(w.payload ?? {})]);
  }
}

/** How much of one string the audit trail keeps: it records what happened, not whatever was sent. */
const auditStringMax = 256;

function cut(text: string, max = auditStringMax): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

/** An audit detail with every string cut to `auditStringMax` and lists to 20 items, however deep. */
export function boundedDetail(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return cut(value);
  if (Array.isArray(value)) return value.slice(0, 20).map((v) => boundedDetail(v, depth + 1));
  if (value && typeof value === 'object') {
    if (depth >= 4) return '…';
    return Object.fromEntries(Object.entries(value).slice(0, 20).map(([k, v]) => [cut(k, 64), boundedDetail(v, depth + 1)]));
  }
  return value;
}

async function audit(tx: Queryable, e: AuditEntry): Promise<void> {
  await tx.query('INSERT INTO audit (actor, action, subject_id, outcome, detail) VALUES ($1, $2, $3, $4, $5)', [
    e.actor == null ? null : cut(e.actor, 200),
    cut(e.action, 100),
    e.subjectId == null ? null : cut(e.subjectId, 200),
    cut(e.outcome, 200),
    JSON.stringify(boundedDetail(e.detail ?? {})),
  ]);
}

export class ApprovalStore {
  constructor(readonly db: SqlDatabase) {}

  /** Brings the schema up to date (safe to call from every replica at start). */
  migrate(): Promise<number[]> {
    return migrate(this.db);
  }

  async audit(entry: AuditEntry): Promise<void> {
    await audit(this.db, entry);
  }

  async auditTrail(subjectId?: string): Promise<AuditRow[]> {
    const { rows } = subjectId
      ? await this.db.query<Row>('SELECT * FROM audit WHERE subject_id = $1 ORDER BY id', [subjectId])
      : await this.db.query<Row>('SELECT * FROM audit ORDER BY id');
    return rows.map((r) => ({ id: Number(r.id), at: date(r.at), actor: str(r.actor), action: String(r.action), subjectId: str(r.subject_id), outcome: String(r.outcome), detail: json<Record<string, unknown>>(r.detail) }));
  }

  // ---- approvals

  /** A new pending approval (or, for a known idempotency key, the one it already made). */
  async createApproval(request: ApprovalRequest, context: { channel: string; now: Date; actor?: string }): Promise<{ approval: Approval; created: boolean }> {
    return this.db.transaction(async (tx) => {
      const id = newId('apr');
      const expiresAt = new Date(context.now.getTime() + request.expiresInSeconds * 1000);
      const { rows } = await tx.query<Row>(
        `INSERT INTO approvals (id, service, environment, version, digest, summary, requester, idempotency_key, backend, created_at, expires_at, channel)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`,
        [id, request.service, request.environment, request.version, request.digest ?? null, request.summary ?? null, request.requester ?? null, request.idempotencyKey ?? null, JSON.stringify(request.backend), context.now, expiresAt, context.channel],
      );
      if (rows[0]) {
        const approval = toApproval(rows[0]);
        await enqueue(tx, [{ kind: 'slack.approval', subjectId: approval.id }]);
        await audit(tx, { actor: context.actor ?? request.requester ?? null, action: 'approval.requested', subjectId: approval.id, outcome: 'created', detail: { service: request.service, environment: request.environment, version: request.version, backend: request.backend.kind } });
        return { approval, created: true };
      }
      const existing = await tx.query<Row>('SELECT * FROM approvals WHERE idempotency_key = $1', [request.idempotencyKey]);
      return { approval: toApproval(existing.rows[0]!), created: false };
    });
  }

  async getApproval(id: string): Promise<Approval | undefined> {
    const { rows } = await this.db.query<Row>('SELECT * FROM approvals WHERE id = $1', [id]);
    return rows[0] ? toApproval(rows[0]) : undefined;
  }

  /**
   * Approves or rejects, once: the conditional UPDATE lets exactly one of any number of concurrent
   * clicks (double clicks, two replicas) through; its outbox rows and audit row commit with it.
   */
  async decide(id: string, decision: { state: 'approved' | 'rejected'; by: string; reason?: string | undefined }, now: Date): Promise<DecideResult> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<Row>(
        `UPDATE approvals SET state = $2, decided_by = $3, decided_at = $4, reason = $5
         WHERE id = $1 AND state = 'pending' AND expires_at > $4 RETURNING *`,
        [id, decision.state, decision.by, now, decision.reason ?? null],
      );
      if (rows[0]) {
        const approval = toApproval(rows[0]);
        await enqueue(tx, [
          { kind: 'backend.notify', subjectId: id },
          { kind: 'slack.approval', subjectId: id },
        ]);
        await audit(tx, { actor: decision.by, action: `approval.${decision.state}`, subjectId: id, outcome: 'ok', detail: decision.reason ? { reason: decision.reason } : {} });
        return { ok: true as const, approval };
      }
      const current = await tx.query<Row>('SELECT * FROM approvals WHERE id = $1', [id]);
      if (!current.rows[0]) {
        await audit(tx, { actor: decision.by, action: `approval.${decision.state}`, subjectId: id, outcome: 'not-found' });
        return { ok: false as const, refusal: 'not-found' as const };
      }
      const approval = toApproval(current.rows[0]);
      const t = nextState(approval, decision.state === 'approved' ? { type: 'approve', by: decision.by } : { type: 'reject', by: decision.by, reason: decision.reason ?? '-' }, now);
      const refusal: Refusal = t.ok ? 'already-decided' : t.refusal;
      await audit(tx, { actor: decision.by, action: `approval.${decision.state}`, subjectId: id, outcome: refusal, detail: { state: approval.state, decidedBy: approval.decidedBy } });
      return { ok: false as const, refusal, approval };
    });
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
        await enqueue(tx, [
          { kind: 'backend.notify', subjectId: a.id },
          { kind: 'slack.approval', subjectId: a.id },
        ]);
        await audit(tx, { actor: null, action: 'approval.expired', subjectId: a.id, outcome: 'ok', detail: { expiresAt: a.expiresAt.toISOString() } });
      }
      return expired;
    });
  }

  async setApprovalMessage(id: string, channel: string, ts: string): Promise<void> {
    await this.db.query('UPDATE approvals SET channel = $2, message_ts = $3 WHERE id = $1', [id, channel, ts]);
  }

  async pendingApprovals(service?: string): Promise<Approval[]> {
    const { rows } = service
      ? await this.db.query<Row>(`SELECT * FROM approvals WHERE state = 'pending' AND service = $1 ORDER BY created_at`, [service])
      : await this.db.query<Row>(`SELECT * FROM approvals WHERE state = 'pending' ORDER BY created_at`);
    return rows.map(toApproval);
  }

  // ---- deployments

  async recordDeployment(request: DeploymentRequest, context: { channel: string | null; now: Date; actor?: string }): Promise<Deployment> {
    return this.db.transaction(async (tx) => {
      const approval = await tx.query<{ id: string }>(
        `SELECT id FROM approvals WHERE service = $1 AND environment = $2 AND version = $3 AND state = 'approved' ORDER BY decided_at DESC LIMIT 1`,
        [request.service, request.environment, request.version],
      );
      const previous = await tx.query<Row>(`SELECT * FROM deployments WHERE service = $1 AND environment = $2 AND message_ts IS NOT NULL AND rollback_state IS NULL ORDER BY created_at DESC, seq DESC LIMIT 1`, [request.service, request.environment]);
      const { rows } = await tx.query<Row>(
        `INSERT INTO deployments (id, service, environment, version, digest, image, outcome, deployer, url, rollback, approval_id, created_at, channel, report_url)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING *`,
        [newId('dep'), request.service, request.environment, request.version, request.digest ?? null, request.image ?? null, request.outcome, request.deployer ?? null, request.url ?? null, request.rollback ? JSON.stringify(request.rollback) : null, approval.rows[0]?.id ?? null, context.now, context.channel, request.reportUrl ?? null],
      );
      const deployment = toDeployment(rows[0]!);
      const work: OutboxWork[] = context.channel ? [{ kind: 'slack.deployment', subjectId: deployment.id }] : [];
      // the previous release's Rollback button no longer applies: redraw that message without it
      if (previous.rows[0] && request.outcome !== 'failed') work.push({ kind: 'slack.deployment', subjectId: String(previous.rows[0].id) });
      await enqueue(tx, work);
      await audit(tx, { actor: context.actor ?? request.deployer ?? null, action: 'deployment.recorded', subjectId: deployment.id, outcome: request.outcome, detail: { service: request.service, environment: request.environment, version: request.version } });
      return deployment;
    });
  }

  async getDeployment(id: string): Promise<Deployment | undefined> {
    const { rows } = await this.db.query<Row>('SELECT * FROM deployments WHERE id = $1', [id]);
    return rows[0] ? toDeployment(rows[0]) : undefined;
  }

  async history(service: string, environment: string, limit = 200): Promise<Deployment[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM deployments WHERE service = $1 AND environment = $2 ORDER BY created_at DESC, seq DESC LIMIT $3', [service, environment, limit]);
    return rows.map(toDeployment);
  }

  /** The newest deployment of `service` in each environment. */
  async latestByEnvironment(service: string): Promise<Deployment[]> {
    const { rows } = await this.db.query<Row>(`SELECT DISTINCT ON (environment) * FROM deployments WHERE service = $1 AND outcome <> 'failed' ORDER BY environment, created_at DESC, seq DESC`, [service]);
    return rows.map(toDeployment);
  }

  async setDeploymentMessage(id: string, channel: string, ts: string): Promise<void> {
    await this.db.query('UPDATE deployments SET channel = $2, message_ts = $3 WHERE id = $1', [id, channel, ts]);
  }

  /** Claims the rollback of `fromId` to `toId`, once (a deployment is rolled back at most once). */
  async requestRollback(fromId: string, toId: string, by: string, now: Date): Promise<Deployment | undefined> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<Row>(
        `UPDATE deployments SET rollback_state = 'requested', rollback_by = $3, rollback_at = $4, rollback_target_id = $2
         WHERE id = $1 AND rollback_state IS NULL RETURNING *`,
        [fromId, toId, by, now],
      );
      if (!rows[0]) {
        await audit(tx, { actor: by, action: 'rollback.requested', subjectId: fromId, outcome: 'already-rolled-back' });
        return undefined;
      }
      await enqueue(tx, [
        { kind: 'rollback.run', subjectId: fromId },
        { kind: 'slack.deployment', subjectId: fromId },
      ]);
      await audit(tx, { actor: by, action: 'rollback.requested', subjectId: fromId, outcome: 'ok', detail: { to: toId } });
      return toDeployment(rows[0]);
    });
  }

  /** Records how a rollback went; on success the target release is recorded as running again. */
  async finishRollback(fromId: string, result: { ok: boolean; detail: string }, now: Date, outbox?: { id: number; worker: string }): Promise<Deployment | undefined> {
    return this.db.transaction(async (tx) => {
      // the rollback.run row is marked done in the same transaction: a crash after this commit
      // cannot run the rollback a second time
      if (outbox) await tx.query('UPDATE outbox SET done_at = clock_timestamp(), locked_until = NULL WHERE id = $1 AND locked_by = $2 AND done_at IS NULL', [outbox.id, outbox.worker]);
      const { rows } = await tx.query<Row>(`UPDATE deployments SET rollback_state = $2, rollback_detail = $3 WHERE id = $1 AND rollback_state = 'requested' RETURNING *`, [fromId, result.ok ? 'succeeded' : 'failed', result.detail]);
      if (!rows[0]) return undefined;
      const from = toDeployment(rows[0]);
      let restored: Deployment | undefined;
      if (result.ok && from.rollbackTargetId) {
        const target = toDeployment((await tx.query<Row>('SELECT * FROM deployments WHERE id = $1', [from.rollbackTargetId])).rows[0]!);
        const inserted = await tx.query<Row>(
          `INSERT INTO deployments (id, service, environment, version, digest, image, outcome, deployer, url, rollback, created_at, rollback_of)
           VALUES ($1, $2, $3, $4, $5, $6, 'succeeded', $7, $8, $9, $10, $11) RETURNING *`,
          [newId('dep'), target.service, target.environment, target.version, target.digest, target.image, from.rollbackBy, target.url, from.rollback ? JSON.stringify(from.rollback) : null, now, from.id],
        );
        restored = toDeployment(inserted.rows[0]!);
      }
      await enqueue(tx, [
        { kind: 'slack.deployment', subjectId: fromId },
        ...(restored ? [{ kind: 'slack.deployment' as const, subjectId: restored.id }] : []),
        { kind: 'slack.thread', subjectId: fromId, payload: { subject: 'deployment', text: result.ok ? `:rewind: Rolled back: ${result.detail}` : `:x: Rollback failed: ${result.detail}` } },
      ]);
      await audit(tx, { actor: from.rollbackBy, action: 'rollback.finished', subjectId: fromId, outcome: result.ok ? 'succeeded' : 'failed', detail: { detail: result.detail, restored: restored?.id ?? null } });
      return from;
    });
  }

  // ---- inbox (Slack requests written before their ack)

  /** Writes received Slack requests in one statement (one commit), held by `worker` for `leaseSeconds`; their ids in order. */
  async receiveRequests(bodies: ReadonlyArray<Record<string, unknown>>, worker: string, leaseSeconds: number, db: Queryable = this.db): Promise<number[]> {
    if (!bodies.length) return [];
    const values = bodies.map((_, i) => `($${i + 3}, $1, clock_timestamp() + make_interval(secs => $2))`).join(', ');
    const { rows } = await db.query<{ id: number }>(`INSERT INTO inbox (body, locked_by, locked_until) VALUES ${values} RETURNING id`, [worker, leaseSeconds, ...bodies.map((b) => JSON.stringify(b))]);
    return rows.map((r) => Number(r.id));
  }

  /** The requests' listeners ran. */
  async finishRequests(ids: readonly number[]): Promise<void> {
    if (ids.length) await this.db.query('UPDATE inbox SET done_at = clock_timestamp(), locked_until = NULL WHERE id = ANY($1::bigint[])', [ids]);
  }

  /**
   * Takes over requests whose listeners never finished and whose holder's lease lapsed (it died).
   * Each is tried at most `maxAttempts` times.
   */
  async claimRequests(worker: string, leaseSeconds: number, options: { limit?: number; maxAttempts?: number } = {}): Promise<Array<{ id: number; body: Record<string, unknown>; attempts: number }>> {
    const { rows } = await this.db.query<Row>(
      `UPDATE inbox SET locked_by = $1, locked_until = clock_timestamp() + make_interval(secs => $2), attempts = attempts + 1
       WHERE id IN (
         SELECT id FROM inbox WHERE done_at IS NULL AND attempts < $4 AND (locked_until IS NULL OR locked_until <= clock_timestamp())
         ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING id, body, attempts`,
      [worker, leaseSeconds, options.limit ?? 100, options.maxAttempts ?? 5],
    );
    return rows.map((r) => ({ id: Number(r.id), body: json<Record<string, unknown>>(r.body), attempts: Number(r.attempts) })).sort((a, b) => a.id - b.id);
  }

  // ---- outbox

  /**
   * Claims up to `limit` rows for `worker` for `leaseSeconds`. SKIP LOCKED lets replicas claim side
   * by side without waiting on each other; the lease (not an open transaction) holds the row while
   * its call runs, and lapses if this process dies, so the row is retried elsewhere.
   */
  async claimOutbox(worker: string, leaseSeconds: number, limit = 1): Promise<OutboxRow[]> {
    const { rows } = await this.db.query<Row>(
      `UPDATE outbox SET locked_by = $1, locked_until = clock_timestamp() + make_interval(secs => $2), attempts = attempts + 1
       WHERE id IN (
         SELECT id FROM outbox
         WHERE done_at IS NULL AND dead_at IS NULL AND available_at <= clock_timestamp()
           AND (locked_until IS NULL OR locked_until <= clock_timestamp())
         ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [worker, leaseSeconds, limit],
    );
    return rows.map(toOutbox).sort((a, b) => a.id - b.id);
  }

  /** Marks a row done; `then` adds follow-up work and audit in the same transaction. */
  async completeOutbox(id: number, worker: string, then?: { work?: OutboxWork[]; audit?: AuditEntry[] }): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('UPDATE outbox SET done_at = clock_timestamp(), locked_until = NULL, last_error = NULL WHERE id = $1 AND locked_by = $2 AND done_at IS NULL', [id, worker]);
      await enqueue(tx, then?.work ?? []);
      for (const e of then?.audit ?? []) await audit(tx, e);
    });
  }

  /** Holds a claimed row longer (a rollback that follows a deployment for many minutes). */
  async extendLease(id: number, worker: string, seconds: number): Promise<boolean> {
    const { rows } = await this.db.query('UPDATE outbox SET locked_until = clock_timestamp() + make_interval(secs => $3) WHERE id = $1 AND locked_by = $2 AND done_at IS NULL RETURNING id', [id, worker, seconds]);
    return rows.length === 1;
  }

  /** Puts a row back for a later attempt, or gives up on it (`dead`). */
  async retryOutbox(id: number, worker: string, error: string, options: { delaySeconds: number; dead: boolean; audit?: AuditEntry[] }): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE outbox SET locked_until = NULL, last_error = $3, available_at = clock_timestamp() + make_interval(secs => $4), dead_at = CASE WHEN $5 THEN clock_timestamp() ELSE NULL END
         WHERE id = $1 AND locked_by = $2 AND done_at IS NULL`,
        [id, worker, error.slice(0, 2000), options.delaySeconds, options.dead],
      );
      for (const e of options.audit ?? []) await audit(tx, e);
    });
  }

  /** Rows still to be worked (not done, not given up). */
  async outboxDepth(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE done_at IS NULL AND dead_at IS NULL');
    return Number(rows[0]?.n ?? 0);
  }

  async outboxRows(): Promise<Array<OutboxRow & { doneAt: Date | null; deadAt: Date | null; lastError: string | null }>> {
    const { rows } = await this.db.query<Row>('SELECT * FROM outbox ORDER BY id');
    return rows.map((r) => ({ ...toOutbox(r), doneAt: dateOrNull(r.done_at), deadAt: dateOrNull(r.dead_at), lastError: str(r.last_error) }));
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

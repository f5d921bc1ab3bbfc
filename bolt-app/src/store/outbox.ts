// The outbox: work that must follow a committed change (a backend call, a Slack message, a
// rollback). Other aggregates add rows through `add(work, tx)` inside their own transaction, so a
// change and its consequences commit together or not at all. Workers claim rows with a lease.
import type { AuditEntry, AuditLog } from './audit.js';
import { date, dateOrNull, json, str, type Row } from './rows.js';
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

export interface OutboxWork {
  kind: OutboxKind;
  subjectId: string;
  payload?: Record<string, unknown>;
}

function toOutbox(r: Row): OutboxRow {
  return { id: Number(r.id), kind: String(r.kind) as OutboxKind, subjectId: String(r.subject_id), payload: json<Record<string, unknown>>(r.payload) ?? {}, attempts: Number(r.attempts), createdAt: date(r.created_at) };
}

export class Outbox {
  constructor(
    private readonly db: SqlDatabase,
    private readonly audit: AuditLog,
  ) {}

  /** Adds work to be done; pass `tx` to commit it with the change that causes it. */
  async add(work: OutboxWork[], tx: Queryable = this.db): Promise<void> {
    for (const w of work) {
      await tx.query('INSERT INTO outbox (kind, subject_id, payload) VALUES ($1, $2, $3)', [w.kind, w.subjectId, JSON.stringify(w.payload ?? {})]);
    }
  }

  /**
   * Claims up to `limit` rows for `worker` for `leaseSeconds`. SKIP LOCKED lets replicas claim side
   * by side without waiting on each other; the lease (not an open transaction) holds the row while
   * its call runs, and lapses if this process dies, so the row is retried elsewhere.
   */
  async claim(worker: string, leaseSeconds: number, limit = 1): Promise<OutboxRow[]> {
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
  async complete(id: number, worker: string, then?: { work?: OutboxWork[]; audit?: AuditEntry[] }): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('UPDATE outbox SET done_at = clock_timestamp(), locked_until = NULL, last_error = NULL WHERE id = $1 AND locked_by = $2 AND done_at IS NULL', [id, worker]);
      await this.add(then?.work ?? [], tx);
      for (const e of then?.audit ?? []) await this.audit.record(e, tx);
    });
  }

  /** Marks a claimed row done inside another aggregate's transaction (a finished rollback). */
  async markDone(id: number, worker: string, tx: Queryable): Promise<void> {
    await tx.query('UPDATE outbox SET done_at = clock_timestamp(), locked_until = NULL WHERE id = $1 AND locked_by = $2 AND done_at IS NULL', [id, worker]);
  }

  /** Holds a claimed row longer (a rollback that follows a deployment for many minutes). */
  async extendLease(id: number, worker: string, seconds: number): Promise<boolean> {
    const { rows } = await this.db.query('UPDATE outbox SET locked_until = clock_timestamp() + make_interval(secs => $3) WHERE id = $1 AND locked_by = $2 AND done_at IS NULL RETURNING id', [id, worker, seconds]);
    return rows.length === 1;
  }

  /** Puts a row back for a later attempt, or gives up on it (`dead`). */
  async retry(id: number, worker: string, error: string, options: { delaySeconds: number; dead: boolean; audit?: AuditEntry[] }): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE outbox SET locked_until = NULL, last_error = $3, available_at = clock_timestamp() + make_interval(secs => $4), dead_at = CASE WHEN $5 THEN clock_timestamp() ELSE NULL END
         WHERE id = $1 AND locked_by = $2 AND done_at IS NULL`,
        [id, worker, error.slice(0, 2000), options.delaySeconds, options.dead],
      );
      for (const e of options.audit ?? []) await this.audit.record(e, tx);
    });
  }

  /** Whether an earlier row of `kind` for the same subject (the one that posts the message) is still to be done. */
  async earlierOpen(row: OutboxRow, kind: OutboxKind): Promise<boolean> {
    const { rows } = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE kind = $1 AND subject_id = $2 AND id < $3 AND done_at IS NULL AND dead_at IS NULL', [kind, row.subjectId, row.id]);
    return Number(rows[0]?.n ?? 0) > 0;
  }

  /** Rows still to be worked (not done, not given up). */
  async depth(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE done_at IS NULL AND dead_at IS NULL');
    return Number(rows[0]?.n ?? 0);
  }

  /** Every row with its state, oldest first. */
  async rows(): Promise<Array<OutboxRow & { doneAt: Date | null; deadAt: Date | null; lastError: string | null }>> {
    const { rows } = await this.db.query<Row>('SELECT * FROM outbox ORDER BY id');
    return rows.map((r) => ({ ...toOutbox(r), doneAt: dateOrNull(r.done_at), deadAt: dateOrNull(r.dead_at), lastError: str(r.last_error) }));
  }
}

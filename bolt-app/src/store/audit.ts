// The audit log: an append-only record of every request, decision, refusal, backend call and
// rollback. Other aggregates write their audit row through `record(entry, tx)` inside their own
// transaction, so a change and its audit row commit together.
import type { Queryable, SqlDatabase } from './sql.js';
import { date, json, str, type Row } from './rows.js';

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

export class AuditLog {
  constructor(private readonly db: SqlDatabase) {}

  /** Appends one row; pass `tx` to commit it with the change it describes. */
  async record(entry: AuditEntry, tx: Queryable = this.db): Promise<void> {
    await tx.query('INSERT INTO audit (actor, action, subject_id, outcome, detail) VALUES ($1, $2, $3, $4, $5)', [
      entry.actor == null ? null : cut(entry.actor, 200),
      cut(entry.action, 100),
      entry.subjectId == null ? null : cut(entry.subjectId, 200),
      cut(entry.outcome, 200),
      JSON.stringify(boundedDetail(entry.detail ?? {})),
    ]);
  }

  /** Every row (of one subject, if given), oldest first. */
  async trail(subjectId?: string): Promise<AuditRow[]> {
    const { rows } = subjectId
      ? await this.db.query<Row>('SELECT * FROM audit WHERE subject_id = $1 ORDER BY id', [subjectId])
      : await this.db.query<Row>('SELECT * FROM audit ORDER BY id');
    return rows.map((r) => ({ id: Number(r.id), at: date(r.at), actor: str(r.actor), action: String(r.action), subjectId: str(r.subject_id), outcome: String(r.outcome), detail: json<Record<string, unknown>>(r.detail) }));
  }
}

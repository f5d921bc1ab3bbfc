// Deployments: the history of what went out where, the rollback targets' source. Recording one
// enqueues its Slack message (and the redraw of the previous one, whose Rollback button no longer
// applies) and an audit row in the same transaction.
import type { Deployment, DeploymentRequest, RollbackSpec } from '../approvals/model.js';
import type { ApprovalRepository } from './approvals.js';
import type { AuditLog } from './audit.js';
import type { Outbox, OutboxWork } from './outbox.js';
import { date, dateOrNull, json, newId, str, type Row } from './rows.js';
import type { Queryable, SqlDatabase } from './sql.js';

/** A deployment as the DORA computation reads it (`DoraDeployment` of @shipgate/core). */
export interface DoraRow {
  service: string;
  environment: string;
  version: string;
  outcome: Deployment['outcome'];
  at: Date;
  commitAt: Date | null;
  /** Made by the Rollback button (`rollback_of` set): a restore, not a change. */
  restore: boolean;
}

export function toDeployment(r: Row): Deployment {
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
    commit: str(r.commit_sha),
    commitAt: dateOrNull(r.commit_at),
    reason: str(r.reason),
  };
}

export class DeploymentRepository {
  constructor(
    private readonly db: SqlDatabase,
    private readonly approvals: ApprovalRepository,
    private readonly outbox: Outbox,
    private readonly audit: AuditLog,
  ) {}

  async record(request: DeploymentRequest, context: { channel: string | null; now: Date; actor?: string }): Promise<Deployment> {
    return this.db.transaction(async (tx) => {
      const approvalId = await this.approvals.approvedFor(request, tx);
      const previous = await tx.query<Row>(`SELECT * FROM deployments WHERE service = $1 AND environment = $2 AND message_ts IS NOT NULL AND rollback_state IS NULL ORDER BY created_at DESC, seq DESC LIMIT 1`, [request.service, request.environment]);
      const { rows } = await tx.query<Row>(
        `INSERT INTO deployments (id, service, environment, version, digest, image, outcome, deployer, url, rollback, approval_id, created_at, channel, report_url, commit_sha, commit_at, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING *`,
        [newId('dep'), request.service, request.environment, request.version, request.digest ?? null, request.image ?? null, request.outcome, request.deployer ?? null, request.url ?? null, request.rollback ? JSON.stringify(request.rollback) : null, approvalId ?? null, context.now, context.channel, request.reportUrl ?? null, request.commit ?? null, request.commitAt ? new Date(request.commitAt) : null, request.reason ?? null],
      );
      const deployment = toDeployment(rows[0]!);
      const work: OutboxWork[] = context.channel ? [{ kind: 'slack.deployment', subjectId: deployment.id }] : [];
      // the previous release's Rollback button no longer applies: redraw that message without it
      if (previous.rows[0] && request.outcome !== 'failed') work.push({ kind: 'slack.deployment', subjectId: String(previous.rows[0].id) });
      await this.outbox.add(work, tx);
      await this.audit.record({ actor: context.actor ?? request.deployer ?? null, action: 'deployment.recorded', subjectId: deployment.id, outcome: request.outcome, detail: { service: request.service, environment: request.environment, version: request.version } }, tx);
      return deployment;
    });
  }

  /** Records `target`'s release as running again after a rollback of `from` (in the rollback's transaction). */
  async recordRestored(target: Deployment, from: Deployment, now: Date, tx: Queryable): Promise<Deployment> {
    const { rows } = await tx.query<Row>(
      `INSERT INTO deployments (id, service, environment, version, digest, image, outcome, deployer, url, rollback, created_at, rollback_of)
       VALUES ($1, $2, $3, $4, $5, $6, 'succeeded', $7, $8, $9, $10, $11) RETURNING *`,
      [newId('dep'), target.service, target.environment, target.version, target.digest, target.image, from.rollbackBy, target.url, from.rollback ? JSON.stringify(from.rollback) : null, now, from.id],
    );
    return toDeployment(rows[0]!);
  }

  async get(id: string, tx: Queryable = this.db): Promise<Deployment | undefined> {
    const { rows } = await tx.query<Row>('SELECT * FROM deployments WHERE id = $1', [id]);
    return rows[0] ? toDeployment(rows[0]) : undefined;
  }

  /** The deployments of `service` in `environment`, newest first. */
  async history(service: string, environment: string, limit = 200): Promise<Deployment[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM deployments WHERE service = $1 AND environment = $2 ORDER BY created_at DESC, seq DESC LIMIT $3', [service, environment, limit]);
    return rows.map(toDeployment);
  }

  /** Deployments at or after `since` (optionally of one service / environment), oldest first, at most `limit` (the newest kept). */
  async since(since: Date, filter: { service?: string; environment?: string } = {}, limit = 10_000): Promise<Deployment[]> {
    const { rows } = await this.db.query<Row>(
      `SELECT * FROM (SELECT * FROM deployments WHERE created_at >= $1 AND ($2::text IS NULL OR service = $2) AND ($3::text IS NULL OR environment = $3) ORDER BY created_at DESC, seq DESC LIMIT $4) newest ORDER BY created_at, seq`,
      [since, filter.service ?? null, filter.environment ?? null, limit],
    );
    return rows.map(toDeployment);
  }

  /**
   * The same rows as `since`, only the columns the DORA computation reads (a scrape reads up to
   * two windows of history: fewer columns, less to decode).
   */
  async doraRows(since: Date, filter: { service?: string }, limit: number): Promise<DoraRow[]> {
    const { rows } = await this.db.query<Row>(
      `SELECT * FROM (SELECT service, environment, version, outcome, created_at, seq, commit_at, rollback_of IS NOT NULL AS restore FROM deployments
         WHERE created_at >= $1 AND ($2::text IS NULL OR service = $2) ORDER BY created_at DESC, seq DESC LIMIT $3) newest ORDER BY created_at, seq`,
      [since, filter.service ?? null, limit],
    );
    return rows.map((r) => ({ service: String(r.service), environment: String(r.environment), version: String(r.version), outcome: String(r.outcome) as Deployment['outcome'], at: date(r.created_at), commitAt: dateOrNull(r.commit_at), restore: r.restore === true }));
  }

  /** The newest deployment of `service` in each environment. */
  async latestByEnvironment(service: string): Promise<Deployment[]> {
    const { rows } = await this.db.query<Row>(`SELECT DISTINCT ON (environment) * FROM deployments WHERE service = $1 AND outcome <> 'failed' ORDER BY environment, created_at DESC, seq DESC`, [service]);
    return rows.map(toDeployment);
  }

  /** Where the deployment's Slack message is, once posted. */
  async setMessage(id: string, channel: string, ts: string): Promise<void> {
    await this.db.query('UPDATE deployments SET channel = $2, message_ts = $3 WHERE id = $1', [id, channel, ts]);
  }
}

// Rollbacks: a deployment is rolled back at most once. Its claim is one conditional UPDATE of the
// deployment's rollback columns; its result, the restored release, the Slack work and the audit
// row commit together with the outbox row that ran it, so a crash after that commit cannot run
// the rollback a second time.
import type { Deployment } from '../approvals/model.js';
import type { AuditLog } from './audit.js';
import { toDeployment, type DeploymentRepository } from './deployments.js';
import type { Outbox } from './outbox.js';
import type { Row } from './rows.js';
import type { SqlDatabase } from './sql.js';

export class RollbackRepository {
  constructor(
    private readonly db: SqlDatabase,
    private readonly deployments: DeploymentRepository,
    private readonly outbox: Outbox,
    private readonly audit: AuditLog,
  ) {}

  /** Claims the rollback of `fromId` to `toId`, once (a deployment is rolled back at most once). */
  async request(fromId: string, toId: string, by: string, now: Date): Promise<Deployment | undefined> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<Row>(
        `UPDATE deployments SET rollback_state = 'requested', rollback_by = $3, rollback_at = $4, rollback_target_id = $2
         WHERE id = $1 AND rollback_state IS NULL RETURNING *`,
        [fromId, toId, by, now],
      );
      if (!rows[0]) {
        await this.audit.record({ actor: by, action: 'rollback.requested', subjectId: fromId, outcome: 'already-rolled-back' }, tx);
        return undefined;
      }
      await this.outbox.add(
        [
          { kind: 'rollback.run', subjectId: fromId },
          { kind: 'slack.deployment', subjectId: fromId },
        ],
        tx,
      );
      await this.audit.record({ actor: by, action: 'rollback.requested', subjectId: fromId, outcome: 'ok', detail: { to: toId } }, tx);
      return toDeployment(rows[0]);
    });
  }

  /** Records how a rollback went; on success the target release is recorded as running again. */
  async finish(fromId: string, result: { ok: boolean; detail: string }, now: Date, outboxRow?: { id: number; worker: string }): Promise<Deployment | undefined> {
    return this.db.transaction(async (tx) => {
      // the rollback.run row is marked done in the same transaction: a crash after this commit
      // cannot run the rollback a second time
      if (outboxRow) await this.outbox.markDone(outboxRow.id, outboxRow.worker, tx);
      const { rows } = await tx.query<Row>(`UPDATE deployments SET rollback_state = $2, rollback_detail = $3 WHERE id = $1 AND rollback_state = 'requested' RETURNING *`, [fromId, result.ok ? 'succeeded' : 'failed', result.detail]);
      if (!rows[0]) return undefined;
      const from = toDeployment(rows[0]);
      let restored: Deployment | undefined;
      if (result.ok && from.rollbackTargetId) {
        const target = (await this.deployments.get(from.rollbackTargetId, tx))!;
        restored = await this.deployments.recordRestored(target, from, now, tx);
      }
      await this.outbox.add(
        [
          { kind: 'slack.deployment', subjectId: fromId },
          ...(restored ? [{ kind: 'slack.deployment' as const, subjectId: restored.id }] : []),
          { kind: 'slack.thread', subjectId: fromId, payload: { subject: 'deployment', text: result.ok ? `:rewind: Rolled back: ${result.detail}` : `:x: Rollback failed: ${result.detail}` } },
        ],
        tx,
      );
      await this.audit.record({ actor: from.rollbackBy, action: 'rollback.finished', subjectId: fromId, outcome: result.ok ? 'succeeded' : 'failed', detail: { detail: result.detail, restored: restored?.id ?? null } }, tx);
      return from;
    });
  }
}

// Store: the Slack app's data, one repository per aggregate over one SQL handle. It only composes
// them and owns the handle (schema, health, closing). Each repository opens the transactions of
// its own changes and writes their consequences through the outbox and the audit log with the same
// transaction handle, so a change, its outbox rows and its audit row commit together or not at all.
//
//   rollbacks ─► deployments ─► approvals ─► outbox ─► audit   (each over sql.ts and rows.ts)
import type { Approval } from '../approvals/model.js';
import { ApprovalRepository } from './approvals.js';
import { AuditLog } from './audit.js';
import { DeploymentRepository } from './deployments.js';
import { InboxTable } from './inbox.js';
import { migrate } from './migrations.js';
import { Outbox } from './outbox.js';
import { RollbackRepository } from './rollbacks.js';
import type { SqlDatabase } from './sql.js';

export class Store {
  readonly audit: AuditLog;
  readonly outbox: Outbox;
  readonly approvals: ApprovalRepository;
  readonly deployments: DeploymentRepository;
  readonly rollbacks: RollbackRepository;
  /** Slack requests acknowledged before their listeners ran (with a shared database). */
  readonly inbox: InboxTable;

  constructor(readonly db: SqlDatabase) {
    this.audit = new AuditLog(db);
    this.outbox = new Outbox(db, this.audit);
    this.approvals = new ApprovalRepository(db, this.outbox, this.audit);
    this.deployments = new DeploymentRepository(db, this.approvals, this.outbox, this.audit);
    this.rollbacks = new RollbackRepository(db, this.deployments, this.outbox, this.audit);
    this.inbox = new InboxTable(db);
  }

  /** Brings the schema up to date (safe to call from every replica at start). */
  migrate(): Promise<number[]> {
    return migrate(this.db);
  }

  /** Resolves once the database answers (for /healthz). */
  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/**
 * @deprecated The store's name before it was split by aggregate; use {@link Store} and
 * `store.approvals.get(id)`. Kept so callers written against the old API still compile.
 */
export class ApprovalStore extends Store {
  getApproval(id: string): Promise<Approval | undefined> {
    return this.approvals.get(id);
  }
}

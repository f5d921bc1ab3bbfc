// Who is told of a decision, and how a rollback is carried out. Each backend is a small function
// over injected I/O (fetch, an AWS client); the outbox worker calls it at most once per attempt,
// with a timeout, and retries with back-off when it throws a retryable BackendError.
import type { Approval, ApprovalBackend, Deployment, RollbackSpec } from '../approvals/model.js';

export interface BackendResult {
  /** One line for the audit trail and the Slack thread. */
  detail: string;
}

export interface DecisionNotice {
  verdict: 'approved' | 'rejected';
  /** Who decided and why, for the far end's own log. */
  comment: string;
  signal: AbortSignal;
}

export type DecisionBackend<K extends ApprovalBackend['kind'] = ApprovalBackend['kind']> = (
  backend: Extract<ApprovalBackend, { kind: K }>,
  approval: Approval,
  notice: DecisionNotice,
) => Promise<BackendResult>;

export type DecisionBackends = { [K in ApprovalBackend['kind']]: DecisionBackend<K> };

export interface RollbackRequest {
  from: Deployment;
  to: Deployment;
  requestedBy: string;
  signal: AbortSignal;
}

/** Carries out a rollback of one kind (`image`, `codedeploy`, `jenkins`). */
export interface RollbackBackend<K extends RollbackSpec['kind'] = RollbackSpec['kind']> {
  readonly kind: K;
  rollback(spec: Extract<RollbackSpec, { kind: K }>, request: RollbackRequest): Promise<BackendResult>;
}

export type RollbackBackends = Partial<{ [K in RollbackSpec['kind']]: RollbackBackend<K> }>;

/** A failure talking to a backend. `retryable: false` gives up at once (a 403 will not heal by itself). */
export class BackendError extends Error {
  override readonly name = 'BackendError';
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Statuses worth retrying: throttling and the far end's own failures. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

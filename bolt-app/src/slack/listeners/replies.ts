// What a refused click is told (ephemeral, to the clicker only). Plain texts over plain data.
import type { AccessDecision } from '../../approvals/access.js';
import type { Approval, Deployment } from '../../approvals/model.js';
import type { RollbackRefusal } from '../../approvals/rollback.js';

export const deniedText: Record<Exclude<AccessDecision, { allowed: true }>['why'], string> = {
  'unknown-environment': 'this environment is not in the Slack app’s config any more, so nobody can act on it here',
  'not-an-approver': 'you are not one of its approvers',
  'self-approval': 'you requested this deploy, and this environment needs someone else to approve it',
  'requester-unresolved': 'Slack could not tell whether you are the one who requested this deploy (it does not know the requester, or did not answer), and this environment needs someone else to approve it',
};

/** A Slack mention for a user id, else the name as given. */
export function who(id: string | null): string {
  return id && /^[UW][A-Z0-9]+$/.test(id) ? `<@${id}>` : (id ?? 'someone');
}

export function refusalText(refusal: string, approval?: Approval): string {
  if (refusal === 'expired') return 'This approval has expired: nothing was changed. Ask for a new one from the pipeline.';
  if (refusal === 'not-found') return 'This approval is not known to shipgate.';
  if (refusal === 'reason-required') return 'A rejection needs a reason.';
  if (approval) return `Too late: this deploy was already ${approval.state} by ${who(approval.decidedBy)}.`;
  return 'This approval was already decided.';
}

/** Why a Rollback click did nothing, for the rollback planner's refusal. */
export function rollbackRefusalText(refusal: RollbackRefusal, from: Deployment): string {
  const texts: Record<RollbackRefusal, string> = {
    'already-rolled-back': `it was already rolled back by ${who(from.rollbackBy)}`,
    'not-current': 'a newer deployment has gone out since; roll back from its message',
    'no-target': 'there is no earlier good deployment to go back to',
    'no-rollback-spec': 'this deployment did not say how to roll it back',
    'not-deployed': 'this deployment did not go live',
  };
  return texts[refusal];
}

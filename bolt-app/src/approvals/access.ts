// Who may act on an approval or a deployment: pure, over the environment's policy and what Slack
// says about the user. Approvers are Slack user IDs (U…, W…) or user-group IDs (S…); the store and
// the handlers never decide this themselves.

export interface EnvironmentPolicy {
  channel: string;
  approvers: string[];
  /** false: whoever requested a deployment may not approve it (they may still reject it). */
  selfApprove: boolean;
}

export type ActorAction = 'approve' | 'reject' | 'rollback';

export interface Actor {
  userId: string;
  /** The user groups (S…) among the policy's approvers that contain the user. */
  groups: ReadonlySet<string>;
  /** The user's e-mail address, when known (a requester may be given as an address). */
  email?: string | undefined;
}

export type AccessDecision = { allowed: true } | { allowed: false; why: 'unknown-environment' | 'not-an-approver' | 'self-approval' };

export function isUserGroupId(id: string): boolean {
  return id.startsWith('S');
}

/** Whether `requester` (a Slack user ID, `<@U…>`, or an e-mail address) names `actor`. */
export function isRequester(actor: Actor, requester: string | null | undefined): boolean {
  if (!requester) return false;
  const r = requester.trim();
  const mention = /^<@([UW][A-Z0-9]+)(\|[^>]*)?>$/.exec(r);
  if ((mention?.[1] ?? r) === actor.userId) return true;
  return actor.email !== undefined && r.includes('@') && r.toLowerCase() === actor.email.toLowerCase();
}

export function mayAct(policy: EnvironmentPolicy | undefined, actor: Actor, action: ActorAction, requester?: string | null): AccessDecision {
  if (!policy) return { allowed: false, why: 'unknown-environment' };
  const listed = policy.approvers.some((id) => (isUserGroupId(id) ? actor.groups.has(id) : id === actor.userId));
  if (!listed) return { allowed: false, why: 'not-an-approver' };
  if (action === 'approve' && !policy.selfApprove && isRequester(actor, requester)) return { allowed: false, why: 'self-approval' };
  return { allowed: true };
}

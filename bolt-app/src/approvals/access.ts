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
  /** The user's e-mail address, when Slack said (users.info). */
  email?: string | undefined;
  /** The user's names (user name, display and real name), lower-case, when Slack said; absent when it did not. */
  names?: readonly string[] | undefined;
}

/**
 * Who asked, normalised: a Slack user ID however it was written (`u0ada00001`, `@U0ADA00001`,
 * `<@U0ADA00001|ada>`), an e-mail address (lower-case; `id` once Slack resolved it with
 * users.lookupByEmail), or any other name (a CI login), lower-case without a leading `@`.
 */
export type Requester = { id: string; email?: string | undefined; name?: undefined } | { id?: undefined; email: string; name?: undefined } | { id?: undefined; email?: undefined; name: string };

export type AccessDecision = { allowed: true } | { allowed: false; why: 'unknown-environment' | 'not-an-approver' | 'self-approval' | 'requester-unresolved' };

export function isUserGroupId(id: string): boolean {
  return id.startsWith('S');
}

/** A Slack user ID in any case: U or W, then letters and digits with at least one digit. */
const userIdPattern = /^[UW](?=[A-Z]*\d)[A-Z0-9]{2,}$/i;

export function parseRequester(raw: string): Requester | undefined {
  const text = raw.trim();
  if (!text) return undefined;
  const mention = /^<@([^|>]+)(\|[^>]*)?>$/.exec(text);
  const bare = (mention?.[1] ?? text).replace(/^@/, '').trim();
  if (userIdPattern.test(bare)) return { id: bare.toUpperCase() };
  if (/^[^@\s]+@[^@\s]+$/.test(bare)) return { email: bare.toLowerCase() };
  return { name: bare.toLowerCase() };
}

/**
 * Whether `requester` is `actor`: `same`, `other`, or `unknown` when what Slack said is not enough
 * to tell (an e-mail Slack did not resolve and an actor whose own address is unknown; a name and
 * an actor whose profile Slack did not give). Access treats `unknown` as `same` (fail closed).
 */
export function requesterMatch(actor: Actor, requester: Requester | string | null | undefined): 'same' | 'other' | 'unknown' {
  const r = typeof requester === 'string' ? parseRequester(requester) : requester;
  if (!r) return 'other';
  if (r.id) return r.id === actor.userId.toUpperCase() ? 'same' : 'other';
  if (r.email) return actor.email ? (actor.email.toLowerCase() === r.email ? 'same' : 'other') : 'unknown';
  if (r.name) return actor.names ? (actor.names.includes(r.name) ? 'same' : 'other') : 'unknown';
  return 'other';
}

export function mayAct(policy: EnvironmentPolicy | undefined, actor: Actor, action: ActorAction, requester?: Requester | string | null): AccessDecision {
  if (!policy) return { allowed: false, why: 'unknown-environment' };
  const listed = policy.approvers.some((id) => (isUserGroupId(id) ? actor.groups.has(id) : id === actor.userId));
  if (!listed) return { allowed: false, why: 'not-an-approver' };
  if (action === 'approve' && !policy.selfApprove) {
    const match = requesterMatch(actor, requester);
    if (match === 'same') return { allowed: false, why: 'self-approval' };
    if (match === 'unknown') return { allowed: false, why: 'requester-unresolved' };
  }
  return { allowed: true };
}

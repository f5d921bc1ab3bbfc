// Rollback target selection, pure: from a service's deploy history in one environment, which
// deployment a Rollback button goes back to, or why it cannot.
import type { Deployment } from './model.js';

export type RollbackRefusal = 'no-rollback-spec' | 'already-rolled-back' | 'not-current' | 'no-target' | 'not-deployed';

export type RollbackPlan = { ok: true; from: Deployment; to: Deployment } | { ok: false; refusal: RollbackRefusal; from?: Deployment };

type Record = Pick<Deployment, 'id' | 'seq' | 'version' | 'digest' | 'outcome' | 'createdAt' | 'rollbackState' | 'rollback' | 'rollbackOf'>;

function sameRelease(a: Pick<Record, 'version' | 'digest'>, b: Pick<Record, 'version' | 'digest'>): boolean {
  if (a.digest && b.digest) return a.digest === b.digest;
  return a.version === b.version;
}

function chronological<T extends Pick<Record, 'createdAt' | 'seq'>>(history: readonly T[]): T[] {
  return [...history].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.seq - b.seq);
}

/**
 * The deployment running now: the newest record that put something live (a succeeded deploy, or a
 * pipeline's own rollback). Failed deploys leave the previous release running.
 */
export function currentDeployment<T extends Record>(history: readonly T[]): T | undefined {
  return chronological(history)
    .filter((d) => d.outcome !== 'failed')
    .at(-1);
}

/**
 * The last good deployment before `from`: the newest earlier deploy that succeeded, of a different
 * release, and of a release nobody rolled back (a release someone rolled away from is known bad).
 */
export function selectRollbackTarget<T extends Record>(history: readonly T[], from: T): T | undefined {
  const ordered = chronological(history);
  const bad = ordered.filter((d) => d.rollbackState === 'succeeded' || d.rollbackState === 'requested');
  const at = ordered.findIndex((d) => d.id === from.id);
  const before = at >= 0 ? ordered.slice(0, at) : ordered.filter((d) => d.createdAt.getTime() < from.createdAt.getTime());
  return before
    .reverse()
    .find((d) => d.outcome === 'succeeded' && !sameRelease(d, from) && !bad.some((b) => sameRelease(b, d)));
}

/** Whether `fromId` can be rolled back now, and to what. */
export function planRollback<T extends Deployment>(history: readonly T[], fromId: string): RollbackPlan {
  const from = history.find((d) => d.id === fromId);
  if (!from) return { ok: false, refusal: 'not-deployed' };
  if (from.rollbackState) return { ok: false, refusal: 'already-rolled-back', from };
  if (!from.rollback) return { ok: false, refusal: 'no-rollback-spec', from };
  if (from.outcome === 'failed') return { ok: false, refusal: 'not-deployed', from };
  if (currentDeployment(history)?.id !== from.id) return { ok: false, refusal: 'not-current', from };
  const to = selectRollbackTarget(history, from);
  return to ? { ok: true, from, to } : { ok: false, refusal: 'no-target', from };
}

type Posted = Pick<Deployment, 'id' | 'seq' | 'version' | 'outcome' | 'createdAt' | 'channel' | 'messageTs'>;

/**
 * Whose Slack thread a pipeline's `rolled-back` record answers: the newest earlier deployment of
 * the same version that has a message, else the newest earlier one with a message. Other
 * `rolled-back` records are never chosen (their messages are replies themselves).
 */
export function rolledBackParent<T extends Posted>(history: readonly T[], record: T): T | undefined {
  const ordered = chronological(history);
  const at = ordered.findIndex((d) => d.id === record.id);
  const before = (at >= 0 ? ordered.slice(0, at) : ordered).reverse();
  const posted = before.filter((d) => d.outcome !== 'rolled-back' && d.channel && d.messageTs);
  return posted.find((d) => d.version === record.version) ?? posted[0];
}

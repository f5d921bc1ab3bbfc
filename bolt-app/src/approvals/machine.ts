// The approval state machine, as pure functions over plain data: pending → approved / rejected /
// expired, and nothing ever leaves a final state. The store applies a transition with one
// conditional statement (`UPDATE … WHERE state = 'pending'`), so this module decides *whether* and
// *what*, the database makes it happen once.
import type { Approval, ApprovalState } from './model.js';

export type ApprovalEvent =
  | { type: 'approve'; by: string }
  | { type: 'reject'; by: string; reason: string }
  | { type: 'expire' };

export type Refusal = 'already-decided' | 'expired' | 'reason-required';

export type Transition =
  | { ok: true; state: Exclude<ApprovalState, 'pending'>; decidedBy: string | null; reason: string | null }
  | { ok: false; refusal: Refusal };

/** Whether an approval is past its deadline at `now` (even before the sweeper has marked it). */
export function isPastDeadline(approval: Pick<Approval, 'expiresAt'>, now: Date): boolean {
  return approval.expiresAt.getTime() <= now.getTime();
}

/** What `event` does to `approval` at `now`. */
export function nextState(approval: Pick<Approval, 'state' | 'expiresAt'>, event: ApprovalEvent, now: Date): Transition {
  if (approval.state === 'expired') return { ok: false, refusal: 'expired' };
  if (approval.state !== 'pending') return { ok: false, refusal: 'already-decided' };
  if (event.type === 'expire') {
    return isPastDeadline(approval, now) ? { ok: true, state: 'expired', decidedBy: null, reason: null } : { ok: false, refusal: 'already-decided' };
  }
  if (isPastDeadline(approval, now)) return { ok: false, refusal: 'expired' };
  if (event.type === 'approve') return { ok: true, state: 'approved', decidedBy: event.by, reason: null };
  const reason = event.reason.trim();
  if (!reason) return { ok: false, refusal: 'reason-required' };
  return { ok: true, state: 'rejected', decidedBy: event.by, reason };
}

/** What a backend is told: a final state maps to approve or reject (an expired approval is a rejection). */
export function verdictOf(state: Exclude<ApprovalState, 'pending'>): 'approved' | 'rejected' {
  return state === 'approved' ? 'approved' : 'rejected';
}

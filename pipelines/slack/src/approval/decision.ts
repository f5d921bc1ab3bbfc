// What the approval step does after each answer of the Slack app: pure over plain data, so every
// branch (approved, rejected, expired, our own deadline, keep waiting) is a table test.

/** The approval as `GET /api/approvals/:id` returns it. */
export interface ApprovalStatus {
  id: string;
  state: 'pending' | 'approved' | 'rejected' | 'expired';
  decidedBy?: string;
  decidedAt?: string;
  reason?: string;
}

export type NextMove =
  | { kind: 'approved'; decidedBy: string; decidedAt: string }
  | { kind: 'rejected'; decidedBy: string; reason: string }
  | { kind: 'expired' }
  | { kind: 'timed-out' }
  | { kind: 'wait'; waitSeconds: number };

/** The longest long-poll the app accepts (`?wait=`, seconds). */
export const maxWaitSeconds = 60;

/**
 * Decides the next move from the app's answer and the clock. `deadline` is when this step gives up
 * (its `timeout` input, else the approval's expiry plus a grace period for the app to say so).
 */
export function nextMove(status: ApprovalStatus, nowMs: number, deadlineMs: number, pollSeconds: number): NextMove {
  switch (status.state) {
    case 'approved':
      return { kind: 'approved', decidedBy: status.decidedBy ?? 'unknown', decidedAt: status.decidedAt ?? new Date(nowMs).toISOString() };
    case 'rejected':
      return { kind: 'rejected', decidedBy: status.decidedBy ?? 'unknown', reason: status.reason?.trim() || 'no reason given' };
    case 'expired':
      return { kind: 'expired' };
    case 'pending': {
      const leftMs = deadlineMs - nowMs;
      if (leftMs <= 0) return { kind: 'timed-out' };
      // whole seconds (the API's unit), rounded up: the last poll may end up to a second late
      return { kind: 'wait', waitSeconds: Math.max(1, Math.min(pollSeconds, maxWaitSeconds, Math.ceil(leftMs / 1000))) };
    }
  }
}

/** Reads an answer body defensively: a proxy's HTML page or a newer app's extra fields must not crash the step. */
export function parseApprovalStatus(body: unknown): ApprovalStatus | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.id !== 'string' || !['pending', 'approved', 'rejected', 'expired'].includes(b.state as string)) return undefined;
  return {
    id: b.id,
    state: b.state as ApprovalStatus['state'],
    ...(typeof b.decidedBy === 'string' ? { decidedBy: b.decidedBy } : {}),
    ...(typeof b.decidedAt === 'string' ? { decidedAt: b.decidedAt } : {}),
    ...(typeof b.reason === 'string' ? { reason: b.reason } : {}),
  };
}

/** Grace after the expiry for the app to report it, before the step gives up on its own. */
const expiryGraceMs = 60_000;

/**
 * When the step stops waiting: its `timeout` (from `startedMs`) when that comes first, else the
 * approval's expiry plus a minute for the app to report it. An unreadable `expiresAt` counts
 * from the requested `expires-in`.
 */
export function waitDeadline(startedMs: number, expiresAt: string, expiresInSeconds: number, timeoutMs?: number): number {
  const expiresAtMs = Date.parse(expiresAt);
  const untilExpiry = (Number.isFinite(expiresAtMs) ? expiresAtMs : startedMs + expiresInSeconds * 1000) + expiryGraceMs;
  return timeoutMs === undefined ? untilExpiry : Math.min(startedMs + timeoutMs, untilExpiry);
}

/**
 * The idempotency key when the step names none: a retry inside one run (the engine's retries, a
 * lost connection) finds the same approval; a new run, or a GitHub re-run (a new attempt), asks
 * again. Undefined outside CI (no run id): every run asks.
 */
export function defaultIdempotencyKey(run: { repository?: string | undefined; runId?: string | undefined; attempt?: string | undefined }, stepId: string, environment: string, version: string): string | undefined {
  if (!run.runId) return undefined;
  return [run.repository ?? 'local', run.runId, ...(run.attempt ? [run.attempt] : []), stepId, environment, version].join(':');
}

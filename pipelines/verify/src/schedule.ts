// The evaluation schedule and the verdict: a small state machine over evaluations, pure so its
// rules can be read (and tested) as a table. An evaluation fails when any check fails, is
// inconclusive when none fails but one has no number, and passes otherwise. The run stops as soon
// as failures exceed `failureLimit` (failed) or inconclusive evaluations exceed
// `inconclusiveLimit` (inconclusive); after `count` evaluations it passed, unless not one
// evaluation passed (never a silent pass).
import type { CheckStatus } from './checks.js';

export interface ScheduleOptions {
  /** Evaluations in all. */
  count: number;
  intervalMs: number;
  initialDelayMs: number;
  /** Failed evaluations tolerated. */
  failureLimit: number;
  /** Inconclusive evaluations tolerated. */
  inconclusiveLimit: number;
}

export type Verdict = 'passed' | 'failed' | 'inconclusive';

export interface VerdictState {
  evaluations: number;
  passed: number;
  failed: number;
  inconclusive: number;
  /** Set once the run is decided; no more evaluations after that. */
  verdict?: Verdict;
}

export const initialVerdictState: VerdictState = { evaluations: 0, passed: 0, failed: 0, inconclusive: 0 };

/** Offsets from the start (ms) at which the evaluations run: a fixed schedule, no drift. */
export function evaluationOffsets(options: Pick<ScheduleOptions, 'count' | 'intervalMs' | 'initialDelayMs'>): number[] {
  return Array.from({ length: options.count }, (_, i) => options.initialDelayMs + i * options.intervalMs);
}

/** The latest a failing release is rolled back: `initial-delay + (failure-limit + 1) × interval`. */
export function rollbackDeadlineMs(options: Pick<ScheduleOptions, 'intervalMs' | 'initialDelayMs' | 'failureLimit'>): number {
  return options.initialDelayMs + (options.failureLimit + 1) * options.intervalMs;
}

/** One evaluation's status from its checks' statuses. */
export function evaluationStatus(checks: readonly CheckStatus[]): CheckStatus {
  if (checks.includes('fail')) return 'fail';
  if (checks.includes('inconclusive') || checks.length === 0) return 'inconclusive';
  return 'pass';
}

/** The state after one more evaluation. */
export function nextVerdictState(state: VerdictState, evaluation: CheckStatus, options: ScheduleOptions): VerdictState {
  if (state.verdict) return state;
  const next: VerdictState = {
    evaluations: state.evaluations + 1,
    passed: state.passed + (evaluation === 'pass' ? 1 : 0),
    failed: state.failed + (evaluation === 'fail' ? 1 : 0),
    inconclusive: state.inconclusive + (evaluation === 'inconclusive' ? 1 : 0),
  };
  if (next.failed > options.failureLimit) return { ...next, verdict: 'failed' };
  if (next.inconclusive > options.inconclusiveLimit) return { ...next, verdict: 'inconclusive' };
  if (next.evaluations >= options.count) return { ...next, verdict: next.passed > 0 ? 'passed' : 'inconclusive' };
  return next;
}

// The verification loop: evaluate every check on the fixed schedule, judge each evaluation, and
// stop as soon as the verdict is known. Queries and the clock are passed in, so the loop runs
// against a real Prometheus in the tests and the bench, and the decisions stay in schedule.ts.
import { evaluateCheck, type CheckLimits, type CheckOutcome, type Measurement } from './checks.js';
import { evaluationStatus, initialVerdictState, nextVerdictState, evaluationOffsets, type ScheduleOptions, type Verdict, type VerdictState } from './schedule.js';

export interface PreparedCheck extends CheckLimits {
  name: string;
  /** The query with its template variables filled in. */
  query: string;
  /** The same query for the previous version, when the check has a baseline. */
  baselineQuery?: string | undefined;
}

export interface CheckResult extends CheckOutcome {
  name: string;
}

export interface Evaluation {
  /** 1-based. */
  index: number;
  /** When it ran, ms after the verification started. */
  atMs: number;
  status: CheckResult['status'];
  checks: CheckResult[];
}

export interface FailingCheck {
  name: string;
  reason: string;
  evaluation: number;
}

export interface VerificationResult {
  verdict: Verdict;
  state: VerdictState;
  evaluations: Evaluation[];
  /** The check that decided a failed (or inconclusive) verdict, from its last evaluation. */
  failing?: FailingCheck | undefined;
}

export interface VerificationDeps {
  query(promql: string, signal: AbortSignal): Promise<Measurement>;
  signal: AbortSignal;
  /** Told after each evaluation (the step logs a line). */
  onEvaluation?(evaluation: Evaluation, state: VerdictState): void;
  /** Milliseconds, monotonic. Default performance.now. */
  now?(): number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs every check once (and its baseline query, if any), all at the same time. */
export async function evaluateChecks(checks: readonly PreparedCheck[], deps: Pick<VerificationDeps, 'query' | 'signal'>): Promise<CheckResult[]> {
  return Promise.all(
    checks.map(async (check) => {
      const [measured, baseline] = await Promise.all([deps.query(check.query, deps.signal), check.baselineQuery ? deps.query(check.baselineQuery, deps.signal) : undefined]);
      return { name: check.name, ...evaluateCheck(check, measured, baseline) };
    }),
  );
}

/** The check to blame: the first that failed (or was inconclusive) in the deciding evaluation. */
function failingCheckOf(evaluations: readonly Evaluation[], verdict: Verdict): FailingCheck | undefined {
  if (verdict === 'passed') return undefined;
  const wanted = verdict === 'failed' ? 'fail' : 'inconclusive';
  for (const evaluation of [...evaluations].reverse()) {
    const check = evaluation.checks.find((c) => c.status === wanted);
    if (check) return { name: check.name, reason: check.reason ?? wanted, evaluation: evaluation.index };
  }
  return undefined;
}

/** Evaluates on the schedule until the verdict is known. */
export async function runVerification(checks: readonly PreparedCheck[], schedule: ScheduleOptions, deps: VerificationDeps): Promise<VerificationResult> {
  const now = deps.now ?? (() => performance.now());
  const start = now();
  let state = initialVerdictState;
  const evaluations: Evaluation[] = [];
  for (const [i, offset] of evaluationOffsets(schedule).entries()) {
    await sleep(start + offset - now(), deps.signal);
    const atMs = now() - start;
    const results = await evaluateChecks(checks, deps);
    const evaluation: Evaluation = { index: i + 1, atMs, status: evaluationStatus(results.map((r) => r.status)), checks: results };
    evaluations.push(evaluation);
    state = nextVerdictState(state, evaluation.status, schedule);
    deps.onEvaluation?.(evaluation, state);
    if (state.verdict) break;
  }
  const verdict = state.verdict ?? 'inconclusive';
  return { verdict, state, evaluations, failing: failingCheckOf(evaluations, verdict) };
}

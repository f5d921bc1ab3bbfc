// The scheduler as a state machine: `next(state, event)` takes what happened (an attempt ended, the
// cache answered, a retry is due, Ctrl-C) and returns what to do (start, attempt, retry, skip,
// finish, cancel the running attempts, finish the run). No I/O, no timers, no clock, no randomness
// of its own: the driver (driver.ts) runs processes and timers, measures time and feeds the events.
//
// The state is plain data that the machine owns: `next` updates it in place and returns it. Copying
// it for every event would cost time in proportion to the pipeline's size, per event (a 1,000-step
// run has thousands of events); a caller that wants an old state kept copies it (structuredClone).
import { ShipgateError, type StepInvocation } from '@shipgate/protocol';
import { buildInvocation } from '../plan/invocation.js';
import { expressionContext, verdictFor, type Verdict } from './conditions.js';
import type { InvocationOutcome } from './events.js';
import { conclusionOf, makeReady, type AttemptStatus, type InvocationState, type SchedulerState } from './state.js';

export type SchedulerEvent =
  /** The run begins: start what has no needs. */
  | { type: 'run-started' }
  /** The events that arrived together are in: start what may start now. */
  | { type: 'dispatch' }
  | { type: 'cache-hit'; id: string; outputs: Readonly<Record<string, string>> }
  | { type: 'cache-miss'; id: string }
  /** `random` in [0, 1) draws the retry's jitter, so the machine stays deterministic. */
  | { type: 'attempt-ended'; id: string; status: AttemptStatus; outputs: Readonly<Record<string, string>>; random: number }
  | { type: 'retry-due'; id: string }
  /** Ctrl-C, SIGTERM or the caller's AbortSignal. */
  | { type: 'cancel-requested' };

export interface InvocationError {
  code: string;
  message: string;
  hint?: string;
}

export type Decision =
  /** Count it as running; `invocation` is resolved against its needs' outputs. */
  | { type: 'start'; id: string; invocation: StepInvocation; executor: string }
  /** Look its inputs up in the step cache, then send cache-hit or cache-miss. */
  | { type: 'look-up-cache'; id: string; upstream: Record<string, Readonly<Record<string, string>>> }
  | { type: 'attempt'; id: string; attempt: number }
  /** Wait `delayMs`, then send retry-due. */
  | { type: 'retry'; id: string; attempt: number; delayMs: number }
  | { type: 'skip'; id: string; reason: string }
  /** It has its outcome; `error` when the machine found the problem (the invocation could not be built). */
  | { type: 'finish'; id: string; outcome: InvocationOutcome; attempts: number; error?: InvocationError }
  /** Abort these running attempts. */
  | { type: 'cancel-attempts'; ids: string[]; cause: { kind: 'cancel-requested' } | { kind: 'fail-fast'; failedBy: string } }
  /** Every invocation of the step is done and it succeeded: record its outputs for a later `--only`. */
  | { type: 'record-outputs'; stepId: string; outputs: Readonly<Record<string, string>> }
  | { type: 'finish-run'; outcome: 'success' | 'failure' | 'cancelled' };

export interface Transition {
  state: SchedulerState;
  decisions: Decision[];
}

export function next(state: SchedulerState, event: SchedulerEvent): Transition {
  const decisions: Decision[] = [];
  switch (event.type) {
    case 'run-started':
      dispatch(state, decisions);
      finishRunWhenDone(state, decisions); // a plan with no invocations is done at once
      break;
    case 'dispatch':
      dispatch(state, decisions);
      break;
    case 'cache-hit':
      if (phaseOf(state, event.id) === 'preparing') finish(state, event.id, 'cached', event.outputs, decisions);
      break;
    case 'cache-miss':
      if (phaseOf(state, event.id) === 'preparing') attemptOrStop(state, state.invocations.get(event.id)!, decisions);
      break;
    case 'attempt-ended':
      if (phaseOf(state, event.id) === 'attempting') attemptEnded(state, event, decisions);
      break;
    case 'retry-due':
      if (phaseOf(state, event.id) === 'backing-off') attemptOrStop(state, state.invocations.get(event.id)!, decisions);
      break;
    case 'cancel-requested':
      if (!state.cancelRequested) cancel(state, decisions);
      break;
  }
  return { state, decisions };
}

/** Retry delay: base × 2^(attempt−1), × 0.5–1.5 jitter, at most 30 s. */
export function retryDelayMs(baseMs: number, failedAttempt: number, random: number): number {
  return Math.min(30_000, baseMs * 2 ** (failedAttempt - 1) * (0.5 + random));
}

function phaseOf(state: SchedulerState, id: string): string | undefined {
  return state.invocations.get(id)?.phase;
}

/** Skips what must not run and starts what may, within the limits, most urgent first. */
function dispatch(state: SchedulerState, decisions: Decision[]): void {
  // Bounded: every turn removes an invocation from the queue, moves on, or stops.
  for (let i = 0; i < state.ready.length; ) {
    const invocation = state.invocations.get(state.ready[i]!)!;
    const verdict = verdictFor(state, invocation.node);
    if (!verdict.run) {
      state.ready.splice(i, 1);
      // a skip can make dependents ready, queued by priority (maybe ahead of i): look again from the top
      if (skip(state, invocation, verdict.reason, decisions)) i = 0;
      continue;
    }
    if (state.running >= state.config.maxParallel) break;
    const step = state.steps.get(invocation.node.stepId)!;
    if (step.running >= (step.step.matrix?.maxParallel ?? Infinity)) {
      i += 1;
      continue;
    }
    state.ready.splice(i, 1);
    start(state, invocation, verdict, decisions);
  }
}

function start(state: SchedulerState, invocation: InvocationState, verdict: Extract<Verdict, { run: true }>, decisions: Decision[]): void {
  const { node } = invocation;
  const step = state.steps.get(node.stepId)!;
  invocation.phase = 'preparing';
  state.running += 1;
  step.running += 1;
  const context = verdict.context ?? expressionContext(state, node, verdict.status);
  let resolved: StepInvocation;
  try {
    resolved = buildInvocation(state.plan.pipeline, node, context);
  } catch (error) {
    // an output nobody wrote (step.output-missing) keeps its own code and hint
    const known = error instanceof ShipgateError ? error : undefined;
    const hint = known?.hint ?? 'check the ${{ }} expressions of this step';
    return finish(state, node.id, 'failure', {}, decisions, { code: known?.code ?? 'step.expression', message: `could not resolve an expression: ${(error as Error).message}`, hint });
  }
  const executor = node.step.executor ?? state.plan.pipeline.executor ?? 'local';
  if (!state.config.executors.includes(executor)) {
    const error = { code: 'executor.unknown', message: `no executor "${executor}" is configured for this run`, hint: `available: ${state.config.executors.join(', ')}` };
    return finish(state, node.id, 'failure', {}, decisions, error);
  }
  decisions.push({ type: 'start', id: node.id, invocation: resolved, executor });
  if (node.step.cache && !state.config.noCache) {
    const upstream = Object.fromEntries(Object.entries(context.steps).map(([need, s]) => [need, s.outputs]));
    decisions.push({ type: 'look-up-cache', id: node.id, upstream });
  } else {
    attemptOrStop(state, invocation, decisions);
  }
}

/** Whether the run has stopped for this invocation: cancelled, or fail-fast unless its `if:` decides for itself. */
function stoppedFor(state: SchedulerState, invocation: InvocationState): boolean {
  if (state.cancelRequested) return true;
  return state.failFastBy !== undefined && !state.steps.get(invocation.node.stepId)!.decidesAfterFailure;
}

/** The next attempt, unless the run has stopped: then it finishes as its last attempt ended (cancelled if none ran). */
function attemptOrStop(state: SchedulerState, invocation: InvocationState, decisions: Decision[]): void {
  if (stoppedFor(state, invocation)) return finish(state, invocation.node.id, invocation.lastStatus ?? 'cancelled', invocation.outputs, decisions);
  invocation.phase = 'attempting';
  invocation.attempts += 1;
  decisions.push({ type: 'attempt', id: invocation.node.id, attempt: invocation.attempts });
}

function attemptEnded(state: SchedulerState, event: Extract<SchedulerEvent, { type: 'attempt-ended' }>, decisions: Decision[]): void {
  const invocation = state.invocations.get(event.id)!;
  invocation.lastStatus = event.status;
  invocation.outputs = event.outputs;
  const lastAttempt = invocation.attempts > invocation.node.step.retries;
  // a cancelled step is never retried
  if (event.status === 'success' || event.status === 'cancelled' || lastAttempt || stoppedFor(state, invocation)) {
    return finish(state, event.id, event.status, event.outputs, decisions);
  }
  invocation.phase = 'backing-off';
  decisions.push({ type: 'retry', id: event.id, attempt: invocation.attempts + 1, delayMs: retryDelayMs(state.config.retryBaseDelayMs, invocation.attempts, event.random) });
}

function skip(state: SchedulerState, invocation: InvocationState, reason: string, decisions: Decision[]): boolean {
  invocation.phase = 'done';
  invocation.outcome = 'skipped';
  decisions.push({ type: 'skip', id: invocation.node.id, reason });
  return record(state, invocation, decisions);
}

function finish(state: SchedulerState, id: string, outcome: InvocationOutcome, outputs: Readonly<Record<string, string>>, decisions: Decision[], error?: InvocationError): void {
  const invocation = state.invocations.get(id)!;
  const step = state.steps.get(invocation.node.stepId)!;
  invocation.phase = 'done';
  invocation.outcome = outcome;
  invocation.outputs = outputs;
  state.running -= 1;
  step.running -= 1;
  decisions.push({ type: 'finish', id, outcome, attempts: invocation.attempts, ...(error ? { error } : {}) });
  const failed = (outcome === 'failure' || outcome === 'timed-out') && !step.step.continueOnError;
  if (failed) state.failed = true;
  record(state, invocation, decisions);
  if (failed && !state.config.keepGoing && state.failFastBy === undefined) failFast(state, id, decisions);
}

/** The first failure stops the run: running attempts are cancelled, and so are those waiting to retry. */
function failFast(state: SchedulerState, failedBy: string, decisions: Decision[]): void {
  state.failFastBy = failedBy;
  if (!state.cancelRequested) stopRunning(state, { kind: 'fail-fast', failedBy }, decisions); // else already stopped
}

function cancel(state: SchedulerState, decisions: Decision[]): void {
  state.cancelRequested = true;
  stopRunning(state, { kind: 'cancel-requested' }, decisions);
  dispatch(state, decisions); // skips everything that is ready
}

function stopRunning(state: SchedulerState, cause: Extract<Decision, { type: 'cancel-attempts' }>['cause'], decisions: Decision[]): void {
  const attempting: string[] = [];
  const backingOff: InvocationState[] = [];
  for (const invocation of state.invocations.values()) {
    if (invocation.phase === 'attempting') attempting.push(invocation.node.id);
    else if (invocation.phase === 'backing-off' && stoppedFor(state, invocation)) backingOff.push(invocation);
  }
  if (attempting.length > 0) decisions.push({ type: 'cancel-attempts', ids: attempting, cause });
  for (const invocation of backingOff) {
    // finishing one can stop the run (fail-fast), which may have finished the others already
    if (invocation.phase === 'backing-off') finish(state, invocation.node.id, invocation.lastStatus!, invocation.outputs, decisions);
  }
}

/**
 * Counts a done invocation. When it was its step's last, the step concludes (outputs merged in
 * matrix order, not completion order, so the result is deterministic) and its dependents whose
 * needs have all concluded become ready. Returns whether any did.
 */
function record(state: SchedulerState, invocation: InvocationState, decisions: Decision[]): boolean {
  state.done += 1;
  const step = state.steps.get(invocation.node.stepId)!;
  step.remaining -= 1;
  let readied = false;
  if (step.remaining === 0) {
    const outcomes = step.invocations.map((id) => state.invocations.get(id)!);
    for (const done of outcomes) Object.assign(step.outputs, done.outputs);
    step.conclusion = conclusionOf(outcomes.map((o) => o.outcome!));
    if (step.conclusion === 'success' && outcomes.some((o) => o.outcome === 'success')) decisions.push({ type: 'record-outputs', stepId: step.step.id, outputs: step.outputs });
    for (const dependentId of step.dependents) {
      const dependent = state.steps.get(dependentId)!;
      dependent.needsLeft -= 1;
      if (dependent.needsLeft === 0) {
        makeReady(state, dependent);
        readied = true;
      }
    }
  }
  finishRunWhenDone(state, decisions);
  return readied;
}

function finishRunWhenDone(state: SchedulerState, decisions: Decision[]): void {
  if (state.finished || state.done < state.invocations.size) return;
  state.finished = true;
  decisions.push({ type: 'finish-run', outcome: state.cancelRequested ? 'cancelled' : state.failed ? 'failure' : 'success' });
}

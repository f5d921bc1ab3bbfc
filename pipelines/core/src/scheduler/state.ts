// The scheduler's state as plain data: where each invocation is in its life, what each step
// concluded, and the queue of invocations that may start, most urgent first. Built once per run
// from the plan; only the machine (machine.ts) changes it.
import type { CiContext } from '@shipgate/protocol';
import { conditionUsesStatus } from '../config/expressions.js';
import type { StepSpec } from '../config/model.js';
import type { Plan, PlanNode } from '../plan/plan.js';
import type { InvocationOutcome } from './events.js';

/** How one attempt of a step ended, as its executor reported it. */
export type AttemptStatus = 'success' | 'failure' | 'timed-out' | 'cancelled';

/** A step's result over all its matrix instances. */
export type StepConclusion = 'success' | 'failure' | 'cancelled' | 'skipped';

/**
 * waiting: a needed step has not concluded · ready: in the queue · preparing: started, the cache
 * is being looked up · attempting: an attempt is running · backing-off: between two attempts ·
 * done: has its outcome.
 */
export type InvocationPhase = 'waiting' | 'ready' | 'preparing' | 'attempting' | 'backing-off' | 'done';

export interface InvocationState {
  readonly node: PlanNode;
  phase: InvocationPhase;
  attempts: number;
  /** How the latest attempt ended: what an invocation stopped between attempts finishes with. */
  lastStatus?: AttemptStatus;
  outcome?: InvocationOutcome;
  outputs: Readonly<Record<string, string>>;
}

export interface StepState {
  readonly step: StepSpec;
  /** Its invocations' ids, in matrix order. */
  readonly invocations: readonly string[];
  /** Needed steps inside the selection (restored needs are concluded before the run). */
  readonly needs: readonly string[];
  /** Steps waiting for this one. */
  readonly dependents: readonly string[];
  /** The longest path from this step to the end of the pipeline, weighted by expected durations. */
  readonly priority: number;
  /** Its `if:` uses success(), failure(), always() or cancelled(): it decides for itself after a failure. */
  readonly decidesAfterFailure: boolean;
  needsLeft: number;
  remaining: number;
  running: number;
  outputs: Record<string, string>;
  conclusion?: StepConclusion;
}

export interface SchedulerConfig {
  /** At most this many invocations at once (at least 1). */
  readonly maxParallel: number;
  /** After a failure, let independent steps finish. */
  readonly keepGoing: boolean;
  /** Skip the cache look-up (`--no-cache`). */
  readonly noCache: boolean;
  /** First retry delay; doubles each attempt, with jitter. */
  readonly retryBaseDelayMs: number;
  /** Names of the executors this run has. */
  readonly executors: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly ci: CiContext;
  /** Expected step durations, for the priority of ready invocations. */
  readonly durationsMs?: Readonly<Record<string, number>>;
}

export interface SchedulerState {
  readonly plan: Plan;
  readonly config: SchedulerConfig;
  readonly invocations: Map<string, InvocationState>;
  readonly steps: Map<string, StepState>;
  /** Outputs of needs outside the selection, from their last success. */
  readonly restored: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Ids of ready invocations, highest priority first; equal priorities keep plan order. */
  ready: string[];
  running: number;
  done: number;
  /** A failure that counts against the run (not continue-on-error) has happened. */
  failed: boolean;
  /** The invocation whose failure stopped the run (fail-fast). */
  failFastBy?: string;
  cancelRequested: boolean;
  /** Every invocation is done and finish-run has been decided. */
  finished: boolean;
}

export function initialState(plan: Plan, config: SchedulerConfig, restored: ReadonlyMap<string, Readonly<Record<string, string>>> = new Map()): SchedulerState {
  const stepIds = new Set(plan.steps.map((s) => s.id));
  const needsOf = new Map(plan.steps.map((s) => [s.id, [...new Set(s.needs.filter((n) => stepIds.has(n)))]]));
  const dependents = new Map<string, string[]>();
  for (const [id, needs] of needsOf) for (const need of needs) (dependents.get(need) ?? dependents.set(need, []).get(need)!).push(id);
  const priority = bottomLevels(plan, dependents, config.durationsMs);

  const invocationsOf = new Map<string, string[]>();
  const invocations = new Map<string, InvocationState>();
  for (const node of plan.nodes) {
    // one pass, in plan order (filtering the nodes for each step took ~1 ms for 200 steps)
    invocations.set(node.id, { node, phase: 'waiting', attempts: 0, outputs: {} });
    (invocationsOf.get(node.stepId) ?? invocationsOf.set(node.stepId, []).get(node.stepId)!).push(node.id);
  }
  const steps = new Map<string, StepState>();
  for (const step of plan.steps) {
    const needs = needsOf.get(step.id)!;
    const ids = invocationsOf.get(step.id) ?? [];
    steps.set(step.id, {
      step,
      invocations: ids,
      needs,
      dependents: dependents.get(step.id) ?? [],
      priority: priority.get(step.id) ?? 0,
      decidesAfterFailure: decidesAfterFailure(step),
      needsLeft: needs.length,
      remaining: ids.length,
      running: 0,
      outputs: {},
    });
  }
  const state: SchedulerState = { plan, config, invocations, steps, restored, ready: [], running: 0, done: 0, failed: false, cancelRequested: false, finished: false };
  for (const step of steps.values()) if (step.needsLeft === 0) makeReady(state, step);
  return state;
}

/**
 * Priority: the longest path from a step to the end of the pipeline (its "bottom level"), weighted
 * by expected durations when known (1 each otherwise). Steps on the critical path start first.
 */
function bottomLevels(plan: Plan, dependents: ReadonlyMap<string, readonly string[]>, durationsMs: Readonly<Record<string, number>> | undefined): Map<string, number> {
  const priority = new Map<string, number>();
  for (const level of [...plan.levels].reverse()) {
    for (const id of level) {
      let after = 0;
      for (const dependent of dependents.get(id) ?? []) after = Math.max(after, priority.get(dependent) ?? 0);
      priority.set(id, (durationsMs?.[id] ?? 1) + after);
    }
  }
  return priority;
}

function decidesAfterFailure(step: StepSpec): boolean {
  if (step.if === undefined) return false;
  try {
    return conditionUsesStatus(step.if);
  } catch {
    return false; // an `if:` that does not parse is reported when it is evaluated
  }
}

/** Queues a step's invocations by priority (binary search; after equal priorities, so plan order holds). */
export function makeReady(state: SchedulerState, step: StepState): void {
  const priorityOf = (id: string): number => state.steps.get(state.invocations.get(id)!.node.stepId)!.priority;
  let low = 0;
  let high = state.ready.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (priorityOf(state.ready[middle]!) >= step.priority) low = middle + 1;
    else high = middle;
  }
  for (const id of step.invocations) state.invocations.get(id)!.phase = 'ready';
  state.ready.splice(low, 0, ...step.invocations);
}

/** A step's conclusion from its invocations' outcomes. */
export function conclusionOf(outcomes: readonly InvocationOutcome[]): StepConclusion {
  if (outcomes.some((o) => o === 'failure' || o === 'timed-out')) return 'failure';
  if (outcomes.some((o) => o === 'cancelled')) return 'cancelled';
  if (outcomes.length > 0 && outcomes.every((o) => o === 'skipped')) return 'skipped';
  return 'success';
}

// Whether a ready invocation runs or is skipped, and why: the outcomes of the steps it needs,
// fail-fast, cancellation and its `if:` (evaluated with the expressions of config/expressions.ts,
// so success() / failure() / always() / cancelled() mean what they mean in GitHub Actions).
import { evaluateCondition, type ExpressionContext } from '../config/expressions.js';
import type { PlanNode } from '../plan/plan.js';
import type { SchedulerState, StepConclusion } from './state.js';

export type Status = Required<ExpressionContext['status']>;

export type Verdict = { run: true; status: Status; context?: ExpressionContext } | { run: false; reason: string };

/** A needed step's conclusion; one restored from an earlier run counts as a success. */
function needConclusion(state: SchedulerState, stepId: string): StepConclusion {
  if (state.restored.has(stepId)) return 'success';
  return state.steps.get(stepId)?.conclusion ?? 'skipped';
}

/** Succeeded, or failed harmlessly (continue-on-error). */
function concludedOk(state: SchedulerState, stepId: string): boolean {
  const conclusion = needConclusion(state, stepId);
  return conclusion === 'success' || (conclusion === 'failure' && state.steps.get(stepId)!.step.continueOnError);
}

export function statusOf(state: SchedulerState, node: PlanNode): Status {
  const needs = node.step.needs;
  const stopped = state.failFastBy !== undefined;
  const failed = stopped || needs.some((n) => needConclusion(state, n) === 'failure' && !state.steps.get(n)?.step.continueOnError);
  const succeeded = !stopped && !state.cancelRequested && needs.every((n) => concludedOk(state, n));
  return { failed, cancelled: state.cancelRequested, succeeded };
}

/** What `${{ }}` and `if:` see for this invocation: env, matrix values, needed steps' outputs and outcomes. */
export function expressionContext(state: SchedulerState, node: PlanNode, status: Status): ExpressionContext {
  const steps: Record<string, { outputs: Readonly<Record<string, string>>; outcome: string }> = {};
  for (const need of node.step.needs) {
    steps[need] = { outputs: state.restored.get(need) ?? state.steps.get(need)?.outputs ?? {}, outcome: needConclusion(state, need) };
  }
  return { env: state.config.env, matrix: node.matrix ?? {}, steps, ci: state.config.ci, status };
}

/** Whether a ready invocation should run now; otherwise why not. */
export function verdictFor(state: SchedulerState, node: PlanNode): Verdict {
  if (state.cancelRequested) return { run: false, reason: 'the run was cancelled' };
  const status = statusOf(state, node);
  const condition = node.step.if;
  if (condition === undefined) return status.succeeded ? { run: true, status } : { run: false, reason: skipReason(state, node) };
  const context = expressionContext(state, node, status);
  let yes: boolean;
  try {
    yes = evaluateCondition(condition, context);
  } catch (error) {
    return { run: false, reason: `if: could not be evaluated: ${(error as Error).message}` };
  }
  if (yes) return { run: true, status, context };
  if (!status.succeeded && !state.steps.get(node.stepId)!.decidesAfterFailure) return { run: false, reason: skipReason(state, node) };
  return { run: false, reason: `if: ${condition} was false` };
}

function skipReason(state: SchedulerState, node: PlanNode): string {
  const bad = node.step.needs.find((n) => !concludedOk(state, n));
  if (bad) {
    const conclusion = needConclusion(state, bad);
    return `needs ${bad}, which ${conclusion === 'failure' ? 'failed' : conclusion === 'cancelled' ? 'was cancelled' : 'was skipped'}`;
  }
  if (state.failFastBy) return `the run stopped after ${state.failFastBy} failed (fail-fast; --keep-going lets independent steps finish)`;
  return 'not run';
}

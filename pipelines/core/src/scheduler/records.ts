// What the run keeps of each invocation (InvocationRecord, in the RunResult and the reports) and the
// step-end event that announces it, built from what the driver saw while the invocation ran.
import type { InvocationResult, StepLogger, StepInvocation } from '@shipgate/protocol';
import type { PlanNode } from '../plan/plan.js';
import type { InvocationOutcome, RunEvent } from './events.js';
import type { Decision } from './machine.js';

export interface InvocationRecord {
  id: string;
  stepId: string;
  outcome: InvocationOutcome;
  attempts: number;
  startedAt?: string;
  durationMs: number;
  outputs: Record<string, string>;
  error?: { code: string; message: string; hint?: string };
  summaries: string[];
  reason?: string;
}

/** The driver's notes on one started invocation: its I/O, not its scheduling. */
export interface StartedInvocation {
  readonly node: PlanNode;
  /** performance.now() when it started. */
  readonly t0: number;
  readonly startedAt: string;
  readonly logger: StepLogger;
  invocation?: StepInvocation;
  executor?: string;
  /** Where its cache files live, and the key its success is recorded under. */
  cache?: { cwd: string; key?: string; files: number };
  cacheHit?: { outputs: Record<string, string>; reason: string; durationMs: number };
  /** The latest attempt's result. */
  result?: InvocationResult;
  /** For a success: measured when the attempt ended, before its outputs were cached. */
  durationMs?: number;
  controller?: AbortController;
  retryTimer?: NodeJS.Timeout;
}

type Finish = Extract<Decision, { type: 'finish' }>;
type Mask = (outputs: Readonly<Record<string, string>>) => Record<string, string>;

export function skippedRecord(node: PlanNode, reason: string, at: number): { record: InvocationRecord; event: RunEvent } {
  return {
    record: { id: node.id, stepId: node.stepId, outcome: 'skipped', attempts: 0, durationMs: 0, outputs: {}, summaries: [], reason },
    event: { type: 'step-end', id: node.id, stepId: node.stepId, outcome: 'skipped', reason, attempts: 0, durationMs: 0, at },
  };
}

/** The record and step-end event of a finished invocation; outputs in the event are masked (dependents get the real values). */
export function finishedRecord(run: StartedInvocation, finish: Finish, mask: Mask, now: { ms: number; at: number }): { record: InvocationRecord; event: RunEvent } {
  const base = { id: run.node.id, stepId: run.node.stepId, startedAt: run.startedAt };
  const end = { type: 'step-end' as const, id: base.id, stepId: base.stepId, at: now.at };
  if (finish.outcome === 'cached' && run.cacheHit) {
    const { outputs, reason, durationMs } = run.cacheHit;
    return {
      record: { ...base, outcome: 'cached', attempts: 0, durationMs, outputs, summaries: [], reason },
      event: { ...end, outcome: 'cached', reason, attempts: 0, durationMs, result: { status: 'success', outputs, durationMs, summaries: [] } },
    };
  }
  const result = run.result;
  if (finish.outcome === 'success' && result) {
    const durationMs = run.durationMs ?? now.ms - run.t0;
    const outputs = { ...result.outputs };
    return {
      record: { ...base, outcome: 'success', attempts: finish.attempts, durationMs, outputs, summaries: [...result.summaries] },
      event: { ...end, outcome: 'success', attempts: finish.attempts, durationMs, result: { ...result, outputs: mask(outputs) } },
    };
  }
  return unsuccessfulRecord(run, finish, mask, now);
}

function unsuccessfulRecord(run: StartedInvocation, finish: Finish, mask: Mask, now: { ms: number; at: number }): { record: InvocationRecord; event: RunEvent } {
  const { outcome, attempts } = finish;
  const durationMs = now.ms - run.t0;
  const outputs = { ...run.result?.outputs };
  const summaries = [...(run.result?.summaries ?? [])];
  const error = outcome === 'cancelled' ? undefined : (finish.error ?? run.result?.error ?? (outcome === 'timed-out' ? timeoutError(run) : undefined));
  const status = outcome === 'timed-out' || outcome === 'cancelled' ? outcome : 'failure';
  return {
    record: { id: run.node.id, stepId: run.node.stepId, startedAt: run.startedAt, outcome, attempts, durationMs, outputs, summaries, ...(error ? { error } : {}) },
    event: {
      type: 'step-end',
      id: run.node.id,
      stepId: run.node.stepId,
      outcome,
      attempts,
      durationMs,
      at: now.at,
      ...(error ? { reason: error.message } : {}),
      result: { status, outputs: mask(outputs), durationMs, summaries, ...(error ? { error } : {}) },
    },
  };
}

function timeoutError(run: StartedInvocation): InvocationRecord['error'] {
  return { code: 'step.timeout', message: `timed out after ${run.node.step.timeoutMs} ms`, hint: 'raise timeout: or make the step faster' };
}

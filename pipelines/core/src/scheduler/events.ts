// What a run tells the world while it happens. The engine emits these; reporters (TTY view, plain
// CI log, GitHub Actions log, JSON report, JUnit) consume them. Plain data only.
import type { InvocationResult } from '@shipgate/protocol';

/** Final state of one invocation (one matrix instance of one step). */
export type InvocationOutcome =
  | 'success'
  | 'failure'
  | 'cancelled'
  | 'timed-out'
  /** Not run: `if:` was false, a dependency failed, or fail-fast stopped the run. */
  | 'skipped'
  /** Not run: a cache hit restored its outputs. */
  | 'cached';

export type RunEvent =
  | { type: 'run-start'; runId: string; pipeline: string; invocations: readonly string[]; at: number }
  | { type: 'step-start'; id: string; stepId: string; attempt: number; at: number }
  | { type: 'step-log'; id: string; stream: 'stdout' | 'stderr' | 'log'; level?: 'debug' | 'info' | 'warn' | 'error'; line: string; at: number }
  | { type: 'step-retry'; id: string; attempt: number; delayMs: number; reason: string; at: number }
  | {
      type: 'step-end';
      id: string;
      stepId: string;
      outcome: InvocationOutcome;
      /** Why it was skipped / failed, for people. */
      reason?: string;
      result?: InvocationResult;
      attempts: number;
      durationMs: number;
      at: number;
    }
  | { type: 'run-end'; runId: string; outcome: 'success' | 'failure' | 'cancelled'; durationMs: number; at: number };

export type RunEventListener = (event: RunEvent) => void;

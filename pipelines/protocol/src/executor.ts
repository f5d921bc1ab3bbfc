// An executor runs one step invocation, given as plain data, somewhere: in this process (local),
// or on another engine (CodeBuild runs `shipgate step <id> --inputs <json>` in a build). The engine
// only ever talks to this interface, so new engines plug in without touching it.
import type { CiContext, StepLogger } from './step.js';

/** One value of a matrix axis, and one combination of axis values (`{ node: 22, os: linux }`). */
export type MatrixValue = string | number | boolean;
export type MatrixCombination = Readonly<Record<string, MatrixValue>>;

/** One runnable instance of a step: everything resolved, JSON-serialisable. */
export interface StepInvocation {
  /** `build` or `build[target=api]`. */
  readonly id: string;
  /** The key in shipgate.yml. */
  readonly stepId: string;
  /** The step definition's name (`run` for shell steps). */
  readonly uses: string;
  /** Inputs with every `${{ }}` already substituted; validated again by the executor. */
  readonly with: Readonly<Record<string, unknown>>;
  /** Pipeline env + step env, expressions substituted (not the whole process env). */
  readonly env: Readonly<Record<string, string>>;
  /** Relative to the workspace; `.` when not set. */
  readonly workingDirectory: string;
  readonly timeoutMs?: number;
  readonly matrix?: MatrixCombination;
}

export type InvocationStatus = 'success' | 'failure' | 'cancelled' | 'timed-out';

export interface InvocationResult {
  readonly status: InvocationStatus;
  readonly outputs: Readonly<Record<string, string>>;
  /** Set when status is not success. */
  readonly error?: { readonly code: string; readonly message: string; readonly hint?: string };
  readonly durationMs: number;
  /** Markdown the step added with `summary()`. */
  readonly summaries: readonly string[];
}

export interface ExecutionEnvironment {
  /** Absolute directory of shipgate.yml. */
  readonly workspace: string;
  /** Absolute `.shipgate/state`. */
  readonly stateDir: string;
  readonly ci: CiContext;
  readonly signal: AbortSignal;
  readonly logger: StepLogger;
  /** Values to mask in every line; the executor adds those steps declare with setSecret. */
  readonly secrets: Set<string>;
  /** The base environment (default: this process's); the invocation's env is laid over it. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Run id, exported to steps as SHIPGATE_RUN_ID. */
  readonly runId?: string;
  /** Called for every output as it is set (remote executors stream them back). */
  readonly onOutput?: (name: string, value: string) => void;
}

export interface Executor {
  readonly name: string;
  execute(invocation: StepInvocation, environment: ExecutionEnvironment): Promise<InvocationResult>;
}

/**
 * The status of an invocation whose signal aborted: a step that ran out of time is aborted with a
 * TimeoutError (`AbortSignal.timeout`), anything else is a cancel.
 */
export function statusOnAbort(signal: AbortSignal): InvocationStatus {
  return (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError' ? 'timed-out' : 'cancelled';
}

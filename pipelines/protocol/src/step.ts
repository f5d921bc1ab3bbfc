// The step API: every capability of shipgate (run a script, test against a throw-away database,
// wait for a quality gate, push image tags, deploy, ask for an approval) is one StepDefinition.
// The engine, the CLI's `shipgate step`, the GitHub actions and the Jenkins library all call steps
// through this contract only, so a step is written once and every door gets it.
import type { z } from 'zod';

/** Lines a step writes go to the run's reporter (TTY view, CI log, report); secrets are masked. */
export interface StepLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface ExecOptions {
  cwd?: string;
  /** Added to (and overriding) the step's environment. */
  env?: Record<string, string>;
  /** Written to the child's stdin, which is then closed. Without it stdin is closed at once. */
  input?: string;
  /** Kill the process group after this long (SIGTERM, then SIGKILL after the grace period). */
  timeoutMs?: number;
  /** Defaults to the step's own signal. */
  signal?: AbortSignal;
  /** Do not stream output lines to the step log (they are still captured). */
  quiet?: boolean;
}

export interface ExecResult {
  /** null when the process was ended by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** True when the process was killed because of the signal or the timeout. */
  killed: boolean;
}

/**
 * Runs child processes on behalf of a step. Each child is its own process group, so cancelling
 * kills the whole tree (SIGTERM, then SIGKILL after a grace period). Never throws for a non-zero
 * exit: the step decides what an exit code means.
 */
export interface ProcessRunner {
  exec(command: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Runs `script` with `bash -eo pipefail -c` (or `sh -e -c` where bash is missing). */
  shell(script: string, options?: ExecOptions): Promise<ExecResult>;
}

/** What the CI around the run says about the code being built. All optional: local runs have little. */
export interface CiContext {
  provider: 'github' | 'jenkins' | 'codebuild' | 'gitlab' | 'local';
  event?: string;
  branch?: string;
  tag?: string;
  sha?: string;
  defaultBranch?: string;
  pullRequest?: number;
  /** e.g. `acme/orders-service` */
  repository?: string;
  runId?: string;
  actor?: string;
}

export interface StepContext<Inputs> {
  /** The invocation's id, e.g. `build` or `build[target=api]` for a matrix instance. */
  readonly id: string;
  /** The step's key in shipgate.yml, e.g. `build`. */
  readonly stepId: string;
  /** Inputs from `with:`, validated and defaulted by the step's schema. */
  readonly inputs: Inputs;
  /** The full environment the step sees (process env + pipeline env + step env + SHIPGATE_*). */
  readonly env: Readonly<Record<string, string>>;
  /** The step's working directory (absolute). */
  readonly cwd: string;
  /** The directory that holds shipgate.yml (absolute). */
  readonly workspace: string;
  /** Where steps may keep state between runs (absolute, `<workspace>/.shipgate/state`). */
  readonly stateDir: string;
  readonly ci: CiContext;
  readonly logger: StepLogger;
  /** Aborted when the run is cancelled, the step times out, or fail-fast stops the run. */
  readonly signal: AbortSignal;
  readonly process: ProcessRunner;
  /** Sets an output, read later as `${{ steps.<id>.outputs.<name> }}`. */
  setOutput(name: string, value: string): void;
  /** Masks a value in every log line, report and summary from now on. */
  setSecret(value: string): void;
  /** Adds Markdown to the run summary (GitHub job summary, JSON report). */
  summary(markdown: string): void;
}

export interface StepDefinition<Schema extends z.ZodType = z.ZodType> {
  /** What `uses:` names, e.g. `db-test`. Lower-case words joined by `-`. */
  readonly name: string;
  /** One line for `shipgate steps` and the JSON Schema. */
  readonly description: string;
  /** The `with:` inputs. Its parse errors become file:line:col config errors. */
  readonly inputs: Schema;
  /** Outputs the step sets, name → description (documentation and export). */
  readonly outputs?: Readonly<Record<string, string>>;
  /** Throw (preferably a ShipgateError) to fail the step. */
  run(context: StepContext<z.output<Schema>>): Promise<void>;
}

const stepNamePattern = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Declares a step. Typed end to end: `run` receives exactly what `inputs` parses to. */
export function defineStep<Schema extends z.ZodType>(definition: StepDefinition<Schema>): StepDefinition<Schema> {
  if (!stepNamePattern.test(definition.name)) {
    throw new Error(`step name "${definition.name}" must be lower-case words joined by "-"`);
  }
  return definition;
}

// How every CLI command reaches a step: one function. `shipgate deploy`, `rollback`, `codepipeline`,
// `image …`, `gate` and `shipgate step` each turn their flags into a step invocation and call
// runStepCommand, which runs it with the local executor as a pipeline run would (the CI context
// resolved, secrets from the environment masked in every line, the step's log lines on stdout),
// lets the command print its own result, reports a failure in one line, and gives the documented
// exit code. Commands differ only in their flags, their rendering and their error-code table.
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { ExitCode } from '@shipgate/protocol';
import type { CliIO, InvocationResult, StepInvocation, StepLogger, StepRegistry } from '@shipgate/protocol';
import { LocalExecutor, resolveCiContext, secretsFromEnv } from '@shipgate/core';

/** The exit code a step's error code stands for, when the step documents one (undefined: the default). */
export type ErrorExitCodes = (errorCode: string) => number | undefined;

export interface StepCommandOptions {
  /** The directory the step works in: `-C`, or the pipeline's root for `shipgate step`. */
  workspace: string;
  /** Drop the step's log lines (the command prints its own result: `--json`, `image …`). */
  quiet?: boolean;
  /** Also hand every log line here (`shipgate step --report-dir` keeps them in its report). */
  onLog?: (line: string) => void;
  /** The step's own error codes → exit codes (see "Exit codes" in the README). */
  exitCodes?: ErrorExitCodes;
  /** Append the step's summaries to $GITHUB_STEP_SUMMARY (default true; `shipgate step` writes its report's). */
  jobSummary?: boolean;
  /** Prints the result (JSON, the outputs line, a one-line outcome); runs before the error line. */
  render?: (result: InvocationResult, secrets: ReadonlySet<string>) => void | Promise<void>;
}

export interface StepCommandResult {
  invocation: StepInvocation;
  result: InvocationResult;
  exitCode: number;
}

/** The invocation a command runs: one step by its `uses:` name with these `with:` inputs. */
export function commandInvocation(uses: string, inputs: Record<string, unknown>): StepInvocation {
  return { id: uses, stepId: uses, uses, with: inputs, env: {}, workingDirectory: '.' };
}

/** The documented exit code for a step's outcome: 0, 130 cancelled, the step's table, else 2 for bad inputs and 1. */
export function stepExitCode(result: Pick<InvocationResult, 'status' | 'error'>, exitCodes: ErrorExitCodes = () => undefined): number {
  if (result.status === 'success') return ExitCode.ok;
  if (result.status === 'cancelled') return ExitCode.interrupted;
  const code = result.error?.code ?? '';
  return exitCodes(code) ?? (code === 'step.inputs' ? ExitCode.usage : ExitCode.failed);
}

/** `shipgate: <invocation> <status>: message [code]` and the hint: how every command reports a failed step. */
export function failureReport(invocation: Pick<StepInvocation, 'id'>, result: Pick<InvocationResult, 'status' | 'error'>): string | undefined {
  if (!result.error) return undefined;
  const { message, code, hint } = result.error;
  return `shipgate: ${invocation.id} ${result.status}: ${message} [${code}]${hint ? `\n  hint: ${hint}` : ''}\n`;
}

function commandLogger(io: CliIO, options: StepCommandOptions): StepLogger {
  const write = (line: string) => {
    options.onLog?.(line);
    if (!options.quiet) io.stdout.write(`${line}\n`);
  };
  return { debug: () => {}, info: write, warn: (l) => write(`warning: ${l}`), error: (l) => write(`error: ${l}`) };
}

/** Runs one invocation for a command; ends when the step does, or when `io.signal` or the invocation's timeout stops it. */
export async function runStepCommand(io: CliIO, registry: StepRegistry, invocation: StepInvocation, options: StepCommandOptions): Promise<StepCommandResult> {
  const { workspace } = options;
  const secrets = new Set(secretsFromEnv(io.env));
  const signal = invocation.timeoutMs ? AbortSignal.any([io.signal, AbortSignal.timeout(invocation.timeoutMs)]) : io.signal;
  const result = await new LocalExecutor(registry).execute(invocation, {
    workspace,
    stateDir: path.join(workspace, '.shipgate', 'state'),
    ci: await resolveCiContext(workspace, io.env),
    signal,
    logger: commandLogger(io, options),
    secrets,
    env: io.env,
  });
  if ((options.jobSummary ?? true) && io.env.GITHUB_STEP_SUMMARY && result.summaries.length > 0) await appendFile(io.env.GITHUB_STEP_SUMMARY, `${result.summaries.join('\n\n')}\n`);
  await options.render?.(result, secrets);
  const failure = failureReport(invocation, result);
  if (failure) io.stderr.write(failure);
  return { invocation, result, exitCode: stepExitCode(result, options.exitCodes) };
}

// Reading a CodeBuild build back: its status as a step outcome (SUCCEEDED / FAILED / FAULT /
// TIMED_OUT / STOPPED), the failed phase as a message people can act on, and the lines that
// `shipgate step` printed in its log (the outputs marker, its one-line error), and the results the
// executor hands back when no build outcome is there to read (a refused request, a cancel). Pure,
// table-tested.
import { errorMessage, isShipgateError, statusOnAbort } from '@shipgate/protocol';
import type { InvocationResult, InvocationStatus } from '@shipgate/protocol';

/** The fields of a CodeBuild `Build` this executor reads (BatchGetBuilds `builds[]`). */
export interface BuildLike {
  id?: string | undefined;
  buildStatus?: string | undefined;
  buildComplete?: boolean | undefined;
  currentPhase?: string | undefined;
  timeoutInMinutes?: number | undefined;
  initiator?: string | undefined;
  phases?: ReadonlyArray<{ phaseType?: string | undefined; phaseStatus?: string | undefined; contexts?: ReadonlyArray<{ statusCode?: string | undefined; message?: string | undefined }> | undefined }> | undefined;
  logs?: { groupName?: string | undefined; streamName?: string | undefined; deepLink?: string | undefined } | undefined;
}

export type BuildOutcome = { done: false } | { done: true; status: InvocationStatus; error?: NonNullable<InvocationResult['error']> };

function failedPhase(build: BuildLike): string {
  const phase = build.phases?.find((p) => p.phaseStatus && p.phaseStatus !== 'SUCCEEDED' && p.phaseStatus !== 'IN_PROGRESS');
  if (!phase) return build.currentPhase ? ` in phase ${build.currentPhase}` : '';
  const context = phase.contexts?.find((c) => c.message || c.statusCode);
  const why = context ? `: ${[context.statusCode, context.message].filter(Boolean).join(': ')}` : '';
  return ` in phase ${phase.phaseType ?? '?'}${why}`;
}

/**
 * A build's status as the step's outcome. `stoppedByShipgate` tells a STOPPED build that shipgate
 * stopped (cancel, fail-fast, time-out: the caller's signal says which) from one stopped by hand.
 */
export function buildOutcome(build: BuildLike, stoppedByShipgate: boolean): BuildOutcome {
  const id = build.id ?? 'the build';
  switch (build.buildStatus) {
    case 'SUCCEEDED':
      return { done: true, status: 'success' };
    case 'FAILED':
      return { done: true, status: 'failure', error: { code: 'codebuild.failed', message: `CodeBuild build ${id} failed${failedPhase(build)}`, hint: "the build's log above shows the failing command" } };
    case 'FAULT':
      return {
        done: true,
        status: 'failure',
        error: { code: 'codebuild.fault', message: `CodeBuild could not run build ${id}${failedPhase(build)}`, hint: "a problem on CodeBuild's side (source download, image pull, service role, VPC): see the build's phases in the console" },
      };
    case 'TIMED_OUT':
      return {
        done: true,
        status: 'timed-out',
        error: { code: 'codebuild.timed-out', message: `CodeBuild build ${id} hit the project's time-out${build.timeoutInMinutes ? ` of ${build.timeoutInMinutes} min` : ''}`, hint: "give the step a timeout: (shipgate stops the build itself then), or raise the project's time-out" },
      };
    case 'STOPPED':
      if (stoppedByShipgate) return { done: true, status: 'cancelled' };
      return {
        done: true,
        status: 'failure',
        error: { code: 'codebuild.stopped', message: `CodeBuild build ${id} was stopped outside shipgate${build.initiator ? ` (initiator ${build.initiator})` : ''}`, hint: 'run the step again' },
      };
    default:
      return { done: false };
  }
}

// `shipgate step` ends a failure with `shipgate: <id> <status>: <message> [<code>]` and `  hint: …`
const errorLine = /^shipgate: (\S.*?) (failure|timed-out|cancelled): (.*) \[([\w.-]+)\]\s*$/;

/** The step's own error, as `shipgate step` printed it in the build log. */
export function stepErrorFromLog(lines: readonly string[]): NonNullable<InvocationResult['error']> | undefined {
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const m = errorLine.exec(lines[i]!);
    if (!m) continue;
    const hint = /^\s+hint: (.*)$/.exec(lines[i + 1] ?? '')?.[1];
    return { code: m[4]!, message: m[3]!, ...(hint ? { hint } : {}) };
  }
  return undefined;
}

/**
 * What to print of a build log line: CodeBuild's `[Container]` echo of our own command carries the
 * whole invocation, which is noise (and long); the outputs marker is data, not output.
 */
export function displayLine(line: string, invocationData: readonly string[], marker: string): string | undefined {
  if (line.includes(marker)) return undefined;
  let shown = line;
  for (const data of invocationData) if (data.length > 16 && shown.includes(data)) shown = shown.split(data).join('<invocation>');
  return shown;
}

type InvocationError = NonNullable<InvocationResult['error']>;

/** The result of an invocation whose signal aborted, `durationMs` after it started. */
export function abortedResult(signal: AbortSignal, durationMs: number): InvocationResult {
  return { status: statusOnAbort(signal), outputs: {}, durationMs, summaries: [] };
}

/** A failed invocation that started at `started` (a `performance.now()` reading). */
export function failure(started: number, error: InvocationError): InvocationResult {
  return { status: 'failure', outputs: {}, durationMs: performance.now() - started, summaries: [], error };
}

/** Any thrown value as an invocation error: a ShipgateError keeps its code and hint. */
export function asError(error: unknown): InvocationError {
  if (isShipgateError(error)) return { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  return { code: 'executor.codebuild', message: errorMessage(error) };
}

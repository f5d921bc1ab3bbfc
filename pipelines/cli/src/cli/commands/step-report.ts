// The run report of one `shipgate step --report-dir`: report.json, report.html, junit.xml and
// logs/ of that one invocation, as `shipgate run` writes them for a whole run.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { CliIO, InvocationResult, StepInvocation } from '@shipgate/protocol';
import type { RunEvent } from '@shipgate/core';
import { appendMarkdownSummary, LogFileWriter, RunReportBuilder, writeRunReports } from '@shipgate/core';

/**
 * The run report of one `shipgate step`: the same report.json / report.html / junit.xml / logs/
 * `shipgate run --report-dir` writes, fed with the events a run of that one invocation would emit,
 * so the jobs of an exported workflow each leave a report that `shipgate report` merges.
 */
export class OneInvocationReport {
  readonly #builder: RunReportBuilder;
  readonly #logs: LogFileWriter;
  readonly #runId = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`;
  #startedAt = Date.now();

  constructor(
    readonly reportDir: string,
    readonly invocation: StepInvocation,
    readonly pipeline: string | undefined,
    needs: readonly string[],
  ) {
    this.#logs = new LogFileWriter(reportDir);
    this.#builder = new RunReportBuilder({ needs: { [invocation.stepId]: [...needs] }, maxParallel: 1, logFileOf: this.#logs.fileOf });
  }

  #emit(event: RunEvent): void {
    this.#builder.onEvent(event);
    this.#logs.onEvent(event);
  }

  start(): void {
    this.#startedAt = Date.now();
    this.#emit({ type: 'run-start', runId: this.#runId, pipeline: this.pipeline ?? this.invocation.stepId, invocations: [this.invocation.id], at: this.#startedAt });
    this.#emit({ type: 'step-start', id: this.invocation.id, stepId: this.invocation.stepId, attempt: 1, at: this.#startedAt });
  }

  log(line: string): void {
    this.#emit({ type: 'step-log', id: this.invocation.id, stream: 'log', line, at: Date.now() });
  }

  /** Writes the files; a report that cannot be written warns and leaves the step's outcome as it is. */
  async finish(result: InvocationResult, workspace: string, io: CliIO): Promise<void> {
    const at = Date.now();
    this.#emit({ type: 'step-end', id: this.invocation.id, stepId: this.invocation.stepId, outcome: result.status, result, attempts: 1, durationMs: at - this.#startedAt, at });
    this.#emit({ type: 'run-end', runId: this.#runId, outcome: result.status === 'success' ? 'success' : result.status === 'cancelled' ? 'cancelled' : 'failure', durationMs: at - this.#startedAt, at });
    const logError = await this.#logs.close();
    if (logError) io.stderr.write(`shipgate: could not write the step log: ${logError.message}\n`);
    const written = await writeRunReports(path.join(workspace, '.shipgate'), this.#builder.report, { reportDir: this.reportDir }).catch((error: NodeJS.ErrnoException) => {
      io.stderr.write(`shipgate: warning: could not write the run report (${error.code ?? error.message}) [report.write]\n  hint: check that the report directory is writable, or choose another with --report-dir\n`);
      return undefined;
    });
    if (!written) return;
    io.stderr.write(`report: ${path.relative(io.cwd, written.json)}, ${path.relative(io.cwd, written.junit)}, ${path.relative(io.cwd, written.html)}\n`);
    // the job summary GitHub shows: the same outcome table as `shipgate run` writes
    if (io.env.GITHUB_STEP_SUMMARY) {
      const htmlReport = path.relative(io.env.GITHUB_WORKSPACE ?? io.cwd, written.html) || written.html;
      await appendMarkdownSummary(io.env.GITHUB_STEP_SUMMARY, this.#builder.report, { htmlReport }).catch((error: Error) => io.stderr.write(`shipgate: could not write the job summary: ${error.message}\n`));
    }
  }
}

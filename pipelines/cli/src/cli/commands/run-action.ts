// What `shipgate run` does (run.ts registers the command): the whole pipeline through the scheduler,
// with a live reporter, the step logs, and the run report (report.json, junit.xml, report.html, the
// GitHub job summary) at the end. Imported when the command runs, so the other pipeline commands
// (validate, plan) never load the scheduler, the reporters or the AWS executors.
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { planPipeline, resolveCiContext, runPipeline, secretsFromEnv } from '@shipgate/core';
import { appendMarkdownSummary, chooseReporterKind, colourlessEnv, createReporter, lastRunDurations, LogFileWriter, RunReportBuilder, writeRunReports, type ReporterKind } from '@shipgate/core';
import type { Plan, PipelineSpec } from '@shipgate/core';
import type { CliIO, StepRegistry } from '@shipgate/protocol';
import { createExecutors } from '../executors.js';
import { loadCommandPipeline } from '../pipeline-file.js';

export interface RunFlags {
  only?: string[];
  from?: string;
  maxParallel?: number;
  keepGoing?: boolean;
  dryRun?: boolean;
  cache: boolean;
  reporter?: ReporterKind;
  verbose?: boolean;
  reportDir?: string;
}

/** What a run leaves for people: the step logs as it goes, the run report when it ends. */
interface RunRecords {
  logs: LogFileWriter;
  report: RunReportBuilder;
  reportDir: string;
}

/** A path as messages show it: relative to where the user is when it is below, else whole. */
function shownPath(cwd: string, file: string): string {
  const relative = path.relative(cwd, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/** Writes report.json / junit.xml / report.html and the GitHub job summary; a write that fails warns, the run's outcome stands. */
async function writeReports(io: CliIO, opts: RunFlags, stateDir: string, records: RunRecords): Promise<void> {
  // the run's outcome stands when its report cannot be written (a read-only or full disk)
  const written = await writeRunReports(stateDir, records.report.report, opts.reportDir ? { reportDir: records.reportDir } : {}).catch((error: NodeJS.ErrnoException) => {
    io.stderr.write(`shipgate: warning: could not write the run report (${error.code ?? error.message}${error.path ? `: ${shownPath(io.cwd, error.path)}` : ''}) [report.write]\n  hint: check that the report directory is writable, or choose another with --report-dir\n`);
    return undefined;
  });
  if (written) io.stderr.write(`report: ${path.relative(io.cwd, written.json)}, ${path.relative(io.cwd, written.junit)}, ${path.relative(io.cwd, written.html)}\n`);
  const summaryFile = io.env.GITHUB_STEP_SUMMARY;
  if (summaryFile) {
    const htmlReport = written ? path.relative(io.env.GITHUB_WORKSPACE ?? io.cwd, written.html) || written.html : undefined;
    await appendMarkdownSummary(summaryFile, records.report.report, htmlReport ? { htmlReport } : {}).catch((error: Error) => io.stderr.write(`shipgate: could not write the job summary: ${error.message}\n`));
  }
}

/** Runs the plan with the reporter and the records listening; returns the run's exit code. */
async function runPlan(io: CliIO, registry: StepRegistry, spec: PipelineSpec, plan: Plan, opts: RunFlags, records: RunRecords): Promise<number> {
  const stateDir = path.join(spec.root, '.shipgate');
  const kind = opts.reporter ?? chooseReporterKind(io.env, io.isTTY);
  const reporter = await createReporter(kind, { stream: io.stdout, color: kind === 'tty' && !io.env.NO_COLOR, verbose: Boolean(opts.verbose) });
  // logs (plain, github) get no colour codes from the steps' tools either
  const stepEnv = kind === 'tty' ? { ...io.env } : colourlessEnv(io.env);
  try {
    const result = await runPipeline(plan, {
      registry,
      executors: createExecutors(registry, spec, io),
      ...(opts.maxParallel ? { maxParallel: opts.maxParallel } : {}),
      keepGoing: Boolean(opts.keepGoing),
      noCache: !opts.cache,
      dryRun: Boolean(opts.dryRun),
      signal: io.signal,
      onEvent: (event) => {
        records.report.onEvent(event);
        reporter.onEvent(event);
        if (!opts.dryRun) records.logs.onEvent(event);
      },
      ci: await resolveCiContext(spec.root, io.env),
      env: stepEnv as Record<string, string>,
      secrets: secretsFromEnv(io.env),
      stateDir,
      durationsMs: await lastRunDurations(stateDir),
    });
    return result.exitCode;
  } finally {
    reporter.close();
    const logError = await records.logs.close();
    if (logError && !opts.dryRun) io.stderr.write(`shipgate: could not write the step logs: ${logError.message}\n`);
  }
}

export async function runCommand(io: CliIO, registry: StepRegistry, opts: RunFlags, command: Command): Promise<number> {
  const spec = await loadCommandPipeline(command, io, registry);
  const plan = planPipeline(spec, { ...(opts.only ? { only: opts.only } : {}), ...(opts.from ? { from: opts.from } : {}) });
  const stateDir = path.join(spec.root, '.shipgate');
  const maxParallel = Math.max(1, opts.maxParallel ?? os.availableParallelism());
  const reportDir = opts.reportDir ? path.resolve(io.cwd, opts.reportDir) : stateDir;
  const logs = new LogFileWriter(reportDir);
  const needs = Object.fromEntries(plan.steps.map((s) => [s.id, [...s.needs]]));
  const records: RunRecords = { logs, report: new RunReportBuilder({ needs, maxParallel, logFileOf: logs.fileOf }), reportDir };
  const exitCode = await runPlan(io, registry, spec, plan, opts, records);
  if (!opts.dryRun) await writeReports(io, opts, stateDir, records);
  return exitCode;
}


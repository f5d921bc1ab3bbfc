// The pipeline commands: validate, plan, run, steps, schema. Each one loads shipgate.yml through the
// config module, plans with the engine, and renders — no decision is made here.
import os from 'node:os';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { findPipelineFile, loadPipeline, pipelineJsonSchema } from '@shipgate/core';
import { criticalPath, planPipeline, type Plan } from '@shipgate/core';
import { runPipeline } from '@shipgate/core';
import { secretsFromEnv } from '@shipgate/core';
import { resolveCiContext } from '@shipgate/core';
import type { StepRegistry } from '@shipgate/protocol';
import { appendMarkdownSummary, chooseReporterKind, colourlessEnv, createReporter, formatDuration, lastRunDurations, RunReportBuilder, writeRunReports, type ReporterKind } from '@shipgate/core';
import { LogFileWriter } from '@shipgate/core';
import { planFormats, renderPlanDot, renderPlanMermaid, type PlanFormat, type PlanGraph } from '@shipgate/core';
import type { PipelineSpec } from '@shipgate/core';
import type { CommandRegistrar } from '@shipgate/protocol';
import type { CliIO } from '@shipgate/protocol';
import { listOption, nonEmpty, pipelineLocation, positiveInt } from '../options.js';
import { createExecutors } from '../executors.js';

async function load(command: Command, io: CliIO, registry: StepRegistry): Promise<PipelineSpec> {
  const { directory, file } = pipelineLocation(command, io);
  const found = findPipelineFile(directory, file);
  return loadPipeline(found, { registry, displayFile: path.relative(io.cwd, found) || found, onWarning: (w) => io.stderr.write(`${w.format().replace(/^(\S+:\d+:\d+: )/, '$1warning: ')}\n`) });
}

/** Plain data for `shipgate plan --json`: what the Jenkins library and exporters read. */
export function planSummary(plan: Plan, durations: Record<string, number>): PlanGraph {
  const estimated = Object.keys(durations).length > 0;
  const path = criticalPath(plan, estimated ? durations : Object.fromEntries(plan.pipeline.steps.map((s) => [s.id, 1])));
  const steps: PlanGraph['steps'] = {};
  for (const step of plan.pipeline.steps) {
    const invocations = plan.nodes.filter((n) => n.stepId === step.id).map((n) => n.id);
    if (invocations.length === 0) continue;
    steps[step.id] = {
      needs: [...step.needs],
      uses: step.uses,
      matrix: step.matrix !== undefined,
      invocations,
      executor: step.executor ?? plan.pipeline.executor ?? 'local',
    };
  }
  return {
    pipeline: plan.pipeline.name,
    file: plan.pipeline.file,
    levels: plan.levels.map((level) => [...level]),
    steps,
    criticalPath: { path: path.path, totalMs: estimated ? path.totalMs : undefined, estimatedFrom: estimated ? 'last run' : 'step count' },
  };
}

export const registerPipelineCommands: CommandRegistrar = (program, io, setExitCode, steps) => {
  program
    .command('validate')
    .description('check shipgate.yml: keys, needs, cycles, matrices, expressions and step inputs')
    .addHelpText('after', '\nExamples:\n  shipgate validate\n  shipgate -C services/orders validate\n\nExit codes: 0 valid, 2 invalid (each problem printed as file:line:col).')
    .action(async (_opts: unknown, command: Command) => {
      const registry = steps;
      const spec = await load(command, io, registry);
      const plan = planPipeline(spec);
      io.stdout.write(`${path.relative(io.cwd, spec.file) || spec.file}: ok — ${spec.steps.length} steps, ${plan.nodes.length} invocations, ${plan.levels.length} levels\n`);
      setExitCode(0);
    });

  program
    .command('plan')
    .description('show what would run: levels of steps that run together, and the critical path')
    .addOption(new Option('--format <format>', 'text for people; json for tools (the Jenkins library reads it); mermaid or dot (Graphviz) for a picture').choices([...planFormats]).default('text'))
    .option('--json', 'the same as --format json')
    .option('--only <steps>', 'plan only these steps (comma-separated)', listOption)
    .option('--from <step>', 'plan this step and everything after it', nonEmpty('--from'))
    .addHelpText('after', '\nExamples:\n  shipgate plan\n  shipgate plan --json --from unit\n  shipgate plan --format mermaid > plan.mmd\n  shipgate plan --format dot | dot -Tsvg > plan.svg')
    .action(async (opts: { format: PlanFormat; json?: boolean; only?: string[]; from?: string }, command: Command) => {
      const registry = steps;
      const spec = await load(command, io, registry);
      const plan = planPipeline(spec, { ...(opts.only ? { only: opts.only } : {}), ...(opts.from ? { from: opts.from } : {}) });
      const summary = planSummary(plan, await lastRunDurations(path.join(spec.root, '.shipgate')));
      const format = opts.json ? 'json' : opts.format;
      if (format === 'json') {
        io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        return;
      }
      if (format === 'mermaid' || format === 'dot') {
        io.stdout.write(format === 'mermaid' ? renderPlanMermaid(summary) : renderPlanDot(summary));
        return;
      }
      const lines = [`${summary.pipeline}: ${Object.keys(summary.steps).length} steps, ${plan.nodes.length} invocations, ${summary.levels.length} levels`];
      summary.levels.forEach((level, i) => {
        const names = level.map((id) => {
          const n = summary.steps[id]?.invocations.length ?? 1;
          return n > 1 ? `${id} ×${n}` : id;
        });
        lines.push(`  level ${i + 1}  ${names.join(', ')}`);
      });
      const cp = summary.criticalPath;
      const took = cp.totalMs === undefined ? '' : `  ${formatDuration(cp.totalMs)}`;
      lines.push(`critical path (by ${cp.estimatedFrom}): ${cp.path.join(' → ')}${took}`);
      io.stdout.write(`${lines.join('\n')}\n`);
    });

  program
    .command('run')
    .description('run the pipeline: every ready step at once, fail-fast, cached')
    .option('--only <steps>', 'run only these steps (comma-separated); their upstream outputs come from the cache', listOption)
    .option('--from <step>', 'run this step and everything after it', nonEmpty('--from'))
    .option('-j, --max-parallel <n>', 'at most this many steps at once (default: CPU count)', positiveInt('--max-parallel'))
    .option('-k, --keep-going', 'after a failure, let independent steps finish (dependents are still skipped)')
    .option('-n, --dry-run', 'show what would run, run nothing')
    .option('--no-cache', 'run every step even when its inputs are unchanged')
    .addOption(new Option('--reporter <kind>', 'output style (default: tty on a terminal, github under GitHub Actions, else plain)').choices(['tty', 'plain', 'github']))
    .option('-v, --verbose', 'show debug lines')
    .option('--report-dir <dir>', 'write report.html, report.json, junit.xml and logs/ here instead of .shipgate/ (runs side by side in one workspace each keep their own)')
    .addHelpText(
      'after',
      '\nExamples:\n  shipgate run\n  shipgate run --only unit,lint --no-cache\n  shipgate -C examples/orders-service run -j 2 --keep-going\n  shipgate run --only lint --report-dir .shipgate/jenkins/lint\n\n' +
        'Writes .shipgate/report.html, report.json, junit.xml and logs/ next to shipgate.yml (or in --report-dir).\n' +
        'Exit codes: 0 success, 1 a step failed, 2 invalid config or flags, 130 interrupted (Ctrl-C).',
    )
    .action(
      async (
        opts: { only?: string[]; from?: string; maxParallel?: number; keepGoing?: boolean; dryRun?: boolean; cache: boolean; reporter?: ReporterKind; verbose?: boolean; reportDir?: string },
        command: Command,
      ) => {
        const registry = steps;
        const spec = await load(command, io, registry);
        const plan = planPipeline(spec, { ...(opts.only ? { only: opts.only } : {}), ...(opts.from ? { from: opts.from } : {}) });
        const stateDir = path.join(spec.root, '.shipgate');
        const ci = await resolveCiContext(spec.root, io.env);
        const kind = opts.reporter ?? chooseReporterKind(io.env, io.isTTY);
        const reporter = await createReporter(kind, { stream: io.stdout, color: kind === 'tty' && !io.env.NO_COLOR, verbose: Boolean(opts.verbose) });
        // logs (plain, github) get no colour codes from the steps' tools either
        const stepEnv = kind === 'tty' ? { ...io.env } : colourlessEnv(io.env);
        const maxParallel = Math.max(1, opts.maxParallel ?? os.availableParallelism());
        const reportDir = opts.reportDir ? path.resolve(io.cwd, opts.reportDir) : stateDir;
        const logs = new LogFileWriter(reportDir);
        const needs = Object.fromEntries(plan.steps.map((s) => [s.id, [...s.needs]]));
        const report = new RunReportBuilder({ needs, maxParallel, logFileOf: logs.fileOf });
        let result;
        try {
          result = await runPipeline(plan, {
            registry,
            executors: createExecutors(registry, spec, io),
            ...(opts.maxParallel ? { maxParallel: opts.maxParallel } : {}),
            keepGoing: Boolean(opts.keepGoing),
            noCache: !opts.cache,
            dryRun: Boolean(opts.dryRun),
            signal: io.signal,
            onEvent: (event) => {
              report.onEvent(event);
              reporter.onEvent(event);
              if (!opts.dryRun) logs.onEvent(event);
            },
            ci,
            env: stepEnv as Record<string, string>,
            secrets: secretsFromEnv(io.env),
            stateDir,
            durationsMs: await lastRunDurations(stateDir),
          });
        } finally {
          reporter.close();
          const logError = await logs.close();
          if (logError && !opts.dryRun) io.stderr.write(`shipgate: could not write the step logs: ${logError.message}\n`);
        }
        if (!opts.dryRun) {
          // the run's outcome stands when its report cannot be written (a read-only or full disk)
          const written = await writeRunReports(stateDir, report.report, opts.reportDir ? { reportDir } : {}).catch((error: NodeJS.ErrnoException) => {
            io.stderr.write(`shipgate: warning: could not write the run report (${error.code ?? error.message}${error.path ? `: ${path.relative(io.cwd, error.path) || error.path}` : ''}) [report.write]\n  hint: check that the report directory is writable, or choose another with --report-dir\n`);
            return undefined;
          });
          if (written) io.stderr.write(`report: ${path.relative(io.cwd, written.json)}, ${path.relative(io.cwd, written.junit)}, ${path.relative(io.cwd, written.html)}\n`);
          const summaryFile = io.env.GITHUB_STEP_SUMMARY;
          if (summaryFile) {
            const htmlReport = written ? path.relative(io.env.GITHUB_WORKSPACE ?? io.cwd, written.html) || written.html : undefined;
            await appendMarkdownSummary(summaryFile, report.report, htmlReport ? { htmlReport } : {}).catch((error: Error) => io.stderr.write(`shipgate: could not write the job summary: ${error.message}\n`));
          }
        }
        setExitCode(result.exitCode);
      },
    );

  program
    .command('steps')
    .description('list the steps `uses:` can name, with their inputs')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }) => {
      const registry = steps;
      const rows = registry.list().map((step) => ({ name: step.name, description: step.description, outputs: Object.keys(step.outputs ?? {}) }));
      if (opts.json) {
        io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const width = Math.max(...rows.map((r) => r.name.length));
      for (const row of rows) io.stdout.write(`${row.name.padEnd(width)}  ${row.description}\n`);
    });

  program
    .command('schema')
    .description('print the JSON Schema of shipgate.yml (for editors: yaml-language-server, VS Code)')
    .action(() => {
      io.stdout.write(`${JSON.stringify(pipelineJsonSchema(steps), null, 2)}\n`);
    });
};

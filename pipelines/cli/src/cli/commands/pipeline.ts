// The pipeline commands: validate, plan, run (in run.ts), steps, schema. Each one loads
// shipgate.yml through the config module, plans with the engine, and renders — no decision is
// made here.
import path from 'node:path';
import { Option, type Command } from 'commander';
import { pipelineJsonSchema } from '@shipgate/core';
import { criticalPath, planPipeline, type Plan } from '@shipgate/core';
import { formatDuration, lastRunDurations } from '@shipgate/core';
import { planFormats, renderPlanDot, renderPlanMermaid, type PlanFormat, type PlanGraph } from '@shipgate/core';
import type { CliIO, CommandRegistrar, StepRegistry } from '@shipgate/protocol';
import { listOption, nonEmpty } from '../options.js';
import { loadCommandPipeline } from '../pipeline-file.js';
import { registerRunCommand } from './run.js';

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

/** `shipgate plan` as text: one line per level, then the critical path. */
export function planText(summary: PlanGraph, invocations: number): string {
  const lines = [`${summary.pipeline}: ${Object.keys(summary.steps).length} steps, ${invocations} invocations, ${summary.levels.length} levels`];
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
  return `${lines.join('\n')}\n`;
}

interface PlanFlags {
  format: PlanFormat;
  json?: boolean;
  only?: string[];
  from?: string;
}

async function showPlan(io: CliIO, registry: StepRegistry, opts: PlanFlags, command: Command): Promise<void> {
  const spec = await loadCommandPipeline(command, io, registry);
  const plan = planPipeline(spec, { ...(opts.only ? { only: opts.only } : {}), ...(opts.from ? { from: opts.from } : {}) });
  const summary = planSummary(plan, await lastRunDurations(path.join(spec.root, '.shipgate')));
  const format = opts.json ? 'json' : opts.format;
  if (format === 'json') io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else if (format === 'mermaid') io.stdout.write(renderPlanMermaid(summary));
  else if (format === 'dot') io.stdout.write(renderPlanDot(summary));
  else io.stdout.write(planText(summary, plan.nodes.length));
}

const registerValidate: CommandRegistrar = (program, io, setExitCode, steps) => {
  program
    .command('validate')
    .description('check shipgate.yml: keys, needs, cycles, matrices, expressions and step inputs')
    .addHelpText('after', '\nExamples:\n  shipgate validate\n  shipgate -C services/orders validate\n\nExit codes: 0 valid, 2 invalid (each problem printed as file:line:col).')
    .action(async (_opts: unknown, command: Command) => {
      const spec = await loadCommandPipeline(command, io, steps);
      const plan = planPipeline(spec);
      io.stdout.write(`${path.relative(io.cwd, spec.file) || spec.file}: ok — ${spec.steps.length} steps, ${plan.nodes.length} invocations, ${plan.levels.length} levels\n`);
      setExitCode(0);
    });
};

const registerPlan: CommandRegistrar = (program, io, _setExitCode, steps) => {
  program
    .command('plan')
    .description('show what would run: levels of steps that run together, and the critical path')
    .addOption(new Option('--format <format>', 'text for people; json for tools (the Jenkins library reads it); mermaid or dot (Graphviz) for a picture').choices([...planFormats]).default('text'))
    .option('--json', 'the same as --format json')
    .option('--only <steps>', 'plan only these steps (comma-separated)', listOption)
    .option('--from <step>', 'plan this step and everything after it', nonEmpty('--from'))
    .addHelpText('after', '\nExamples:\n  shipgate plan\n  shipgate plan --json --from unit\n  shipgate plan --format mermaid > plan.mmd\n  shipgate plan --format dot | dot -Tsvg > plan.svg')
    .action(async (opts: PlanFlags, command: Command) => showPlan(io, steps, opts, command));
};

const registerSteps: CommandRegistrar = (program, io, _setExitCode, steps) => {
  program
    .command('steps')
    .description('list the steps `uses:` can name, with their inputs')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      await steps.ready(); // plugins' deferred steps too
      const rows = steps.list().map((step) => ({ name: step.name, description: step.description, outputs: Object.keys(step.outputs ?? {}) }));
      if (opts.json) {
        io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const width = Math.max(...rows.map((r) => r.name.length));
      for (const row of rows) io.stdout.write(`${row.name.padEnd(width)}  ${row.description}\n`);
    });
};

const registerSchema: CommandRegistrar = (program, io, _setExitCode, steps) => {
  program
    .command('schema')
    .description('print the JSON Schema of shipgate.yml (for editors: yaml-language-server, VS Code)')
    .action(async () => {
      await steps.ready(); // plugins' deferred steps too
      io.stdout.write(`${JSON.stringify(pipelineJsonSchema(steps), null, 2)}\n`);
    });
};

export const registerPipelineCommands: CommandRegistrar = (program, io, setExitCode, steps) => {
  for (const register of [registerValidate, registerPlan, registerRunCommand, registerSteps, registerSchema]) register(program, io, setExitCode, steps);
};

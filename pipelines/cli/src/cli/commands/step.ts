// `shipgate step`: run ONE invocation in this process. What a remote executor (CodeBuild, a Jenkins
// agent, an Actions job) runs, and what a person runs to debug a single step. Outputs are printed
// at the end on one line `::shipgate-outputs::<base64 JSON>`, the marker remote executors read back.
// The invocation runs through runStepCommand, as every other command's step does.
import path from 'node:path';
import * as z from 'zod';
import type { Command } from 'commander';
import { ShipgateError } from '@shipgate/protocol';
import { buildInvocation, findPipelineFile, lastSuccessfulOutputs, loadPipeline, planPipeline, resolveCiContext, SecretMasker } from '@shipgate/core';
import type { Plan } from '@shipgate/core';
import type { CliIO, CommandRegistrar, InvocationResult, StepInvocation, StepRegistry } from '@shipgate/protocol';
import { encodeOutputs, invocationSchema, outputsMarker } from '@shipgate/protocol';
import { pipelineLocation, type PipelineLocation } from '../options.js';
import { runStepCommand } from '../run-step.js';
import { OneInvocationReport } from './step-report.js';

const needsSchema = z.record(z.string(), z.looseObject({ outputs: z.record(z.string(), z.string()).default({}), result: z.string().optional() }));

/** `--needs`: GitHub's `needs` context (`{ build: { result, outputs } }`). */
function needsContext(value: unknown): z.infer<typeof needsSchema> {
  const parsed = needsSchema.safeParse(value);
  if (!parsed.success) throw new ShipgateError('cli.bad-json', '--needs must look like {"build":{"outputs":{"name":"value"}}}', { hint: 'pass ${{ toJSON(needs) }} from a GitHub workflow' });
  return parsed.data;
}

/** Appends outputs to GitHub's $GITHUB_OUTPUT file, each as a `name<<delimiter` block (values may span lines). */
async function appendGitHubOutputs(file: string, outputs: Readonly<Record<string, string>>): Promise<void> {
  const { appendFile } = await import('node:fs/promises');
  const { randomUUID } = await import('node:crypto');
  const text = Object.entries(outputs)
    .map(([name, value]) => {
      const delimiter = `ghadelimiter_${randomUUID()}`;
      return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
    })
    .join('');
  await appendFile(file, text);
}

function parseJsonOption(flag: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ShipgateError('cli.bad-json', `${flag} is not valid JSON: ${(error as Error).message}`, { hint: `${flag} '{"name":"value"}'` });
  }
}

async function readInvocation(text: string, io: CliIO): Promise<StepInvocation> {
  let json: string;
  if (text.startsWith('@')) {
    const { readFile } = await import('node:fs/promises');
    json = await readFile(path.resolve(io.cwd, text.slice(1)), 'utf8');
  } else {
    json = text.trimStart().startsWith('{') ? text : Buffer.from(text, 'base64').toString('utf8');
  }
  const parsed = invocationSchema.safeParse(parseJsonOption('--invocation', json));
  if (!parsed.success) {
    throw new ShipgateError('cli.bad-invocation', `--invocation: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`, {
      hint: 'pass the base64 of a StepInvocation JSON, as `shipgate export` and the CodeBuild executor write it',
    });
  }
  return parsed.data as StepInvocation;
}

interface StepFlags {
  inputs?: string;
  invocation?: string;
  json?: boolean;
  needs?: string;
  matrix?: string;
  reportDir?: string;
}

/** The invocation to run and where: from --invocation, or planned from shipgate.yml. */
interface ChosenInvocation {
  invocation: StepInvocation;
  workspace: string;
  pipelineName?: string;
  stepNeeds: readonly string[];
}

type PlanNode = Plan['nodes'][number];

/** The plan node `id` names, or with --matrix the instance whose matrix values are those. */
function chooseNode(plan: Plan, id: string, matrix: string | undefined): PlanNode {
  const stepId = id.replace(/\[.*$/, '');
  const wanted = matrix === undefined ? undefined : parseJsonOption('--matrix', matrix);
  if (wanted !== undefined && (!wanted || typeof wanted !== 'object' || Array.isArray(wanted))) throw new ShipgateError('cli.bad-json', '--matrix must be a JSON object', { hint: `--matrix '{"target":"api"}'` });
  const sameCombination = (combo: Readonly<Record<string, unknown>> | undefined): boolean => {
    const given = Object.entries(wanted as Record<string, unknown>);
    return given.length === Object.keys(combo ?? {}).length && given.every(([k, v]) => combo !== undefined && k in combo && String(combo[k]) === String(v));
  };
  const node = wanted !== undefined ? plan.nodes.find((n) => sameCombination(n.matrix)) : (plan.nodes.find((n) => n.id === id) ?? (plan.nodes.length === 1 ? plan.nodes[0] : undefined));
  if (!node) {
    const message = wanted !== undefined ? `--matrix ${matrix} is no instance of "${stepId}"` : `"${id}" is a matrix step: name one instance`;
    throw new ShipgateError('cli.unknown-invocation', message, { hint: `instances: ${plan.nodes.map((n) => n.id).join(', ')}` });
  }
  return node;
}

/** Upstream outputs for `steps.<id>.outputs`: from --needs, else from the last successful run here. */
async function upstreamSteps(node: PlanNode, needs: string | undefined, stateDir: string): Promise<Record<string, { outputs: Record<string, string>; outcome: string }>> {
  const steps: Record<string, { outputs: Record<string, string>; outcome: string }> = {};
  const given = needs === undefined ? undefined : needsContext(parseJsonOption('--needs', needs));
  // the needs context may hold more than the step's own needs: an exported job also needs every
  // earlier step whose outputs it reads (GitHub passes only direct needs' outputs)
  for (const need of new Set([...node.step.needs, ...Object.keys(given ?? {})])) {
    const upstream = given?.[need];
    steps[need] = upstream ? { outputs: upstream.outputs, outcome: upstream.result ?? 'success' } : { outputs: (await lastSuccessfulOutputs(stateDir, need)) ?? {}, outcome: 'success' };
  }
  return steps;
}

async function invocationFromPipeline(id: string, opts: StepFlags, location: PipelineLocation, io: CliIO, registry: StepRegistry): Promise<ChosenInvocation> {
  const found = findPipelineFile(location.directory, location.file);
  const spec = await loadPipeline(found, { registry, displayFile: path.relative(io.cwd, found) || found });
  const node = chooseNode(planPipeline(spec, { only: [id.replace(/\[.*$/, '')] }), id, opts.matrix);
  const steps = await upstreamSteps(node, opts.needs, path.join(spec.root, '.shipgate'));
  const env = Object.fromEntries(Object.entries(io.env).filter((e): e is [string, string] => e[1] !== undefined));
  const invocation = buildInvocation(spec, node, { env, matrix: node.matrix ?? {}, steps, ci: await resolveCiContext(spec.root, io.env), status: { failed: false, cancelled: false } });
  return { invocation, workspace: spec.root, pipelineName: spec.name, stepNeeds: node.step.needs };
}

async function chooseInvocation(id: string | undefined, opts: StepFlags, command: Command, io: CliIO, registry: StepRegistry): Promise<ChosenInvocation> {
  const location = pipelineLocation(command, io);
  if (opts.invocation) return { invocation: await readInvocation(opts.invocation, io), workspace: location.directory, stepNeeds: [] };
  if (!id) throw new ShipgateError('cli.usage', 'name a step (shipgate step <id>) or pass --invocation', { hint: 'shipgate plan lists the steps' });
  return invocationFromPipeline(id, opts, location, io, registry);
}

/** --inputs laid over the invocation's `with:`. */
function withInputOverrides(invocation: StepInvocation, inputs: string | undefined): StepInvocation {
  if (!inputs) return invocation;
  const extra = parseJsonOption('--inputs', inputs);
  if (!extra || typeof extra !== 'object' || Array.isArray(extra)) throw new ShipgateError('cli.bad-json', '--inputs must be a JSON object', { hint: `--inputs '{"name":"value"}'` });
  return { ...invocation, with: { ...invocation.with, ...(extra as Record<string, unknown>) } };
}

/** The outputs line remote executors read back, each value masked as in every other line. */
function printOutputsLine(io: CliIO, result: InvocationResult, secrets: ReadonlySet<string>): void {
  // the outputs line ends up in CI logs (CodeBuild, Jenkins): a secret in an output is masked
  // there as everywhere else, so what a remote executor hands back is `***`, never the value
  const masker = new SecretMasker(secrets);
  const shown = Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, masker.mask(v)]));
  for (const [k, v] of Object.entries(shown)) if (v !== result.outputs[k]) io.stderr.write(`shipgate: warning: output ${k} holds a secret; it is masked in the outputs line\n`);
  io.stdout.write(`${encodeOutputs(shown)}\n`);
}

async function runOneStep(io: CliIO, registry: StepRegistry, id: string | undefined, opts: StepFlags, command: Command): Promise<number> {
  const chosen = await chooseInvocation(id, opts, command, io, registry);
  const invocation = withInputOverrides(chosen.invocation, opts.inputs);
  const { workspace } = chosen;
  const recorder = opts.reportDir ? new OneInvocationReport(path.resolve(io.cwd, opts.reportDir), invocation, chosen.pipelineName, chosen.stepNeeds) : undefined;
  recorder?.start();
  const { exitCode } = await runStepCommand(io, registry, invocation, {
    workspace,
    // the job summary of `shipgate step` is its report's (below), not the step's own summaries
    jobSummary: false,
    ...(recorder ? { onLog: (line: string) => recorder.log(line) } : {}),
    render: async (result, secrets) => {
      if (recorder) await recorder.finish(result, workspace, io);
      if (opts.json) io.stdout.write(`${JSON.stringify({ id: invocation.id, ...result }, null, 2)}\n`);
      else printOutputsLine(io, result, secrets);
      // under GitHub Actions the outputs also become the job step's outputs (exported workflows read them)
      if (io.env.GITHUB_OUTPUT && Object.keys(result.outputs).length) await appendGitHubOutputs(io.env.GITHUB_OUTPUT, result.outputs);
    },
  });
  return exitCode;
}

export const registerStepCommand: CommandRegistrar = (program, io, setExitCode, steps) => {
  program
    .command('step')
    .argument('[id]', 'step id from shipgate.yml, or a matrix instance like "build[target=api]"')
    .description('run one step invocation in this process and print its outputs')
    .option('--inputs <json>', 'override / add `with:` inputs (JSON object)')
    .option('--invocation <data>', 'a whole invocation: base64 JSON, raw JSON, or @file (remote executors use this)')
    .option('--json', 'print the result as JSON instead of the outputs line')
    .option('--matrix <json>', 'pick the matrix instance by its values, {"target":"api"} (exported workflows pass ${{ toJSON(matrix) }})')
    .option('--needs <json>', "upstream outputs as GitHub's needs context, {\"build\":{\"outputs\":{…}}} (exported workflows pass ${{ toJSON(needs) }})")
    .option('--report-dir <dir>', 'also write report.html, report.json, junit.xml and logs/ of this one invocation here (an exported job\'s part of the merged report)')
    .addHelpText(
      'after',
      '\nExamples:\n  shipgate step unit\n  shipgate step "build[target=api]"\n  shipgate step lint --report-dir .shipgate/report\n  shipgate step deploy --inputs \'{"environment":"staging"}\'\n\n' +
        `Prints outputs as one line ${outputsMarker}<base64 JSON>. Exit codes: 0 success, 1 failure, 2 bad input, 130 cancelled.`,
    )
    .action(async (id: string | undefined, opts: StepFlags, command: Command) => {
      setExitCode(await runOneStep(io, steps, id, opts, command));
    });
};

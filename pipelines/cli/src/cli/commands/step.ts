// `shipgate step`: run ONE invocation in this process. What a remote executor (CodeBuild, a Jenkins
// agent, an Actions job) runs, and what a person runs to debug a single step. Outputs are printed
// at the end on one line `::shipgate-outputs::<base64 JSON>`, the marker remote executors read back.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import type { Command } from 'commander';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { findPipelineFile, loadPipeline } from '@shipgate/core';
import { buildInvocation } from '@shipgate/core';
import { lastSuccessfulOutputs } from '@shipgate/core';
import { planPipeline } from '@shipgate/core';
import { SecretMasker, secretsFromEnv } from '@shipgate/core';
import type { InvocationResult, StepInvocation } from '@shipgate/protocol';
import { LocalExecutor } from '@shipgate/core';
import { resolveCiContext } from '@shipgate/core';
import type { CommandRegistrar } from '@shipgate/protocol';
import type { CliIO } from '@shipgate/protocol';
import { pipelineLocation } from '../options.js';
import { encodeOutputs, invocationSchema, outputsMarker } from '@shipgate/protocol';
import type { RunEvent } from '@shipgate/core';
import { LogFileWriter } from '@shipgate/core';
import { appendMarkdownSummary, RunReportBuilder, writeRunReports } from '@shipgate/core';

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
    .action(async (id: string | undefined, opts: { inputs?: string; invocation?: string; json?: boolean; needs?: string; matrix?: string; reportDir?: string }, command: Command) => {
      const registry = steps;
      const { directory, file } = pipelineLocation(command, io);
      let invocation: StepInvocation;
      let workspace = directory;
      let pipelineName: string | undefined;
      let stepNeeds: readonly string[] = [];
      if (opts.invocation) {
        invocation = await readInvocation(opts.invocation, io);
      } else {
        if (!id) throw new ShipgateError('cli.usage', 'name a step (shipgate step <id>) or pass --invocation', { hint: 'shipgate plan lists the steps' });
        const found = findPipelineFile(directory, file);
        const spec = await loadPipeline(found, { registry, displayFile: path.relative(io.cwd, found) || found });
        workspace = spec.root;
        pipelineName = spec.name;
        const stepId = id.replace(/\[.*$/, '');
        const plan = planPipeline(spec, { only: [stepId] });
        const wanted = opts.matrix === undefined ? undefined : parseJsonOption('--matrix', opts.matrix);
        if (wanted !== undefined && (!wanted || typeof wanted !== 'object' || Array.isArray(wanted))) throw new ShipgateError('cli.bad-json', '--matrix must be a JSON object', { hint: `--matrix '{"target":"api"}'` });
        const sameCombination = (combo: Readonly<Record<string, unknown>> | undefined): boolean => {
          const given = Object.entries(wanted as Record<string, unknown>);
          return given.length === Object.keys(combo ?? {}).length && given.every(([k, v]) => combo !== undefined && k in combo && String(combo[k]) === String(v));
        };
        const node = wanted !== undefined ? plan.nodes.find((n) => sameCombination(n.matrix)) : (plan.nodes.find((n) => n.id === id) ?? (plan.nodes.length === 1 ? plan.nodes[0] : undefined));
        if (!node) {
          const message = wanted !== undefined ? `--matrix ${opts.matrix} is no instance of "${stepId}"` : `"${id}" is a matrix step: name one instance`;
          throw new ShipgateError('cli.unknown-invocation', message, { hint: `instances: ${plan.nodes.map((n) => n.id).join(', ')}` });
        }
        stepNeeds = node.step.needs;
        const stateDir = path.join(spec.root, '.shipgate');
        const steps: Record<string, { outputs: Record<string, string>; outcome: string }> = {};
        const given = opts.needs === undefined ? undefined : needsContext(parseJsonOption('--needs', opts.needs));
        // the needs context may hold more than the step's own needs: an exported job also needs every
        // earlier step whose outputs it reads (GitHub passes only direct needs' outputs)
        for (const need of new Set([...node.step.needs, ...Object.keys(given ?? {})])) {
          const upstream = given?.[need];
          steps[need] = upstream ? { outputs: upstream.outputs, outcome: upstream.result ?? 'success' } : { outputs: (await lastSuccessfulOutputs(stateDir, need)) ?? {}, outcome: 'success' };
        }
        const env = Object.fromEntries(Object.entries(io.env).filter((e): e is [string, string] => e[1] !== undefined));
        invocation = buildInvocation(spec, node, { env, matrix: node.matrix ?? {}, steps, ci: await resolveCiContext(spec.root, io.env), status: { failed: false, cancelled: false } });
      }
      if (opts.inputs) {
        const extra = parseJsonOption('--inputs', opts.inputs);
        if (!extra || typeof extra !== 'object' || Array.isArray(extra)) throw new ShipgateError('cli.bad-json', '--inputs must be a JSON object', { hint: `--inputs '{"name":"value"}'` });
        invocation = { ...invocation, with: { ...invocation.with, ...(extra as Record<string, unknown>) } };
      }

      const controller = new AbortController();
      const onAbort = () => controller.abort(io.signal.reason);
      io.signal.addEventListener('abort', onAbort, { once: true });
      const signal = invocation.timeoutMs ? AbortSignal.any([controller.signal, AbortSignal.timeout(invocation.timeoutMs)]) : controller.signal;
      const recorder = opts.reportDir ? new OneInvocationReport(path.resolve(io.cwd, opts.reportDir), invocation, pipelineName, stepNeeds) : undefined;
      const write = (line: string) => {
        recorder?.log(line);
        io.stdout.write(`${line}\n`);
      };
      const secrets = new Set(secretsFromEnv(io.env));
      recorder?.start();
      const result = await new LocalExecutor(registry).execute(invocation, {
        workspace,
        stateDir: path.join(workspace, '.shipgate', 'state'),
        ci: await resolveCiContext(workspace, io.env),
        signal,
        logger: { debug: () => {}, info: write, warn: write, error: (l) => write(`error: ${l}`) },
        secrets,
        env: io.env,
      });
      io.signal.removeEventListener('abort', onAbort);
      if (recorder) await recorder.finish(result, workspace, io);
      if (opts.json) io.stdout.write(`${JSON.stringify({ id: invocation.id, ...result }, null, 2)}\n`);
      else {
        // the outputs line ends up in CI logs (CodeBuild, Jenkins): a secret in an output is masked
        // there as everywhere else, so what a remote executor hands back is `***`, never the value
        const masker = new SecretMasker(secrets);
        const shown = Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, masker.mask(v)]));
        for (const [k, v] of Object.entries(shown)) if (v !== result.outputs[k]) io.stderr.write(`shipgate: warning: output ${k} holds a secret; it is masked in the outputs line\n`);
        io.stdout.write(`${encodeOutputs(shown)}\n`);
      }
      // under GitHub Actions the outputs also become the job step's outputs (exported workflows read them)
      if (io.env.GITHUB_OUTPUT && Object.keys(result.outputs).length) await appendGitHubOutputs(io.env.GITHUB_OUTPUT, result.outputs);
      if (result.error) io.stderr.write(`shipgate: ${invocation.id} ${result.status}: ${result.error.message} [${result.error.code}]${result.error.hint ? `\n  hint: ${result.error.hint}` : ''}\n`);
      setExitCode(
        result.status === 'success' ? ExitCode.ok : result.status === 'cancelled' ? ExitCode.interrupted : result.error?.code === 'step.inputs' ? ExitCode.usage : ExitCode.failed,
      );
    });
};

/**
 * The run report of one `shipgate step`: the same report.json / report.html / junit.xml / logs/
 * `shipgate run --report-dir` writes, fed with the events a run of that one invocation would emit,
 * so the jobs of an exported workflow each leave a report that `shipgate report` merges.
 */
class OneInvocationReport {
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

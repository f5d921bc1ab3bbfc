// The one door every shipgate action goes through: read the action's inputs (`@actions/core`),
// run the step from its shipgate package in this process, and hand back what it produced — outputs,
// masked secrets, annotations for errors, and the job summary. No decision is made here: an action
// is a list of the inputs it forwards (actions/src/<name>.ts), the step does the rest.
import path from 'node:path';
import * as core from '@actions/core';
import { context as github } from '@actions/github';
import { detectCiContext, runStepInProcess } from '@shipgate/core';
import { ShipgateError, type CiContext, type InvocationResult, type StepDefinition, type StepLogger } from '@shipgate/protocol';

/** How an action input is read before it reaches the step's `with:` (the step's schema validates it). */
/** `lines`: one entry a line, as actions/cache takes `path:` (blank lines dropped). */
export type InputKind = 'string' | 'number' | 'boolean' | 'json' | 'secret' | 'lines';

export interface ActionSpec {
  /** The action's folder name, e.g. `approval`. */
  name: string;
  /** The inputs the action reads (each declared in its action.yml), and how. */
  inputs: Readonly<Record<string, InputKind>>;
  /**
   * The step to run and its `with:`. Steps are imported here, on demand, so one bundle holds every
   * action without loading them all.
   */
  step(inputs: Record<string, unknown>): Promise<{ step: StepDefinition; with: Record<string, unknown> }>;
  /** An input naming the directory to run in, relative to $GITHUB_WORKSPACE. */
  workingDirectoryInput?: string;
  /**
   * Inputs handed to the step as environment variables instead of `with:` (input → variable), for
   * steps that take a credential only from the environment, e.g. the Sonar token.
   */
  env?: Readonly<Record<string, string>>;
}

/** The common case: every input goes to the step under its own name. */
export function forwardTo(load: () => Promise<StepDefinition>): ActionSpec['step'] {
  return async (inputs) => ({ step: await load(), with: inputs });
}

/** The CiContext steps see, from what `@actions/github` read of the runner's environment and event payload. */
export function ciContextFromGitHub(ctx: Pick<typeof github, 'eventName' | 'ref' | 'sha' | 'runId' | 'actor' | 'payload'>, env: NodeJS.ProcessEnv): CiContext {
  // One decision, in pipelines/core/src/ci/detect.ts: hand it the same facts @actions/github read.
  return detectCiContext(
    {
      ...env,
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: ctx.eventName,
      GITHUB_REF: ctx.ref,
      GITHUB_SHA: ctx.sha,
      GITHUB_RUN_ID: ctx.runId ? String(ctx.runId) : env.GITHUB_RUN_ID,
      GITHUB_ACTOR: ctx.actor,
    },
    {},
    ctx.payload as Parameters<typeof detectCiContext>[2],
  );
}

/** Reads one input by kind. Empty means "not given": the step's default applies. */
export function readInput(name: string, kind: InputKind, read: (name: string) => string = (n) => core.getInput(n)): unknown {
  const text = read(name);
  if (text === '') return undefined;
  switch (kind) {
    case 'string':
    case 'secret':
      return text;
    case 'number': {
      const n = Number(text);
      if (!Number.isFinite(n)) throw new ShipgateError('action.input', `input ${name} must be a number, got "${text}"`, { hint: `e.g. ${name}: 30` });
      return n;
    }
    case 'boolean':
      if (/^(true|yes|on)$/i.test(text)) return true;
      if (/^(false|no|off)$/i.test(text)) return false;
      throw new ShipgateError('action.input', `input ${name} must be true or false, got "${text}"`, { hint: `e.g. ${name}: true` });
    case 'lines':
      return text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
    case 'json':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new ShipgateError('action.input', `input ${name} must be JSON, got "${text.slice(0, 40)}"`, { hint: `e.g. ${name}: '{"kind": "shipgate"}' (quote it in YAML)` });
      }
  }
}

const logger: StepLogger = {
  debug: (m) => core.debug(m),
  info: (m) => core.info(m),
  warn: (m) => core.warning(m),
  error: (m) => core.info(`error: ${m}`), // log lines, not annotations: the step's failure gets the one annotation
};

/** A signal aborted when the runner cancels the job (it sends SIGINT, then SIGTERM). */
function cancellation(): AbortSignal {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => controller.abort(new Error(`cancelled (${sig})`)));
  return controller.signal;
}

const masked = new Set<string>();

/** Asks the runner to mask a value in the log (once per value). */
function mask(value: string): void {
  if (!value || masked.has(value)) return;
  masked.add(value);
  core.setSecret(value);
}

/** Masks what the step marks secret with the runner too, so the values never reach the log. */
function withRunnerMasking(step: StepDefinition): StepDefinition {
  return {
    ...step,
    run: (ctx) =>
      step.run({
        ...ctx,
        setSecret(value: string) {
          mask(value);
          ctx.setSecret(value);
        },
      }),
  };
}

function cell(value: string): string {
  return value.replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

/** Job summary: the step's own Markdown (gate table, tags and digests, deployment), then its outputs. */
export function renderSummary(action: string, result: InvocationResult, secrets: readonly string[]): string {
  const mask = (text: string) => secrets.reduce((t, s) => (s ? t.split(s).join('***') : t), text);
  const icon = result.status === 'success' ? '✅' : result.status === 'failure' ? '❌' : '⏹️';
  const lines = [`## ${icon} shipgate ${action}: ${result.status}`, ''];
  for (const markdown of result.summaries) lines.push(mask(markdown), '');
  const outputs = Object.entries(result.outputs);
  if (outputs.length) {
    lines.push('| output | value |', '| --- | --- |', ...outputs.map(([k, v]) => `| ${k} | ${cell(mask(v))} |`), '');
  }
  if (result.error) lines.push(`**${result.error.code}**: ${mask(result.error.message)}`, ...(result.error.hint ? ['', `hint: ${mask(result.error.hint)}`] : []), '');
  return lines.join('\n');
}

/** Reports a failure as one annotation (message and hint) and fails the job. */
export function fail(action: string, error: { code: string; message: string; hint?: string }): void {
  core.error(error.hint ? `${error.message}\nhint: ${error.hint}` : error.message, { title: `shipgate ${action}: ${error.code}` });
  process.exitCode = 1;
}

/** Runs one action: inputs → step → outputs, summary, annotations. Never throws. */
export async function runAction(spec: ActionSpec): Promise<void> {
  // An action runs one step in a short-lived process: the engine's spawner helpers (a fork each,
  // worth it for a pipeline's many children) buy nothing here and may outlive a quick step.
  process.env.SHIPGATE_SPAWNER ??= '0';
  try {
    const secrets: string[] = [];
    const inputs: Record<string, unknown> = {};
    for (const [name, kind] of Object.entries(spec.inputs)) {
      const value = readInput(name, kind);
      if (value === undefined) continue;
      if (kind === 'secret') {
        mask(value as string);
        secrets.push(value as string);
      }
      inputs[name] = value;
    }
    const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
    const relative = spec.workingDirectoryInput ? core.getInput(spec.workingDirectoryInput) : '';
    const cwd = path.resolve(workspace, relative);
    // The step sees the job's environment without the action's own INPUT_* variables (they may hold tokens).
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INPUT_')));
    for (const [input, variable] of Object.entries(spec.env ?? {})) {
      if (inputs[input] === undefined) continue;
      env[variable] = String(inputs[input]);
      delete inputs[input];
    }
    const planned = await spec.step(inputs);
    const result = await runStepInProcess(withRunnerMasking(planned.step), planned.with, { cwd, env, ci: ciContextFromGitHub(github, process.env), signal: cancellation(), logger, secrets });
    for (const [name, value] of Object.entries(result.outputs)) core.setOutput(name, value);
    if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(renderSummary(spec.name, result, [...masked])).write();
    if (result.error) fail(spec.name, result.error);
    else if (result.status !== 'success') fail(spec.name, { code: `step.${result.status}`, message: `${spec.name} was ${result.status === 'timed-out' ? 'stopped at its timeout' : 'cancelled'}` });
  } catch (error) {
    if (error instanceof ShipgateError) return fail(spec.name, { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) });
    core.debug(error instanceof Error && error.stack ? error.stack : String(error));
    fail(spec.name, { code: 'action.internal', message: error instanceof Error ? error.message : String(error), hint: 'this is a bug in shipgate: please report it with the log above' });
  }
}

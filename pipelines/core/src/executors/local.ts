// The local executor: runs a step invocation in this process (its shell commands as child
// processes). The default executor, and what `shipgate step` runs inside a remote engine.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { isShipgateError, statusOnAbort } from '@shipgate/protocol';
import { createProcessRunner } from '../process/runner.js';
import { SecretMasker } from '../process/secrets.js';
import type { CiContext, StepContext, StepDefinition, StepLogger } from '@shipgate/protocol';
import { StepRegistry } from '@shipgate/protocol';
import type { ExecutionEnvironment, Executor, InvocationResult, InvocationStatus, StepInvocation } from '@shipgate/protocol';
import { newOutputFile, parseOutputFile, removeOutputFile, takeOutputFile } from './output-file.js';

export { parseOutputFile } from './output-file.js';

export interface LocalExecutorOptions {
  /** Time between SIGTERM and SIGKILL when a step is stopped. Default 5 s. */
  gracePeriodMs?: number;
}

type InvocationError = NonNullable<InvocationResult['error']>;

/** Human text for a zod error: one `field: problem` per issue, the field as written in `with:`. */
export function describeInputIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.length ? issue.path.map(String).join('.') : '(inputs)';
      return `${field}: ${issue.message}`;
    })
    .join('; ');
}

/** A step ready to run with its parsed inputs, or why it cannot run. */
type CheckedInvocation = { step: StepDefinition; inputs: unknown; cwd: string } | { error: InvocationError };

/** What must hold before anything runs: a known step, valid inputs, an existing working directory. */
function checkInvocation(registry: StepRegistry, invocation: StepInvocation, workspace: string): CheckedInvocation {
  const step = registry.get(invocation.uses);
  if (!step) return { error: { code: 'step.unknown', message: `no step named "${invocation.uses}"`, hint: `known steps: ${registry.names().join(', ')}` } };
  const parsed = step.inputs.safeParse(invocation.with);
  if (!parsed.success) {
    return {
      error: {
        code: 'step.inputs',
        message: `invalid inputs for ${invocation.uses}: ${describeInputIssues(parsed.error)}`,
        hint: 'check the `with:` of this step against its documented inputs (shipgate steps)',
      },
    };
  }
  const cwd = path.resolve(workspace, invocation.workingDirectory || '.');
  if (!existsSync(cwd)) {
    return { error: { code: 'step.working-directory', message: `working directory ${invocation.workingDirectory} does not exist`, hint: 'create it in an earlier step, or fix working-directory' } };
  }
  return { step: step as StepDefinition, inputs: parsed.data, cwd };
}

/** The environment a step's commands see: the base env, the step's env, and the SHIPGATE_* names. */
function stepEnvironment(invocation: StepInvocation, environment: ExecutionEnvironment, outputFile: string): Record<string, string> {
  const base = Object.fromEntries(Object.entries(environment.env ?? process.env).filter((e): e is [string, string] => e[1] !== undefined));
  return {
    ...base,
    ...invocation.env,
    SHIPGATE_OUTPUT: outputFile,
    SHIPGATE_STEP_ID: invocation.stepId,
    SHIPGATE_INVOCATION_ID: invocation.id,
    SHIPGATE_WORKSPACE: environment.workspace,
    SHIPGATE_RUN_ID: environment.runId ?? '',
  };
}

/** The outputs and summaries a step hands over while it runs, and the result they end up in. */
class ResultCollector {
  readonly outputs: Record<string, string> = {};
  readonly summaries: string[] = [];
  readonly #started = performance.now();

  finish(status: InvocationStatus, error?: InvocationError): InvocationResult {
    return { status, outputs: this.outputs, durationMs: performance.now() - this.#started, summaries: this.summaries, ...(error ? { error } : {}) };
  }
}

/** A step's thrown error as its failure, masked; the stack goes to the debug log for unexpected ones. */
function failureOf(error: unknown, masker: SecretMasker, logger: StepLogger): InvocationError {
  if (isShipgateError(error)) return { code: error.code, message: masker.mask(error.message), ...(error.hint ? { hint: masker.mask(error.hint) } : {}) };
  const message = error instanceof Error ? error.message : String(error);
  logger.debug(error instanceof Error && error.stack ? masker.mask(error.stack) : message);
  return { code: 'step.error', message: masker.mask(message) };
}

export class LocalExecutor implements Executor {
  readonly name = 'local';

  constructor(
    private readonly registry: StepRegistry,
    private readonly options: LocalExecutorOptions = {},
  ) {}

  async execute(invocation: StepInvocation, environment: ExecutionEnvironment): Promise<InvocationResult> {
    const result = new ResultCollector();
    await this.registry.ready([invocation.uses]); // a plugin's step whose module is not imported yet
    const checked = checkInvocation(this.registry, invocation, environment.workspace);
    if ('error' in checked) return result.finish('failure', checked.error);
    const masker = new SecretMasker(environment.secrets);
    const logger = maskedLogger(environment.logger, masker);
    const outputFile = newOutputFile();
    const context = this.#context(invocation, environment, { ...checked, masker, logger, outputFile, result });
    try {
      await checked.step.run(context);
      if (environment.signal.aborted) {
        removeOutputFile(outputFile);
        return result.finish(statusOnAbort(environment.signal));
      }
      try {
        for (const [name, value] of Object.entries(parseOutputFile(takeOutputFile(outputFile)))) context.setOutput(name, value);
      } catch (error) {
        return result.finish('failure', { code: 'step.output-file', message: (error as Error).message, hint: 'write outputs as name=value, or name<<EOF … EOF for several lines' });
      }
      return result.finish('success');
    } catch (error) {
      removeOutputFile(outputFile);
      if (environment.signal.aborted) return result.finish(statusOnAbort(environment.signal));
      return result.finish('failure', failureOf(error, masker, logger));
    }
  }

  /** What the step's `run` gets: its inputs, env, logger and process runner, all masking secrets. */
  #context(
    invocation: StepInvocation,
    environment: ExecutionEnvironment,
    run: { inputs: unknown; cwd: string; masker: SecretMasker; logger: StepLogger; outputFile: string; result: ResultCollector },
  ): StepContext<unknown> {
    const { cwd, masker, logger, result } = run;
    const env = stepEnvironment(invocation, environment, run.outputFile);
    const { gracePeriodMs } = this.options;
    return {
      id: invocation.id,
      stepId: invocation.stepId,
      inputs: run.inputs,
      env,
      cwd,
      workspace: environment.workspace,
      stateDir: environment.stateDir,
      ci: environment.ci,
      logger,
      signal: environment.signal,
      process: createProcessRunner({ env, cwd, logger, signal: environment.signal, secrets: masker, ...(gracePeriodMs === undefined ? {} : { gracePeriodMs }) }),
      setOutput(name, value) {
        result.outputs[name] = value;
        environment.onOutput?.(name, value);
      },
      setSecret(value) {
        environment.secrets.add(value);
        masker.add(value);
      },
      summary(markdown) {
        result.summaries.push(masker.mask(markdown));
      },
    };
  }
}

function maskedLogger(logger: StepLogger, masker: SecretMasker): StepLogger {
  return {
    debug: (m) => logger.debug(masker.mask(m)),
    info: (m) => logger.info(masker.mask(m)),
    warn: (m) => logger.warn(masker.mask(m)),
    error: (m) => logger.error(masker.mask(m)),
  };
}

export interface RunStepOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  ci?: CiContext;
  signal?: AbortSignal;
  logger?: StepLogger;
  stateDir?: string;
  secrets?: Iterable<string>;
  gracePeriodMs?: number;
}

/**
 * Runs one step definition in this process, with everything a pipeline run would give it. What
 * the GitHub actions, `shipgate step` and step tests use. Log lines are also returned in `logs`.
 */
export async function runStepInProcess(
  step: StepDefinition,
  inputs: unknown,
  options: RunStepOptions = {},
): Promise<InvocationResult & { logs: string[] }> {
  const logs: string[] = [];
  const sink = options.logger;
  const logger: StepLogger = {
    debug: (m) => (logs.push(m), sink?.debug(m)),
    info: (m) => (logs.push(m), sink?.info(m)),
    warn: (m) => (logs.push(m), sink?.warn(m)),
    error: (m) => (logs.push(m), sink?.error(m)),
  };
  const workspace = path.resolve(options.cwd ?? process.cwd());
  const executor = new LocalExecutor(new StepRegistry([step]), options.gracePeriodMs === undefined ? {} : { gracePeriodMs: options.gracePeriodMs });
  const result = await executor.execute(
    { id: step.name, stepId: step.name, uses: step.name, with: (inputs ?? {}) as Record<string, unknown>, env: {}, workingDirectory: '.' },
    {
      workspace,
      stateDir: options.stateDir ?? path.join(workspace, '.shipgate', 'state'),
      ci: options.ci ?? { provider: 'local' },
      signal: options.signal ?? new AbortController().signal,
      logger,
      secrets: new Set(options.secrets ?? []),
      env: options.env ?? process.env,
      runId: randomUUID(),
    },
  );
  return { ...result, logs };
}

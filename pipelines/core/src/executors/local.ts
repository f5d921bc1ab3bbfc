// The local executor: runs a step invocation in this process (its shell commands as child
// processes). The default executor, and what `shipgate step` runs inside a remote engine.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { z } from 'zod';
import { isShipgateError } from '@shipgate/protocol';
import { createProcessRunner } from '../process/runner.js';
import { SecretMasker } from '../process/secrets.js';
import type { CiContext, StepContext, StepDefinition, StepLogger } from '@shipgate/protocol';
import { StepRegistry } from '@shipgate/protocol';
import type { ExecutionEnvironment, Executor, InvocationResult, InvocationStatus, StepInvocation } from '@shipgate/protocol';

export interface LocalExecutorOptions {
  /** Time between SIGTERM and SIGKILL when a step is stopped. Default 5 s. */
  gracePeriodMs?: number;
}

/** Human text for a zod error: one `field: problem` per issue, the field as written in `with:`. */
export function describeInputIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.length ? issue.path.map(String).join('.') : '(inputs)';
      return `${field}: ${issue.message}`;
    })
    .join('; ');
}

/**
 * Parses `$SHIPGATE_OUTPUT` in GitHub's format: `name=value` lines, and `name<<DELIM` … `DELIM`
 * blocks for multi-line values.
 */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    const heredoc = /^([A-Za-z_][\w-]*)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const end = lines.indexOf(delimiter!, i + 1);
      if (end === -1) throw new Error(`$SHIPGATE_OUTPUT: "${name}<<${delimiter}" is never closed by a line "${delimiter}"`);
      outputs[name!] = lines.slice(i + 1, end).join('\n');
      i = end;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`$SHIPGATE_OUTPUT: line ${i + 1} is not name=value: ${JSON.stringify(line.slice(0, 60))}`);
    outputs[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return outputs;
}

function statusOnAbort(signal: AbortSignal): InvocationStatus {
  const reason = signal.reason as { name?: string } | undefined;
  return reason?.name === 'TimeoutError' ? 'timed-out' : 'cancelled';
}

export class LocalExecutor implements Executor {
  readonly name = 'local';

  constructor(
    private readonly registry: StepRegistry,
    private readonly options: LocalExecutorOptions = {},
  ) {}

  async execute(invocation: StepInvocation, environment: ExecutionEnvironment): Promise<InvocationResult> {
    const started = performance.now();
    const outputs: Record<string, string> = {};
    const summaries: string[] = [];
    const finish = (status: InvocationStatus, error?: InvocationResult['error']): InvocationResult => ({
      status,
      outputs,
      durationMs: performance.now() - started,
      summaries,
      ...(error ? { error } : {}),
    });

    const step = this.registry.get(invocation.uses);
    if (!step) {
      return finish('failure', { code: 'step.unknown', message: `no step named "${invocation.uses}"`, hint: `known steps: ${this.registry.names().join(', ')}` });
    }
    const parsed = step.inputs.safeParse(invocation.with);
    if (!parsed.success) {
      return finish('failure', {
        code: 'step.inputs',
        message: `invalid inputs for ${invocation.uses}: ${describeInputIssues(parsed.error)}`,
        hint: 'check the `with:` of this step against its documented inputs (shipgate steps)',
      });
    }
    const cwd = path.resolve(environment.workspace, invocation.workingDirectory || '.');
    if (!existsSync(cwd)) {
      return finish('failure', { code: 'step.working-directory', message: `working directory ${invocation.workingDirectory} does not exist`, hint: 'create it in an earlier step, or fix working-directory' });
    }

    const masker = new SecretMasker(environment.secrets);
    const logger = maskedLogger(environment.logger, masker);
    // in a directory private to this process (mode 0700), so no one else can plant a link there;
    // the step creates the file when it writes its first output
    const outputFile = path.join(privateOutputDir(), randomUUID());
    const base = Object.fromEntries(Object.entries(environment.env ?? process.env).filter((e): e is [string, string] => e[1] !== undefined));
    const env: Record<string, string> = {
      ...base,
      ...invocation.env,
      SHIPGATE_OUTPUT: outputFile,
      SHIPGATE_STEP_ID: invocation.stepId,
      SHIPGATE_INVOCATION_ID: invocation.id,
      SHIPGATE_WORKSPACE: environment.workspace,
      SHIPGATE_RUN_ID: environment.runId ?? '',
    };
    const context: StepContext<unknown> = {
      id: invocation.id,
      stepId: invocation.stepId,
      inputs: parsed.data,
      env,
      cwd,
      workspace: environment.workspace,
      stateDir: environment.stateDir,
      ci: environment.ci,
      logger,
      signal: environment.signal,
      process: createProcessRunner({ env, cwd, logger, signal: environment.signal, secrets: masker, ...(this.options.gracePeriodMs === undefined ? {} : { gracePeriodMs: this.options.gracePeriodMs }) }),
      setOutput(name, value) {
        outputs[name] = value;
        environment.onOutput?.(name, value);
      },
      setSecret(value) {
        environment.secrets.add(value);
        masker.add(value);
      },
      summary(markdown) {
        summaries.push(masker.mask(markdown));
      },
    };

    try {
      await (step as StepDefinition).run(context);
      if (environment.signal.aborted) return finish(statusOnAbort(environment.signal));
      // Read synchronously: the file is usually absent (one stat; a failed read would build an
      // exception) or fresh in the page cache, and a trip through libuv's thread pool (busy with
      // other steps' files) would sit between this step's end and its dependents' start.
      let fileText = '';
      if (existsSync(outputFile)) {
        try {
          fileText = readFileSync(outputFile, 'utf8');
        } catch {
          // unreadable: as if empty
        }
        void rm(outputFile, { force: true }).catch(() => undefined);
      }
      try {
        for (const [name, value] of Object.entries(parseOutputFile(fileText))) context.setOutput(name, value);
      } catch (error) {
        return finish('failure', { code: 'step.output-file', message: (error as Error).message, hint: 'write outputs as name=value, or name<<EOF … EOF for several lines' });
      }
      return finish('success');
    } catch (error) {
      void rm(outputFile, { force: true }).catch(() => undefined);
      if (environment.signal.aborted) return finish(statusOnAbort(environment.signal));
      if (isShipgateError(error)) {
        return finish('failure', { code: error.code, message: masker.mask(error.message), ...(error.hint ? { hint: masker.mask(error.hint) } : {}) });
      }
      const message = error instanceof Error ? error.message : String(error);
      logger.debug(error instanceof Error && error.stack ? masker.mask(error.stack) : message);
      return finish('failure', { code: 'step.error', message: masker.mask(message) });
    }
  }
}

let outputDir: string | undefined;

/** One private directory per process for `$SHIPGATE_OUTPUT` files, removed when the process exits. */
function privateOutputDir(): string {
  if (!outputDir) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-outputs-'));
    outputDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return outputDir;
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

// The scheduler's entry point: runs a Plan. Every invocation whose needs are done starts at once,
// up to maxParallel (and a matrix step's own max-parallel). Fail-fast by default: the first failure
// stops the running invocations (their whole process groups) and skips what has not started,
// except steps whose `if:` asks to run anyway (always(), failure()). Retries with back-off,
// per-attempt timeouts, the content-hash cache, and a clean stop on Ctrl-C.
//
// What runs when is decided by a pure state machine (machine.ts, over state.ts and conditions.ts);
// the driver (driver.ts) does the I/O. This file sets a run up: executors, the environment copy,
// secrets, the cache, the outputs of needs outside the selection, and the dry run.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import type { CiContext, Executor, StepRegistry } from '@shipgate/protocol';
import { ensureStateDir, lastSuccessfulOutputs } from '../cache/keys.js';
import { StepCache } from '../cache/step-cache.js';
import { LocalExecutor } from '../executors/local.js';
import type { Plan } from '../plan/plan.js';
import { SecretMasker } from '../process/secrets.js';
import { SchedulerDriver } from './driver.js';
import type { RunEvent, RunEventListener } from './events.js';
import { skippedRecord, type InvocationRecord } from './records.js';
import { initialState } from './state.js';

export type { InvocationRecord } from './records.js';

export interface RunOptions {
  registry: StepRegistry;
  /** Executors by name; default `{ local: new LocalExecutor(registry) }`. */
  executors?: Record<string, Executor>;
  /** At most this many invocations at once. Default: the number of CPUs. */
  maxParallel?: number;
  /** After a failure, let independent steps finish (dependents are still skipped). */
  keepGoing?: boolean;
  noCache?: boolean;
  dryRun?: boolean;
  /** Ctrl-C: cancels the run. */
  signal?: AbortSignal;
  onEvent?: RunEventListener;
  ci?: CiContext;
  /** The process environment steps start from. Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Absolute `.shipgate` directory: cache, recorded outputs, step state. */
  stateDir: string;
  /** Between SIGTERM and SIGKILL when stopping a step. Default 5 s. */
  gracePeriodMs?: number;
  /** First retry delay; doubles each attempt, with jitter. Default 1 s. */
  retryBaseDelayMs?: number;
  /** Values to mask everywhere. */
  secrets?: Iterable<string>;
  /**
   * Expected step durations (e.g. from the last run's report). When many steps are ready at once,
   * those on the longest remaining path start first, which shortens the run.
   */
  durationsMs?: Readonly<Record<string, number>>;
}

export interface RunResult {
  runId: string;
  outcome: 'success' | 'failure' | 'cancelled';
  exitCode: number;
  durationMs: number;
  invocations: Record<string, InvocationRecord>;
}

function newRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export async function runPipeline(plan: Plan, options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const runId = newRunId();
  const emit = (event: RunEvent): void => options.onEvent?.(event);
  const executors = options.executors ?? { local: new LocalExecutor(options.registry, options.gracePeriodMs === undefined ? {} : { gracePeriodMs: options.gracePeriodMs }) };
  // One plain copy per run: every read of process.env goes through an accessor, and copying it
  // for each step's expressions cost ~0.1 ms per step.
  const env: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(options.env ?? process.env).filter((e): e is [string, string] => e[1] !== undefined));
  const ci = options.ci ?? { provider: 'local' };
  const secrets = new Set(options.secrets ?? []);
  // $SHIPGATE_CACHE_URL wins over cache-url: so a CI job can point a checked-in pipeline elsewhere
  const sharedUrl = env.SHIPGATE_CACHE_URL || plan.pipeline.cacheUrl;
  const cache = new StepCache({ stateDir: options.stateDir, env, ...(sharedUrl ? { sharedUrl } : {}) });
  if (!options.dryRun) await ensureStateDir(options.stateDir);
  const restored = await restoreOutputs(plan, options.stateDir);

  emit({ type: 'run-start', runId, pipeline: plan.pipeline.name, invocations: plan.nodes.map((n) => n.id), at: Date.now() });
  if (options.dryRun) return dryRun(plan, runId, started, emit);

  const config = {
    maxParallel: Math.max(1, options.maxParallel ?? os.availableParallelism()),
    keepGoing: options.keepGoing ?? false,
    noCache: options.noCache ?? false,
    retryBaseDelayMs: options.retryBaseDelayMs ?? 1000,
    executors: Object.keys(executors),
    env,
    ci,
    ...(options.durationsMs ? { durationsMs: options.durationsMs } : {}),
  };
  const mask = (outputs: Readonly<Record<string, string>>): Record<string, string> => maskOutputs(outputs, secrets);
  const signal = options.signal ?? new AbortController().signal;
  const driver = new SchedulerDriver({ runId, state: initialState(plan, config, restored), executors, cache, stateDir: options.stateDir, env, ci, secrets, mask, signal, emit });
  const { outcome, invocations } = await driver.run();

  const durationMs = performance.now() - started;
  emit({ type: 'run-end', runId, outcome, durationMs, at: Date.now() });
  const exitCode = outcome === 'cancelled' ? ExitCode.interrupted : outcome === 'failure' ? ExitCode.failed : ExitCode.ok;
  return { runId, outcome, exitCode, durationMs, invocations };
}

/** Outputs of needs outside the selection (--only / --from) come from their last success. */
async function restoreOutputs(plan: Plan, stateDir: string): Promise<Map<string, Record<string, string>>> {
  const restored = new Map<string, Record<string, string>>();
  for (const stepId of plan.restored) {
    const outputs = await lastSuccessfulOutputs(stateDir, stepId);
    if (!outputs) {
      throw new ShipgateError('plan.missing-upstream', `"${stepId}" is needed but not selected, and it has never succeeded here, so its outputs are unknown`, {
        hint: `run it first (shipgate run --only ${stepId}), or include it in the selection`,
      });
    }
    restored.set(stepId, outputs);
  }
  return restored;
}

function dryRun(plan: Plan, runId: string, started: number, emit: (event: RunEvent) => void): RunResult {
  const invocations: Record<string, InvocationRecord> = {};
  for (const node of plan.nodes) {
    const { record, event } = skippedRecord(node, 'dry run', Date.now());
    invocations[node.id] = record;
    emit(event);
  }
  const durationMs = performance.now() - started;
  emit({ type: 'run-end', runId, outcome: 'success', durationMs, at: Date.now() });
  return { runId, outcome: 'success', exitCode: ExitCode.ok, durationMs, invocations };
}

/** Outputs as reports may show them: a secret inside a value is masked (dependents get the real value). */
function maskOutputs(outputs: Readonly<Record<string, string>>, secrets: ReadonlySet<string>): Record<string, string> {
  if (secrets.size === 0) return { ...outputs };
  const masker = new SecretMasker(secrets);
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, masker.mask(v)]));
}

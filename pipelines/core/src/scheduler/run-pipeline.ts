// The scheduler: runs a Plan. Every invocation whose needs are done starts at once, up to
// maxParallel (and a matrix step's own max-parallel). Fail-fast by default: the first failure
// stops the running invocations (their whole process groups) and skips what has not started,
// except steps whose `if:` asks to run anyway (always(), failure()). Retries with back-off,
// per-attempt timeouts, the content-hash cache, and a clean stop on Ctrl-C.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { conditionUsesStatus, evaluateCondition, type ExpressionContext } from '../config/expressions.js';
import { buildInvocation } from '../plan/invocation.js';
import type { StepSpec } from '../config/model.js';
import type { CiContext, StepLogger } from '@shipgate/protocol';
import type { StepRegistry } from '@shipgate/protocol';
import type { Executor, InvocationResult, StepInvocation } from '@shipgate/protocol';
import { LocalExecutor } from '../executors/local.js';
import type { InvocationOutcome, RunEvent, RunEventListener } from './events.js';
import type { Plan, PlanNode } from '../plan/plan.js';
import { SecretMasker } from '../process/secrets.js';
import { computeCacheKey, ensureStateDir, lastSuccessfulOutputs, recordStepOutputs } from '../cache/keys.js';
import { StepCache } from '../cache/step-cache.js';

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

export interface InvocationRecord {
  id: string;
  stepId: string;
  outcome: InvocationOutcome;
  attempts: number;
  startedAt?: string;
  durationMs: number;
  outputs: Record<string, string>;
  error?: { code: string; message: string; hint?: string };
  summaries: string[];
  reason?: string;
}

export interface RunResult {
  runId: string;
  outcome: 'success' | 'failure' | 'cancelled';
  exitCode: number;
  durationMs: number;
  invocations: Record<string, InvocationRecord>;
}

type StepConclusion = 'success' | 'failure' | 'cancelled' | 'skipped';

interface StepState {
  step: StepSpec;
  nodes: PlanNode[];
  remaining: number;
  running: number;
  outputs: Record<string, string>;
  outcomes: InvocationOutcome[];
  conclusion?: StepConclusion;
}

function aggregate(outcomes: readonly InvocationOutcome[]): StepConclusion {
  if (outcomes.some((o) => o === 'failure' || o === 'timed-out')) return 'failure';
  if (outcomes.some((o) => o === 'cancelled')) return 'cancelled';
  if (outcomes.length > 0 && outcomes.every((o) => o === 'skipped')) return 'skipped';
  return 'success';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
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
  const maxParallel = Math.max(1, options.maxParallel ?? os.availableParallelism());
  // One plain copy per run: every read of process.env goes through an accessor, and copying it
  // for each step's expressions cost ~0.1 ms per step.
  const processEnv: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(options.env ?? process.env).filter((e): e is [string, string] => e[1] !== undefined));
  const ci = options.ci ?? { provider: 'local' };
  const secrets = new Set(options.secrets ?? []);
  /** Outputs as reports may show them: a secret inside a value is masked (dependents get the real value). */
  const shown = (outputs: Readonly<Record<string, string>>): Record<string, string> => {
    if (secrets.size === 0) return { ...outputs };
    const masker = new SecretMasker(secrets);
    return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, masker.mask(v)]));
  };
  const userSignal = options.signal ?? new AbortController().signal;
  const records: Record<string, InvocationRecord> = {};
  // $SHIPGATE_CACHE_URL wins over cache-url: so a CI job can point a checked-in pipeline elsewhere
  const sharedUrl = processEnv.SHIPGATE_CACHE_URL || plan.pipeline.cacheUrl;
  const cache = new StepCache({ stateDir: options.stateDir, env: processEnv, ...(sharedUrl ? { sharedUrl } : {}) });
  if (!options.dryRun) await ensureStateDir(options.stateDir);

  // Outputs of needs outside the selection (--only / --from) come from their last success.
  const restoredOutputs = new Map<string, Record<string, string>>();
  for (const stepId of plan.restored) {
    const outputs = await lastSuccessfulOutputs(options.stateDir, stepId);
    if (!outputs) {
      throw new ShipgateError('plan.missing-upstream', `"${stepId}" is needed but not selected, and it has never succeeded here, so its outputs are unknown`, {
        hint: `run it first (shipgate run --only ${stepId}), or include it in the selection`,
      });
    }
    restoredOutputs.set(stepId, outputs);
  }

  const states = new Map<string, StepState>();
  for (const step of plan.steps) states.set(step.id, { step, nodes: [], remaining: 0, running: 0, outputs: {}, outcomes: [] });
  for (const node of plan.nodes) {
    // one pass, in plan order (filtering the nodes for each step took ~1 ms for 200 steps)
    const state = states.get(node.stepId);
    if (!state) continue;
    state.nodes.push(node);
    state.remaining += 1;
  }
  const dependents = new Map<string, string[]>();
  for (const step of plan.steps) for (const need of step.needs) if (states.has(need)) dependents.set(need, [...(dependents.get(need) ?? []), step.id]);

  // Priority: the longest path from a step to the end of the pipeline (its "bottom level"),
  // weighted by expected durations when known. Steps on the critical path start first.
  const priority = new Map<string, number>();
  for (const level of [...plan.levels].reverse()) {
    for (const id of level) {
      const own = options.durationsMs?.[id] ?? 1;
      priority.set(id, own + Math.max(0, ...(dependents.get(id) ?? []).map((d) => priority.get(d) ?? 0)));
    }
  }
  const byPriority = (a: PlanNode, b: PlanNode): number => (priority.get(b.stepId) ?? 0) - (priority.get(a.stepId) ?? 0);

  emit({ type: 'run-start', runId, pipeline: plan.pipeline.name, invocations: plan.nodes.map((n) => n.id), at: Date.now() });

  if (options.dryRun) {
    for (const node of plan.nodes) {
      records[node.id] = { id: node.id, stepId: node.stepId, outcome: 'skipped', attempts: 0, durationMs: 0, outputs: {}, summaries: [], reason: 'dry run' };
      emit({ type: 'step-end', id: node.id, stepId: node.stepId, outcome: 'skipped', reason: 'dry run', attempts: 0, durationMs: 0, at: Date.now() });
    }
    const durationMs = performance.now() - started;
    emit({ type: 'run-end', runId, outcome: 'success', durationMs, at: Date.now() });
    return { runId, outcome: 'success', exitCode: ExitCode.ok, durationMs, invocations: records };
  }

  let running = 0;
  let recorded = 0;
  let failFastBy: string | undefined; // the invocation whose failure stopped the run
  const activeAttempts = new Set<AbortController>();
  const ready: PlanNode[] = [];
  // Outputs of each step's latest success, for a later `--only`: written in the background, in
  // batches 50 ms after a step has succeeded (while the steps it let start are running), and
  // awaited at the end. No file I/O sits between a step and its dependents, and little at the end
  // (writing 200 steps' files there took 60–400 ms here).
  const toRecord: StepState[] = [];
  const recording: Promise<void>[] = [];
  let recordTimer: NodeJS.Timeout | undefined;
  const recordOutputs = (): void => {
    if (toRecord.length > 0 && !recordTimer) recordTimer = setTimeout(flushOutputs, 50);
  };
  const flushOutputs = (): void => {
    clearTimeout(recordTimer);
    recordTimer = undefined;
    if (toRecord.length === 0) return;
    const batch = Object.fromEntries(toRecord.splice(0).map((s) => [s.step.id, shown(s.outputs)]));
    recording.push(recordStepOutputs(options.stateDir, batch).catch(() => undefined));
  };
  let finish!: () => void;
  const allDone = new Promise<void>((resolve) => (finish = resolve));

  const onUserAbort = (): void => {
    for (const controller of activeAttempts) controller.abort(userSignal.reason ?? new Error('cancelled'));
    schedule();
  };
  userSignal.addEventListener('abort', onUserAbort, { once: true });

  const needConclusion = (stepId: string): StepConclusion => (restoredOutputs.has(stepId) ? 'success' : (states.get(stepId)?.conclusion ?? 'skipped'));
  const concludedOk = (stepId: string): boolean => {
    const c = needConclusion(stepId);
    return c === 'success' || (c === 'failure' && states.get(stepId)!.step.continueOnError);
  };

  function expressionContext(node: PlanNode, status: ExpressionContext['status']): ExpressionContext {
    const steps: Record<string, { outputs: Readonly<Record<string, string>>; outcome: string }> = {};
    for (const need of node.step.needs) {
      const state = states.get(need);
      steps[need] = { outputs: restoredOutputs.get(need) ?? state?.outputs ?? {}, outcome: needConclusion(need) };
    }
    return { env: processEnv, matrix: node.matrix ?? {}, steps, ci, status };
  }

  function statusFor(node: PlanNode): Required<ExpressionContext['status']> {
    const needs = node.step.needs;
    const failed = failFastBy !== undefined || needs.some((n) => needConclusion(n) === 'failure' && !states.get(n)?.step.continueOnError);
    const succeeded = failFastBy === undefined && !userSignal.aborted && needs.every(concludedOk);
    return { failed, cancelled: userSignal.aborted, succeeded };
  }

  /** Whether a ready node should run now; otherwise why not. */
  function decide(node: PlanNode): { run: true } | { run: false; reason: string } {
    if (userSignal.aborted) return { run: false, reason: 'the run was cancelled' };
    const status = statusFor(node);
    const condition = node.step.if;
    if (condition !== undefined) {
      const ctx = expressionContext(node, status);
      let yes: boolean;
      try {
        yes = evaluateCondition(condition, ctx);
      } catch (error) {
        return { run: false, reason: `if: could not be evaluated: ${(error as Error).message}` };
      }
      if (yes) return { run: true };
      if (!status.succeeded && !conditionUsesStatus(condition)) return { run: false, reason: skipReason(node) };
      return { run: false, reason: `if: ${condition} was false` };
    }
    return status.succeeded ? { run: true } : { run: false, reason: skipReason(node) };
  }

  function skipReason(node: PlanNode): string {
    const bad = node.step.needs.find((n) => !concludedOk(n));
    if (bad) {
      const c = needConclusion(bad);
      return `needs ${bad}, which ${c === 'failure' ? 'failed' : c === 'cancelled' ? 'was cancelled' : 'was skipped'}`;
    }
    if (failFastBy) return `the run stopped after ${failFastBy} failed (fail-fast; --keep-going lets independent steps finish)`;
    return 'not run';
  }

  function record(node: PlanNode, rec: InvocationRecord): void {
    records[node.id] = rec;
    recorded += 1;
    const state = states.get(node.stepId)!;
    state.outcomes.push(rec.outcome);
    state.remaining -= 1;
    if (state.remaining === 0) {
      // merge matrix instances' outputs in matrix order (not completion order), so the result is deterministic
      for (const n of state.nodes) Object.assign(state.outputs, records[n.id]?.outputs);
      state.conclusion = aggregate(state.outcomes);
      for (const dep of dependents.get(node.stepId) ?? []) maybeReady(dep);
      if (state.conclusion === 'success' && state.outcomes.includes('success')) toRecord.push(state);
    }
    if (recorded === plan.nodes.length) finish();
  }

  function skip(node: PlanNode, reason: string): void {
    emit({ type: 'step-end', id: node.id, stepId: node.stepId, outcome: 'skipped', reason, attempts: 0, durationMs: 0, at: Date.now() });
    record(node, { id: node.id, stepId: node.stepId, outcome: 'skipped', attempts: 0, durationMs: 0, outputs: {}, summaries: [], reason });
  }

  function maybeReady(stepId: string): void {
    const state = states.get(stepId)!;
    if (state.step.needs.every((n) => !states.has(n) || states.get(n)!.conclusion !== undefined)) {
      ready.push(...state.nodes);
      ready.sort(byPriority); // stable: equal priorities keep file order
    }
  }

  // Invocations whose ends reach this process together (one read of a helper's messages) are all
  // recorded before any dependents start, so the most urgent of those dependents starts first.
  let scheduling = false;
  function scheduleSoon(): void {
    if (scheduling) return;
    scheduling = true;
    setImmediate(() => {
      scheduling = false;
      schedule();
      recordOutputs(); // after the dependents have been started
    });
  }

  function schedule(): void {
    // skip what must not run, start what may, within the limits; bounded by the queue length
    for (let i = 0; i < ready.length; ) {
      const node = ready[i]!;
      const decision = decide(node);
      if (!decision.run) {
        ready.splice(i, 1);
        skip(node, decision.reason);
        continue;
      }
      const state = states.get(node.stepId)!;
      const stepLimit = node.step.matrix?.maxParallel ?? Infinity;
      if (running >= maxParallel) break;
      if (state.running >= stepLimit) {
        i += 1;
        continue;
      }
      ready.splice(i, 1);
      running += 1;
      state.running += 1;
      void execute(node).then((rec) => {
        running -= 1;
        state.running -= 1;
        record(node, rec);
        scheduleSoon();
      });
    }
  }

  function logger(node: PlanNode): StepLogger {
    const line = (stream: 'stdout' | 'stderr' | 'log', level: 'debug' | 'info' | 'warn' | 'error') => (text: string) =>
      emit({ type: 'step-log', id: node.id, stream, level, line: text, at: Date.now() });
    return { debug: line('log', 'debug'), info: line('stdout', 'info'), warn: line('stderr', 'warn'), error: line('log', 'error') };
  }

  async function execute(node: PlanNode): Promise<InvocationRecord> {
    const step = node.step;
    const startedAt = new Date().toISOString();
    const t0 = performance.now();
    const base = { id: node.id, stepId: node.stepId, startedAt, summaries: [] as string[] };
    const fail = (outcome: InvocationOutcome, attempts: number, error: InvocationRecord['error'], outputs: Record<string, string> = {}, summaries: string[] = []): InvocationRecord => {
      const rec: InvocationRecord = { ...base, outcome, attempts, durationMs: performance.now() - t0, outputs, summaries, ...(error ? { error } : {}) };
      emit({ type: 'step-end', id: node.id, stepId: node.stepId, outcome, attempts, durationMs: rec.durationMs, at: Date.now(), ...(error ? { reason: error.message } : {}), result: { status: outcome === 'success' ? 'success' : outcome === 'timed-out' ? 'timed-out' : outcome === 'cancelled' ? 'cancelled' : 'failure', outputs: shown(outputs), durationMs: rec.durationMs, summaries, ...(error ? { error } : {}) } });
      if ((outcome === 'failure' || outcome === 'timed-out') && !step.continueOnError && !options.keepGoing && failFastBy === undefined) {
        failFastBy = node.id;
        for (const controller of activeAttempts) controller.abort(new Error(`fail-fast: ${node.id} failed`));
      }
      return rec;
    };

    // resolve expressions against upstream outputs, matrix values and env
    let invocation: StepInvocation;
    try {
      invocation = buildInvocation(plan.pipeline, node, expressionContext(node, statusFor(node)));
    } catch (error) {
      // an output nobody wrote (step.output-missing) keeps its own code and hint
      const known = error instanceof ShipgateError ? error : undefined;
      return fail('failure', 0, { code: known?.code ?? 'step.expression', message: `could not resolve an expression: ${(error as Error).message}`, hint: known?.hint ?? 'check the ${{ }} expressions of this step' });
    }

    const executorName = step.executor ?? plan.pipeline.executor ?? 'local';
    const executor = executors[executorName];
    if (!executor) {
      return fail('failure', 0, { code: 'executor.unknown', message: `no executor "${executorName}" is configured for this run`, hint: `available: ${Object.keys(executors).join(', ')}` });
    }

    // the cache
    let cacheKey: string | undefined;
    let cacheFiles = 0;
    const cacheCwd = path.resolve(plan.pipeline.root, invocation.workingDirectory);
    if (step.cache && !options.noCache) {
      const upstream: Record<string, Record<string, string>> = {};
      for (const need of step.needs) upstream[need] = restoredOutputs.get(need) ?? states.get(need)?.outputs ?? {};
      try {
        const computed = await computeCacheKey({
          uses: invocation.uses,
          with: invocation.with,
          workingDirectory: invocation.workingDirectory,
          matrix: node.matrix,
          env: invocation.env,
          upstream,
          inputs: step.cache.inputs,
          ...(step.cache.outputs ? { outputs: step.cache.outputs } : {}),
          cwd: cacheCwd,
        });
        cacheKey = computed.key;
        cacheFiles = computed.files;
        for (const glob of computed.unmatched) logger(node).warn(`cache: inputs glob "${glob}" matched no file`);
        const hit = await cache.lookup(node.stepId, cacheKey, node.id, cacheCwd, logger(node));
        if (hit) {
          const durationMs = performance.now() - t0;
          const files = hit.written + hit.unchanged;
          const reason = `inputs unchanged since ${hit.entry.at}${hit.from === 'shared' ? ' (shared cache)' : ''}${files > 0 ? `; ${files} output files restored (${hit.written} copied back)` : ''}`;
          emit({ type: 'step-end', id: node.id, stepId: node.stepId, outcome: 'cached', reason, attempts: 0, durationMs, at: Date.now(), result: { status: 'success', outputs: hit.entry.outputs, durationMs, summaries: [] } });
          return { ...base, outcome: 'cached', attempts: 0, durationMs, outputs: hit.entry.outputs, reason };
        }
      } catch (error) {
        logger(node).warn(`cache: could not compute the key (${(error as Error).message}); running the step`);
        cacheKey = undefined;
      }
    }

    const maxAttempts = step.retries + 1;
    let result: InvocationResult | undefined;
    let attempt = 0;
    for (attempt = 1; attempt <= maxAttempts; attempt += 1) {
      if (userSignal.aborted || failFastBy !== undefined && !(step.if && conditionUsesStatus(step.if))) {
        if (attempt === 1) return fail('cancelled', 0, undefined);
        break;
      }
      const controller = new AbortController();
      activeAttempts.add(controller);
      const signal = step.timeoutMs === undefined ? controller.signal : AbortSignal.any([controller.signal, AbortSignal.timeout(step.timeoutMs)]);
      emit({ type: 'step-start', id: node.id, stepId: node.stepId, attempt, at: Date.now() });
      try {
        result = await executor.execute(invocation, {
          workspace: plan.pipeline.root,
          stateDir: path.join(options.stateDir, 'state'),
          ci,
          signal,
          logger: logger(node),
          secrets,
          env: processEnv,
          runId,
        });
      } catch (error) {
        result = { status: 'failure', outputs: {}, durationMs: 0, summaries: [], error: { code: 'executor.error', message: `executor ${executorName} failed: ${(error as Error).message}` } };
      } finally {
        activeAttempts.delete(controller);
      }
      if (result.status === 'success' || result.status === 'cancelled' || attempt === maxAttempts) break;
      const delayMs = Math.min(30_000, (options.retryBaseDelayMs ?? 1000) * 2 ** (attempt - 1) * (0.5 + Math.random()));
      emit({ type: 'step-retry', id: node.id, attempt: attempt + 1, delayMs, reason: result.error?.message ?? result.status, at: Date.now() });
      await sleep(delayMs, userSignal);
    }
    const attempts = Math.min(attempt, maxAttempts);
    if (!result) return fail('cancelled', attempts, undefined);
    if (result.status !== 'success') {
      const outcome: InvocationOutcome = result.status === 'timed-out' ? 'timed-out' : result.status === 'cancelled' ? 'cancelled' : 'failure';
      const error = result.error ?? (outcome === 'timed-out' ? { code: 'step.timeout', message: `timed out after ${step.timeoutMs} ms`, hint: 'raise timeout: or make the step faster' } : undefined);
      return fail(outcome, attempts, outcome === 'cancelled' ? undefined : error, { ...result.outputs }, [...result.summaries]);
    }

    const durationMs = performance.now() - t0;
    const outputs = { ...result.outputs };
    const missing = step.outputs.filter((name) => !(name in outputs));
    if (missing.length) logger(node).warn(`declared outputs not set: ${missing.join(', ')}`);
    const holdsSecret = Object.entries(shown(outputs)).some(([k, v]) => v !== outputs[k]);
    if (cacheKey && holdsSecret) logger(node).warn('cache: not recording this success, because an output holds a secret');
    if (cacheKey && !holdsSecret) {
      await cache.save(node.stepId, { key: cacheKey, invocation: node.id, outputs, at: new Date().toISOString(), files: cacheFiles }, cacheCwd, step.cache?.outputs, logger(node)).catch((error: Error) =>
        logger(node).warn(`cache: could not record this success (${error.message})`),
      );
    }
    emit({ type: 'step-end', id: node.id, stepId: node.stepId, outcome: 'success', attempts, durationMs, at: Date.now(), result: { ...result, outputs: shown(outputs) } });
    return { ...base, outcome: 'success', attempts, durationMs, outputs, summaries: [...result.summaries] };
  }

  // roots first
  for (const step of plan.steps) if (step.needs.every((n) => !states.has(n))) ready.push(...states.get(step.id)!.nodes);
  ready.sort(byPriority);
  if (plan.nodes.length === 0) finish();
  schedule();
  await allDone;
  userSignal.removeEventListener('abort', onUserAbort);

  flushOutputs();
  await Promise.all(recording);
  await cache.flush(); // write-behind uploads of the shared cache, each bounded in time

  const durationMs = performance.now() - started;
  const failed = Object.values(records).some((r) => (r.outcome === 'failure' || r.outcome === 'timed-out') && !states.get(r.stepId)!.step.continueOnError);
  const outcome = userSignal.aborted ? 'cancelled' : failed ? 'failure' : 'success';
  emit({ type: 'run-end', runId, outcome, durationMs, at: Date.now() });
  return {
    runId,
    outcome,
    exitCode: outcome === 'cancelled' ? ExitCode.interrupted : outcome === 'failure' ? ExitCode.failed : ExitCode.ok,
    durationMs,
    invocations: records,
  };
}

// The scheduler's I/O shell: it feeds the machine (machine.ts) what happens — attempts ending,
// cache answers, retry timers, Ctrl-C — and carries out its decisions with the executors, the step
// cache, timers and AbortSignals, telling listeners as it goes. Every choice of what runs when is
// the machine's; the driver only measures time and does the I/O.
import path from 'node:path';
import type { CiContext, Executor, InvocationResult, StepLogger } from '@shipgate/protocol';
import type { StepCache } from '../cache/step-cache.js';
import type { PlanNode } from '../plan/plan.js';
import { lookUpCache, recordSuccess } from './cache-io.js';
import type { RunEvent } from './events.js';
import { next, type Decision, type SchedulerEvent } from './machine.js';
import { OutputRecorder } from './output-recorder.js';
import { finishedRecord, skippedRecord, type InvocationRecord, type StartedInvocation } from './records.js';
import type { AttemptStatus, SchedulerState } from './state.js';

export interface DriverSetup {
  runId: string;
  /** The machine's state at the start of the run. */
  state: SchedulerState;
  executors: Readonly<Record<string, Executor>>;
  cache: StepCache;
  /** Absolute `.shipgate` directory. */
  stateDir: string;
  env: Readonly<Record<string, string>>;
  ci: CiContext;
  secrets: Set<string>;
  /** Outputs as reports may show them: a secret inside a value is masked. */
  mask: (outputs: Readonly<Record<string, string>>) => Record<string, string>;
  signal: AbortSignal;
  emit: (event: RunEvent) => void;
}

type DecisionOf<T extends Decision['type']> = Extract<Decision, { type: T }>;
type RunOutcome = DecisionOf<'finish-run'>['outcome'];

export class SchedulerDriver {
  #state: SchedulerState;
  readonly #records: Record<string, InvocationRecord> = {};
  readonly #started = new Map<string, StartedInvocation>();
  readonly #inbox: SchedulerEvent[] = [];
  readonly #outputs: OutputRecorder;
  #feeding = false;
  #dispatchQueued = false;
  #finishRun: (outcome: RunOutcome) => void = () => undefined;

  constructor(private readonly setup: DriverSetup) {
    this.#state = setup.state;
    this.#outputs = new OutputRecorder(setup.stateDir, setup.mask);
  }

  /** Runs the plan to its end; every started process has ended and every write is done when it resolves. */
  async run(): Promise<{ outcome: RunOutcome; invocations: Record<string, InvocationRecord> }> {
    const { signal } = this.setup;
    const finished = new Promise<RunOutcome>((resolve) => (this.#finishRun = resolve));
    const onAbort = (): void => this.#feed({ type: 'cancel-requested' });
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) this.#feed({ type: 'cancel-requested' });
    this.#feed({ type: 'run-started' });
    const outcome = await finished;
    signal.removeEventListener('abort', onAbort);
    await this.#outputs.settle();
    await this.setup.cache.flush(); // write-behind uploads of the shared cache, each bounded in time
    return { outcome: signal.aborted ? 'cancelled' : outcome, invocations: this.#records };
  }

  /**
   * Hands an event to the machine and carries out its decisions. An event raised while decisions
   * are being carried out (a listener aborting the run, say) waits its turn, so the machine always
   * decides on a state whose decisions have all been done.
   */
  #feed(event: SchedulerEvent): void {
    this.#inbox.push(event);
    if (this.#feeding) return;
    this.#feeding = true;
    try {
      for (let queued = this.#inbox.shift(); queued; queued = this.#inbox.shift()) {
        const { state, decisions } = next(this.#state, queued);
        this.#state = state;
        for (const decision of decisions) this.#carryOut(decision);
      }
    } finally {
      this.#feeding = false;
    }
  }

  #carryOut(decision: Decision): void {
    switch (decision.type) {
      case 'start':
        return this.#start(decision);
      case 'look-up-cache':
        return void this.#lookUpCache(decision);
      case 'attempt':
        return void this.#attempt(decision);
      case 'retry':
        return this.#retryLater(decision);
      case 'skip':
        return this.#skip(decision);
      case 'finish':
        return this.#finish(decision);
      case 'cancel-attempts':
        return this.#cancelAttempts(decision);
      case 'record-outputs':
        return this.#outputs.add(decision.stepId, decision.outputs);
      case 'finish-run':
        return this.#finishRun(decision.outcome);
    }
  }

  /**
   * Invocations whose ends reach this process together (one read of a helper's messages) are all
   * in before anything starts, so the most urgent of the steps they let start starts first.
   */
  #dispatchSoon(): void {
    if (this.#dispatchQueued) return;
    this.#dispatchQueued = true;
    setImmediate(() => {
      this.#dispatchQueued = false;
      this.#feed({ type: 'dispatch' });
      this.#outputs.writeSoon(); // after the dependents have been started
    });
  }

  #begin(id: string): StartedInvocation {
    const node = this.#state.invocations.get(id)!.node;
    const run: StartedInvocation = { node, t0: performance.now(), startedAt: new Date().toISOString(), logger: this.#logger(node) };
    this.#started.set(id, run);
    return run;
  }

  #start(decision: DecisionOf<'start'>): void {
    const run = this.#begin(decision.id);
    run.invocation = decision.invocation;
    run.executor = decision.executor;
  }

  async #lookUpCache(decision: DecisionOf<'look-up-cache'>): Promise<void> {
    const run = this.#started.get(decision.id)!;
    const hit = await lookUpCache(this.setup.cache, run, this.#state.plan.pipeline.root, decision.upstream);
    this.#feed(hit ? { type: 'cache-hit', id: decision.id, outputs: run.cacheHit!.outputs } : { type: 'cache-miss', id: decision.id });
  }

  async #attempt(decision: DecisionOf<'attempt'>): Promise<void> {
    const run = this.#started.get(decision.id)!;
    const { node } = run;
    const controller = new AbortController();
    run.controller = controller;
    const timeoutMs = node.step.timeoutMs;
    const signal = timeoutMs === undefined ? controller.signal : AbortSignal.any([controller.signal, AbortSignal.timeout(timeoutMs)]);
    this.setup.emit({ type: 'step-start', id: node.id, stepId: node.stepId, attempt: decision.attempt, at: Date.now() });
    const result = await this.#execute(run, signal);
    run.controller = undefined;
    run.result = result;
    const outputs = { ...result.outputs };
    if (result.status === 'success') {
      run.durationMs = performance.now() - run.t0;
      await recordSuccess(this.setup.cache, run, outputs, this.setup.mask);
    }
    const status: AttemptStatus = result.status === 'success' || result.status === 'timed-out' || result.status === 'cancelled' ? result.status : 'failure';
    this.#feed({ type: 'attempt-ended', id: node.id, status, outputs, random: Math.random() });
  }

  async #execute(run: StartedInvocation, signal: AbortSignal): Promise<InvocationResult> {
    const { runId, env, ci, secrets, stateDir } = this.setup;
    const name = run.executor!;
    try {
      const environment = { workspace: this.#state.plan.pipeline.root, stateDir: path.join(stateDir, 'state'), ci, signal, logger: run.logger, secrets, env, runId };
      return await this.setup.executors[name]!.execute(run.invocation!, environment);
    } catch (error) {
      return { status: 'failure', outputs: {}, durationMs: 0, summaries: [], error: { code: 'executor.error', message: `executor ${name} failed: ${(error as Error).message}` } };
    }
  }

  #retryLater(decision: DecisionOf<'retry'>): void {
    const run = this.#started.get(decision.id)!;
    const reason = run.result?.error?.message ?? run.result?.status ?? 'failure';
    this.setup.emit({ type: 'step-retry', id: decision.id, attempt: decision.attempt, delayMs: decision.delayMs, reason, at: Date.now() });
    run.retryTimer = setTimeout(() => this.#feed({ type: 'retry-due', id: decision.id }), decision.delayMs);
  }

  #skip(decision: DecisionOf<'skip'>): void {
    const { record, event } = skippedRecord(this.#state.invocations.get(decision.id)!.node, decision.reason, Date.now());
    this.setup.emit(event);
    this.#records[decision.id] = record;
  }

  #finish(decision: DecisionOf<'finish'>): void {
    // an invocation that could not be built finishes without having started
    const run = this.#started.get(decision.id) ?? this.#begin(decision.id);
    clearTimeout(run.retryTimer);
    this.#started.delete(decision.id);
    const { record, event } = finishedRecord(run, decision, this.setup.mask, { ms: performance.now(), at: Date.now() });
    this.setup.emit(event);
    this.#records[decision.id] = record;
    this.#dispatchSoon();
  }

  #cancelAttempts(decision: DecisionOf<'cancel-attempts'>): void {
    const { cause } = decision;
    const reason = cause.kind === 'fail-fast' ? new Error(`fail-fast: ${cause.failedBy} failed`) : (this.setup.signal.reason ?? new Error('cancelled'));
    for (const id of decision.ids) this.#started.get(id)?.controller?.abort(reason);
  }

  #logger(node: PlanNode): StepLogger {
    const line = (stream: 'stdout' | 'stderr' | 'log', level: 'debug' | 'info' | 'warn' | 'error') => (text: string) =>
      this.setup.emit({ type: 'step-log', id: node.id, stream, level, line: text, at: Date.now() });
    return { debug: line('log', 'debug'), info: line('stdout', 'info'), warn: line('stderr', 'warn'), error: line('log', 'error') };
  }
}

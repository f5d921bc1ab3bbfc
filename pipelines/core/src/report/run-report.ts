// The machine-readable record of a run: built from the engine's events (so it is the same whatever
// the executor), written as .shipgate/report.json and rendered as JUnit XML for CI test views.
import type { InvocationOutcome, RunEvent } from '../scheduler/events.js';
import type { InvocationRecord } from '../scheduler/run-pipeline.js';

/** An invocation as the engine records it, plus the tail of what it printed. */
export interface InvocationReport extends InvocationRecord {
  /** The last lines the invocation printed (for failure messages and JUnit). */
  logTail: string[];
  /** When it ended (also when it was skipped or cached); absent in reports of older versions. */
  endedAt?: string;
  /** The steps it needed, so a report can show queue times and the run's critical path. */
  needs?: string[];
  /** How long it waited for a free slot after its needs were done (ms); absent when it never started. */
  queueMs?: number;
  /** Its whole log, relative to the directory of report.json (absent when it printed nothing). */
  logFile?: string;
}

export interface RunReport {
  schemaVersion: 1;
  runId: string;
  pipeline: string;
  startedAt: string;
  durationMs: number;
  outcome: 'success' | 'failure' | 'cancelled' | 'running';
  counts: Record<InvocationOutcome, number>;
  invocations: InvocationReport[];
  /** The most invocations the run let run at once (`-j`); absent in reports of older versions. */
  maxParallel?: number;
}

/** What the engine's events do not carry: the DAG, the slot count and where the logs went. */
export interface RunReportOptions {
  /** Step id → the step ids it needs. */
  needs?: Readonly<Record<string, readonly string[]>>;
  maxParallel?: number;
  /** The log file of an invocation, relative to the report's directory, if one was written. */
  logFileOf?: (invocationId: string) => string | undefined;
}

const tailLines = 50;
/** Longer lines are cut in the tail (a minified bundle in a stack trace is one line of 300 kB); the log file keeps them whole. */
export const tailLineChars = 2000;

/** A line cut to `max` characters, saying how much is left out. */
export function clipLine(line: string, max = tailLineChars): string {
  return line.length <= max ? line : `${line.slice(0, max)} … [${line.length - max} more characters in the full log]`;
}

/** Folds events into a RunReport. Feed it every event; read `report` at any time. */
export class RunReportBuilder {
  readonly #invocations = new Map<string, InvocationReport>();
  readonly #options: RunReportOptions;
  #report: Omit<RunReport, 'invocations' | 'counts'> = {
    schemaVersion: 1,
    runId: '',
    pipeline: '',
    startedAt: new Date(0).toISOString(),
    durationMs: 0,
    outcome: 'running',
  };

  constructor(options: RunReportOptions = {}) {
    this.#options = options;
    if (options.maxParallel !== undefined) this.#report.maxParallel = options.maxParallel;
  }

  readonly onEvent = (event: RunEvent): void => {
    switch (event.type) {
      case 'run-start':
        this.#report = { ...this.#report, runId: event.runId, pipeline: event.pipeline, startedAt: new Date(event.at).toISOString() };
        for (const id of event.invocations) this.#entry(id);
        break;
      case 'step-start': {
        const entry = this.#entry(event.id, event.stepId);
        entry.startedAt ??= new Date(event.at).toISOString();
        entry.attempts = event.attempt;
        break;
      }
      case 'step-log': {
        const entry = this.#entry(event.id);
        entry.logTail.push(clipLine(event.line));
        if (entry.logTail.length > tailLines) entry.logTail.splice(0, entry.logTail.length - tailLines);
        break;
      }
      case 'step-retry':
        break;
      case 'step-end': {
        const entry = this.#entry(event.id, event.stepId);
        entry.outcome = event.outcome;
        entry.attempts = event.attempts;
        entry.durationMs = event.durationMs;
        entry.endedAt = new Date(event.at).toISOString();
        // a cache hit (or a failure before the first attempt) has no step-start: it began when its work did
        if (entry.startedAt === undefined && event.outcome !== 'skipped') entry.startedAt = new Date(event.at - event.durationMs).toISOString();
        if (event.reason !== undefined) entry.reason = event.reason;
        if (event.result) {
          entry.outputs = { ...event.result.outputs };
          entry.summaries = [...event.result.summaries];
          if (event.result.error) entry.error = { ...event.result.error };
        }
        break;
      }
      case 'run-end':
        this.#report = { ...this.#report, outcome: event.outcome, durationMs: event.durationMs };
        break;
    }
  };

  get report(): RunReport {
    const invocations = [...this.#invocations.values()].map((i) => this.#withDerived({ ...i, logTail: [...i.logTail] }));
    addQueueTimes(invocations, Date.parse(this.#report.startedAt));
    const counts: Record<InvocationOutcome, number> = { success: 0, failure: 0, cancelled: 0, 'timed-out': 0, skipped: 0, cached: 0 };
    for (const i of invocations) counts[i.outcome] += 1;
    return { ...this.#report, counts, invocations };
  }

  #withDerived(entry: InvocationReport): InvocationReport {
    const needs = this.#options.needs?.[entry.stepId];
    if (needs) entry.needs = [...needs];
    const logFile = this.#options.logFileOf?.(entry.id);
    if (logFile !== undefined) entry.logFile = logFile;
    return entry;
  }

  #entry(id: string, stepId?: string): InvocationReport {
    let entry = this.#invocations.get(id);
    if (!entry) {
      entry = { id, stepId: stepId ?? id.replace(/\[.*$/, ''), outcome: 'skipped', attempts: 0, durationMs: 0, outputs: {}, summaries: [], logTail: [] };
      this.#invocations.set(id, entry);
    }
    return entry;
  }
}

/**
 * Queue time: from the moment an invocation could start (the run began and every invocation of
 * the steps it needs had ended) to its start. It is what `-j` or a matrix's `max-parallel` cost.
 */
function addQueueTimes(invocations: InvocationReport[], runStartMs: number): void {
  const lastEndOfStep = new Map<string, number>();
  for (const i of invocations) {
    if (i.endedAt === undefined) continue;
    lastEndOfStep.set(i.stepId, Math.max(lastEndOfStep.get(i.stepId) ?? 0, Date.parse(i.endedAt)));
  }
  for (const i of invocations) {
    if (i.startedAt === undefined || i.needs === undefined) continue;
    const readyAt = Math.max(runStartMs, ...i.needs.map((n) => lastEndOfStep.get(n) ?? 0));
    i.queueMs = Math.max(0, Date.parse(i.startedAt) - readyAt);
  }
}

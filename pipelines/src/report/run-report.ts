// The machine-readable record of a run: built from the engine's events (so it is the same whatever
// the executor), written as .shipgate/report.json and rendered as JUnit XML for CI test views.
import type { InvocationOutcome, RunEvent } from '../engine/events.js';
import type { InvocationRecord } from '../engine/run.js';

/** An invocation as the engine records it, plus the tail of what it printed. */
export interface InvocationReport extends InvocationRecord {
  /** The last lines the invocation printed (for failure messages and JUnit). */
  logTail: string[];
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
}

const tailLines = 50;

/** Folds events into a RunReport. Feed it every event; read `report` at any time. */
export class RunReportBuilder {
  readonly #invocations = new Map<string, InvocationReport>();
  #report: Omit<RunReport, 'invocations' | 'counts'> = {
    schemaVersion: 1,
    runId: '',
    pipeline: '',
    startedAt: new Date(0).toISOString(),
    durationMs: 0,
    outcome: 'running',
  };

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
        entry.logTail.push(event.line);
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
    const invocations = [...this.#invocations.values()].map((i) => ({ ...i, logTail: [...i.logTail] }));
    const counts: Record<InvocationOutcome, number> = { success: 0, failure: 0, cancelled: 0, 'timed-out': 0, skipped: 0, cached: 0 };
    for (const i of invocations) counts[i.outcome] += 1;
    return { ...this.#report, counts, invocations };
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

// A run report as a timeline: every invocation's offset from the run's start, the chain of
// invocations that decided the wall time (the run's critical path) and the figures people ask for
// first (how long, how long the critical path was, how well the slots were used). Pure: the HTML
// report and the Markdown Gantt chart both draw from it.
import type { InvocationOutcome } from '../scheduler/events.js';
import type { InvocationReport, RunReport } from './run-report.js';

export interface TimelineRow {
  invocation: InvocationReport;
  /** Offsets from the run's start (ms); undefined when it never started (skipped). */
  startMs?: number;
  endMs?: number;
  /** When its needs were done, so the wait before `startMs` can be drawn. */
  readyMs?: number;
  retries: number;
  critical: boolean;
}

export interface Timeline {
  rows: TimelineRow[];
  wallMs: number;
  /** Invocation ids of the critical path, first to last. */
  criticalPath: string[];
  /** Sum of the durations along the critical path. */
  criticalPathMs: number;
  /** Sum of every invocation's duration. */
  busyMs: number;
  /** The slots the run could use: `-j`, but no more than the invocations that ran (else the most that ran at once). */
  parallelism: number;
  /** busyMs / (wallMs × parallelism), 0–1; undefined for a run of no time. */
  efficiency?: number;
}

/** Outcomes that occupied a slot. */
const ran: ReadonlySet<InvocationOutcome> = new Set(['success', 'failure', 'timed-out', 'cancelled', 'cached']);

function offset(iso: string | undefined, origin: number): number | undefined {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : Math.max(0, t - origin);
}

/** The most intervals open at one time (a sweep over starts and ends). */
function peakConcurrency(rows: readonly TimelineRow[]): number {
  const edges: [number, number][] = [];
  for (const r of rows) if (r.startMs !== undefined && r.endMs !== undefined) edges.push([r.startMs, 1], [r.endMs, -1]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]); // an end before a start at the same instant
  let open = 0;
  let peak = 0;
  for (const [, delta] of edges) {
    open += delta;
    peak = Math.max(peak, open);
  }
  return peak;
}

/**
 * The chain that ended last: start from the invocation that finished last, then repeatedly step
 * back to the invocation of its needed steps that finished last. Without `needs` in the report
 * (older versions) the path is that one invocation.
 */
export function runCriticalPath(rows: readonly TimelineRow[]): string[] {
  const timed = rows.filter((r) => r.endMs !== undefined && r.startMs !== undefined);
  const latest = (candidates: readonly TimelineRow[]): TimelineRow | undefined =>
    candidates.reduce<TimelineRow | undefined>((best, r) => (best === undefined || r.endMs! > best.endMs! ? r : best), undefined);
  const path: string[] = [];
  let current = latest(timed);
  for (let guard = 0; current && guard <= rows.length; guard += 1) {
    path.unshift(current.invocation.id);
    const needs = new Set(current.invocation.needs ?? []);
    const before = current.startMs!;
    current = latest(timed.filter((r) => needs.has(r.invocation.stepId) && r.endMs! <= before + 1));
  }
  return path;
}

export function buildTimeline(report: RunReport): Timeline {
  const origin = Date.parse(report.startedAt);
  const rows: TimelineRow[] = report.invocations.map((invocation) => {
    const startMs = offset(invocation.startedAt, origin);
    const endMs = startMs === undefined ? undefined : Math.max(startMs, offset(invocation.endedAt, origin) ?? startMs + invocation.durationMs);
    const row: TimelineRow = { invocation, retries: Math.max(0, invocation.attempts - 1), critical: false };
    if (startMs !== undefined) row.startMs = startMs;
    if (endMs !== undefined) row.endMs = endMs;
    if (startMs !== undefined && invocation.queueMs !== undefined) row.readyMs = Math.max(0, startMs - invocation.queueMs);
    return row;
  });
  const wallMs = Math.max(report.durationMs, ...rows.map((r) => r.endMs ?? 0));
  const criticalPath = runCriticalPath(rows);
  const onPath = new Set(criticalPath);
  for (const r of rows) r.critical = onPath.has(r.invocation.id);
  const criticalPathMs = rows.filter((r) => r.critical).reduce((sum, r) => sum + r.invocation.durationMs, 0);
  const busyMs = rows.filter((r) => ran.has(r.invocation.outcome)).reduce((sum, r) => sum + r.invocation.durationMs, 0);
  const ranCount = rows.filter((r) => ran.has(r.invocation.outcome)).length;
  // -j 16 on a pipeline of three steps leaves 13 slots nothing could use: they are not waste
  const parallelism = Math.max(1, report.maxParallel === undefined ? peakConcurrency(rows) : Math.min(report.maxParallel, ranCount));
  const timeline: Timeline = { rows, wallMs, criticalPath, criticalPathMs, busyMs, parallelism };
  if (wallMs > 0) timeline.efficiency = Math.min(1, busyMs / (wallMs * parallelism));
  return timeline;
}

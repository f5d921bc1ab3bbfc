// Several runs' reports as one: the Jenkins library runs each step as its own `shipgate run
// --only <step>` (one report directory per branch), and an exported workflow runs one job per
// step; people still want one waterfall of the whole build. Pure: reports in, one report out, each
// invocation's log path rewritten to stay valid from the merged report's directory.
import type { InvocationOutcome } from '../scheduler/events.js';
import type { InvocationReport, RunReport } from './run-report.js';

export interface ReportToMerge {
  report: RunReport;
  /** The directory of that report relative to the merged one's (`lint`, `../unit`), `/`-separated. */
  relativeDir: string;
}

const worst: RunReport['outcome'][] = ['success', 'running', 'cancelled', 'failure'];

function joinRelative(dir: string, file: string): string {
  return dir === '' || dir === '.' ? file : `${dir.replace(/\/+$/, '')}/${file}`;
}

export function mergeRunReports(parts: readonly ReportToMerge[], pipeline?: string): RunReport {
  if (parts.length === 1 && parts[0]!.relativeDir === '.') return parts[0]!.report;
  const starts = parts.map((p) => Date.parse(p.report.startedAt)).filter((t) => !Number.isNaN(t));
  const start = starts.length ? Math.min(...starts) : 0;
  const end = Math.max(start, ...parts.map((p) => Date.parse(p.report.startedAt) + p.report.durationMs).filter((t) => !Number.isNaN(t)));
  const invocations: InvocationReport[] = [];
  const seen = new Set<string>();
  for (const { report, relativeDir } of parts) {
    for (const inv of report.invocations) {
      // a step restored from an earlier run appears in no other report; a repeated id keeps the first
      if (seen.has(inv.id)) continue;
      seen.add(inv.id);
      invocations.push({ ...inv, ...(inv.logFile ? { logFile: joinRelative(relativeDir, inv.logFile) } : {}) });
    }
  }
  const counts: Record<InvocationOutcome, number> = { success: 0, failure: 0, cancelled: 0, 'timed-out': 0, skipped: 0, cached: 0 };
  for (const i of invocations) counts[i.outcome] += 1;
  const outcome = parts.map((p) => p.report.outcome).reduce<RunReport['outcome']>((a, b) => (worst.indexOf(b) > worst.indexOf(a) ? b : a), 'success');
  return {
    schemaVersion: 1,
    runId: parts.map((p) => p.report.runId).filter(Boolean).join('+'),
    pipeline: pipeline ?? parts[0]?.report.pipeline ?? '',
    startedAt: new Date(start).toISOString(),
    durationMs: end - start,
    outcome,
    counts,
    // no maxParallel: runs side by side each had their own slots, so the page uses the peak concurrency
    invocations,
  };
}

// The DORA report as a small table for people: the CLI prints it, the Slack app's `/shipgate dora`
// puts it in a code block. One renderer, so both say the same.
import type { DoraReport, DurationSummary } from './dora.js';

/** 45s, 12m, 3h 05m, 2d 4h: two units at most, enough to compare. */
export function formatDoraDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

const summary = (d: DurationSummary | null) => (d ? `${formatDoraDuration(d.medianSeconds)} (p90 ${formatDoraDuration(d.p90Seconds)}, n=${d.count})` : '–');
const perDay = (n: number) => (n >= 1 ? `${n.toFixed(1)}/day` : n * 7 >= 1 ? `${(n * 7).toFixed(1)}/week` : `${(n * 30).toFixed(1)}/30d`);

/** Header and one row per service and environment, cells as text. */
export function doraTableRows(report: DoraReport): string[][] {
  const header = ['service', 'environment', 'deploys', 'frequency', 'lead time (median)', 'change failure', 'time to restore (median)'];
  return [
    header,
    ...report.groups.map((g) => [
      g.service,
      g.environment,
      String(g.deployments),
      perDay(g.deploymentsPerDay),
      summary(g.leadTime),
      g.changeFailureRate === null ? '–' : `${Math.round(g.changeFailureRate * 100)}% (${g.failures}/${g.changes})`,
      summary(g.timeToRestore) + (g.unrestored ? `, ${g.unrestored} not restored` : ''),
    ]),
  ];
}

/** The rows padded into aligned columns, one line each. */
export function formatDoraTable(report: DoraReport): string[] {
  const rows = doraTableRows(report);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

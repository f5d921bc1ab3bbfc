// The run as a Mermaid Gantt chart, for GitHub's job summary (GitHub renders ```mermaid blocks
// there). One task per invocation that ran, on the run's own time axis (milliseconds since the
// run's start, `dateFormat x`), grouped in one section per step; failures are `crit`, and the
// critical path is starred in the task names because Mermaid has no fourth task style.
import type { InvocationOutcome } from '../scheduler/events.js';
import type { RunReport } from './run-report.js';
import { buildTimeline } from './timeline.js';

/** Beyond this the chart is unreadable and the summary heavy; the HTML report has every row. */
export const ganttMaxTasks = 100;

const tag: Partial<Record<InvocationOutcome, string>> = { failure: 'crit', 'timed-out': 'crit', cancelled: 'active', cached: 'active' };

/**
 * Text Mermaid reads as a task or section name. `:` ends a task's name, `#` and `;` start comments
 * and statement breaks, and a newline ends the line; everything else is kept.
 */
export function ganttText(text: string): string {
  return text.replace(/[:;#]/g, (c) => ({ ':': '꞉', ';': ',', '#': '№' })[c]!).replace(/\s+/g, ' ').trim() || '-';
}

export function renderGantt(report: RunReport): string {
  const timeline = buildTimeline(report);
  const started = timeline.rows.filter((r) => r.startMs !== undefined && r.endMs !== undefined);
  const shown = started.slice().sort((a, b) => a.startMs! - b.startMs!).slice(0, ganttMaxTasks);
  const sections = new Map<string, string[]>();
  shown.forEach((r, n) => {
    const i = r.invocation;
    const name = `${r.critical ? '★ ' : ''}${ganttText(i.id)} (${i.outcome})`;
    const tags = [tag[i.outcome], `t${n}`].filter(Boolean).join(', ');
    // at least 1 ms, or Mermaid draws nothing for a cache hit
    const end = Math.max(r.endMs!, r.startMs! + 1);
    const lines = sections.get(i.stepId) ?? [];
    lines.push(`    ${name} :${tags}, ${Math.round(r.startMs!)}, ${Math.round(end)}`);
    sections.set(i.stepId, lines);
  });
  const out = ['gantt', `    title ${ganttText(report.pipeline)} — ${report.outcome}`, '    dateFormat x', '    axisFormat %M:%S'];
  for (const [step, lines] of sections) out.push(`    section ${ganttText(step)}`, ...lines);
  if (shown.length === 0) out.push('    section run', `    nothing ran :t0, 0, ${Math.max(1, Math.round(timeline.wallMs))}`);
  return out.join('\n');
}

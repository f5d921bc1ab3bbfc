// The run as Markdown: a table of invocations, a Mermaid Gantt chart of the run, where the HTML
// report is, and the summaries steps wrote. Appended to GitHub's job summary
// ($GITHUB_STEP_SUMMARY) when the run is under GitHub Actions.
import { appendFile } from 'node:fs/promises';
import { formatDuration } from './format.js';
import type { RunReport } from './run-report.js';
import { renderGantt } from './gantt.js';

export interface MarkdownSummaryOptions {
  /** Where report.html is (as people find it: a path in the workspace, an artifact name). */
  htmlReport?: string;
}

const icon: Record<string, string> = { success: '✅', cached: '♻️', failure: '❌', 'timed-out': '⏱️', cancelled: '⛔', skipped: '⏭️' };

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function renderMarkdownSummary(report: RunReport, options: MarkdownSummaryOptions = {}): string {
  const lines = [
    `### shipgate: ${cell(report.pipeline)} — ${report.outcome} in ${formatDuration(report.durationMs)}`,
    '',
    '| step | outcome | time | note |',
    '| --- | --- | --- | --- |',
    ...report.invocations.map((i) => `| \`${cell(i.id)}\` | ${icon[i.outcome] ?? ''} ${i.outcome} | ${formatDuration(i.durationMs)} | ${cell(i.error?.message ?? i.reason ?? '')} |`),
    '',
    '```mermaid',
    renderGantt(report),
    '```',
  ];
  if (options.htmlReport) lines.push('', `Waterfall, failures and every step's log: \`${cell(options.htmlReport)}\` (open it in a browser).`);
  for (const i of report.invocations) {
    if (i.summaries.length) lines.push('', `#### ${cell(i.id)}`, '', ...i.summaries);
  }
  return `${lines.join('\n')}\n`;
}

/** Appends the summary to the file GitHub Actions names in GITHUB_STEP_SUMMARY. */
export async function appendMarkdownSummary(file: string, report: RunReport, options: MarkdownSummaryOptions = {}): Promise<void> {
  await appendFile(file, renderMarkdownSummary(report, options));
}

// The run as Markdown: a table of invocations and the summaries steps wrote. Appended to GitHub's
// job summary ($GITHUB_STEP_SUMMARY) when the run is under GitHub Actions.
import { appendFile } from 'node:fs/promises';
import { formatDuration } from './format.js';
import type { RunReport } from './run-report.js';

const icon: Record<string, string> = { success: '✅', cached: '♻️', failure: '❌', 'timed-out': '⏱️', cancelled: '⛔', skipped: '⏭️' };

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function renderMarkdownSummary(report: RunReport): string {
  const lines = [
    `### shipgate: ${cell(report.pipeline)} — ${report.outcome} in ${formatDuration(report.durationMs)}`,
    '',
    '| step | outcome | time | note |',
    '| --- | --- | --- | --- |',
    ...report.invocations.map((i) => `| \`${cell(i.id)}\` | ${icon[i.outcome] ?? ''} ${i.outcome} | ${formatDuration(i.durationMs)} | ${cell(i.error?.message ?? i.reason ?? '')} |`),
  ];
  for (const i of report.invocations) {
    if (i.summaries.length) lines.push('', `#### ${cell(i.id)}`, '', ...i.summaries);
  }
  return `${lines.join('\n')}\n`;
}

/** Appends the summary to the file GitHub Actions names in GITHUB_STEP_SUMMARY. */
export async function appendMarkdownSummary(file: string, report: RunReport): Promise<void> {
  await appendFile(file, renderMarkdownSummary(report));
}

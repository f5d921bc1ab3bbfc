// The evaluation table, printed to the log and written to the run summary: every check per
// evaluation with its value, its limit and pass / fail.
import type { Evaluation, VerificationResult } from './verify.js';

function valueText(value: number | undefined): string {
  if (value === undefined) return '—';
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

const mark = { pass: 'pass', fail: 'FAIL', inconclusive: 'inconclusive' } as const;

function rows(evaluations: readonly Evaluation[]): string[][] {
  return evaluations.flatMap((e) => e.checks.map((c) => [String(e.index), `${(e.atMs / 1000).toFixed(1)}s`, c.name, valueText(c.value), c.limit, mark[c.status] + (c.reason && c.status !== 'pass' ? ` (${c.reason})` : '')]));
}

const header = ['#', 'at', 'check', 'value', 'limit', 'result'];

/** Aligned plain text for the log. */
export function renderEvaluationTable(evaluations: readonly Evaluation[]): string {
  const all = [header, ...rows(evaluations)];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** Markdown for the run summary (the GitHub job summary, the report). */
export function renderEvaluationMarkdown(title: string, result: VerificationResult): string {
  const lines = [`### ${title}: ${result.verdict}`, ''];
  if (result.failing) lines.push(`Failing check: **${escapeCell(result.failing.name)}** — ${escapeCell(result.failing.reason)} (evaluation ${result.failing.evaluation})`, '');
  lines.push(`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`);
  for (const r of rows(result.evaluations)) lines.push(`| ${r.map(escapeCell).join(' | ')} |`);
  return lines.join('\n');
}

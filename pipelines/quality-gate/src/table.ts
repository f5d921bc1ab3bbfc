// How a gate's conditions are shown: an aligned text table for logs and a Markdown table for the
// run summary (GitHub job summary, the Danger comment). Pure: the step and the CLI print the result.
import { operatorSymbols, roundForDisplay, type GateCondition, type GateResult } from './conditions.js';

const headers = ['metric', 'actual', 'operator', 'threshold', 'status'] as const;

/** Sonar sends values like "82.50562381034781"; people read two decimals. */
function formatValue(value: string | undefined): string {
  if (value === undefined || value === '') return '—';
  const n = Number(value);
  return Number.isFinite(n) && /^-?\d+(\.\d+)?$/.test(value.trim()) ? String(roundForDisplay(n)) : value;
}

function cells(condition: GateCondition): string[] {
  return [condition.metric, formatValue(condition.actual), operatorSymbols[condition.operator] ?? condition.operator, formatValue(condition.threshold), condition.status];
}

/** An aligned plain-text table, one line per condition (no escape codes: CI logs show it as is). */
export function renderConditionsText(result: GateResult): string[] {
  const rows = [headers.map(String), ...result.conditions.map(cells)];
  const widths = headers.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  const lines = [`quality gate: ${result.status}${result.serverStatus ? ` (server: ${result.serverStatus})` : ''}`];
  if (result.conditions.length === 0) lines.push('  (the gate has no conditions)');
  else lines.push(...rows.map((row) => `  ${line(row)}`));
  if (result.dashboardUrl) lines.push(`  dashboard: ${result.dashboardUrl}`);
  return lines;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/**
 * The Markdown summary. It starts with the "Quality gate" heading so a reader (and a Danger rule)
 * can tell it from other steps' summaries.
 */
export function renderConditionsMarkdown(result: GateResult): string {
  const icon = result.status === 'OK' ? '✅' : '❌';
  const out = [`### Quality gate: ${icon} ${result.status}`, ''];
  if (result.conditions.length === 0) {
    out.push('The gate has no conditions.');
  } else {
    out.push(`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`);
    for (const condition of result.conditions) {
      const row = cells(condition).map(escapeCell);
      row[4] = `${condition.status === 'ERROR' ? '❌' : condition.status === 'OK' ? '✅' : '⚠️'} ${row[4]}`;
      out.push(`| ${row.join(' | ')} |`);
    }
  }
  if (result.dashboardUrl) out.push('', `[Open the analysis](${result.dashboardUrl})`);
  return out.join('\n');
}

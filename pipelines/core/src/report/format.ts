// Small formatting shared by the log reporters.
import { styleText } from 'node:util';
import type { InvocationOutcome } from '../scheduler/events.js';

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  const secs = Math.round((ms % 60_000) / 1000);
  return `${minutes}m${String(secs).padStart(2, '0')}s`;
}

export const outcomeSymbol: Record<InvocationOutcome, string> = {
  success: '✓',
  failure: '✗',
  'timed-out': '⏱',
  cancelled: '⊘',
  skipped: '-',
  cached: '↺',
};

type Style = Parameters<typeof styleText>[0];
export const outcomeStyle: Record<InvocationOutcome, Style> = {
  success: 'green',
  failure: 'red',
  'timed-out': 'red',
  cancelled: 'yellow',
  skipped: 'gray',
  cached: 'cyan',
};

/** Colours text only when asked (a TTY without NO_COLOR); plain logs never get escape codes. */
export function paint(style: Style, text: string, enabled: boolean): string {
  return enabled ? styleText(style, text, { validateStream: false }) : text;
}

export interface RunTotals {
  succeeded: number;
  cached: number;
  failed: number;
  skipped: number;
  cancelled: number;
}

export function totalsLine(t: RunTotals): string {
  const parts = [`${t.succeeded} succeeded`, `${t.cached} cached`, `${t.failed} failed`, `${t.skipped} skipped`];
  if (t.cancelled) parts.push(`${t.cancelled} cancelled`);
  return parts.join(', ');
}

// Durations as shipgate reads them everywhere (`timeout:` and every step's duration inputs).
// One schema for a step's duration inputs (`timeout: 10m`, `poll-interval: 5s`), so every step
// accepts and explains durations exactly as the engine's own `timeout:` key does.
import * as z from 'zod';
import { ShipgateError } from './errors.js';
import { configLimits, printable } from './limits.js';

/** Parses a duration: `500ms`, `90s`, `10m`, `1h30m`, `2h`. Returns milliseconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(trimmed))) {
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== trimmed.length || total <= 0) {
    throw new ShipgateError('config.duration', `"${printable(text, 60)}" is not a duration`, { hint: 'write it with units: 500ms, 90s, 10m, 1h30m' });
  }
  if (total > configLimits.maxDurationMs) {
    throw new ShipgateError('config.duration', `"${printable(text, 60)}" is longer than the ${configLimits.maxDurationMs / 3_600_000}h (7 days) a duration may be`, { hint: 'a step that runs this long should be split, or wait outside shipgate' });
  }
  return Math.round(total);
}

function isDuration(text: string): boolean {
  try {
    parseDuration(text);
    return true;
  } catch {
    return false;
  }
}

export const durationInput = z.string().refine(isDuration, 'must be a duration with units: 500ms, 90s, 5m, 1h30m');

/** A duration input with a default and its description (for steps whose inputs are all described). */
export function describedDuration(fallback: string, what: string) {
  return durationInput.default(fallback).describe(what);
}

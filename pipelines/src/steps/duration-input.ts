// One schema for a step's duration inputs (`timeout: 10m`, `poll-interval: 5s`), so every step
// accepts and explains durations exactly as the engine's own `timeout:` key does.
import { z } from 'zod';
import { parseDuration } from '../config/load.js';

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

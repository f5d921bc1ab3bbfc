// Step durations for `plan`'s critical path and the scheduler's longest-first order: durations.json
// under .shipgate/, written by write.ts after a run. Read with node:fs's callback API, not
// node:fs/promises, so `shipgate plan` loads neither it nor the report writers.
import { readFile } from 'node:fs';
import path from 'node:path';
import type { RunReport } from './run-report.js';

export const durationsFile = (shipgateDir: string): string => path.join(shipgateDir, 'durations.json');

/** Durations of the steps that ran (outcome success) in this run, merged over the recorded ones. */
export function ranDurations(report: RunReport): Record<string, number> {
  const durations: Record<string, number> = {};
  for (const inv of report.invocations) {
    if (inv.outcome !== 'success') continue; // cached, skipped and failed invocations say nothing of the step's cost
    durations[inv.stepId] = Math.max(durations[inv.stepId] ?? 0, inv.durationMs);
  }
  return durations;
}


function readText(file: string): Promise<string> {
  return new Promise((resolve, reject) => readFile(file, 'utf8', (error, text) => (error ? reject(error) : resolve(text))));
}

export async function readDurations(shipgateDir: string): Promise<Record<string, number> | undefined> {
  try {
    return JSON.parse(await readText(durationsFile(shipgateDir))) as Record<string, number>;
  } catch {
    return undefined;
  }
}

/**
 * Step durations (ms) of each step's last real run, for critical-path estimates: durations.json,
 * or the last report for state written before it existed; empty when there was none.
 */
export async function lastRunDurations(shipgateDir: string): Promise<Record<string, number>> {
  const recorded = await readDurations(shipgateDir);
  if (recorded) return recorded;
  try {
    return ranDurations(JSON.parse(await readText(path.join(shipgateDir, 'report.json'))) as RunReport);
  } catch {
    return {};
  }
}

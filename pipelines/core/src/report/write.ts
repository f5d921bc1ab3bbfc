// Every run leaves three files under <workspace>/.shipgate/: report.json (the RunReport),
// report.html (the same run as a page: waterfall, failures first) and junit.xml — and a copy of
// the report per run id under runs/. `shipgate run --report-dir <dir>` writes the three files there
// instead, so runs side by side in one workspace (the Jenkins library's parallel `--only`
// branches) each keep their own; the per-run copy still goes under runs/. Step durations for
// `plan`'s critical path are kept in durations.json, updated only by steps that really ran: a
// run served from the cache (a few milliseconds per step) never replaces them.
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeDirectory } from '@shipgate/protocol';
import type { RunReport } from './run-report.js';
import { renderJUnit } from './junit.js';
import { renderHtmlReport } from './html.js';
import { durationsFile, ranDurations, readDurations } from './durations.js';

export interface WrittenReports {
  json: string;
  junit: string;
  html: string;
}

async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, file);
}

export async function writeRunReports(shipgateDir: string, report: RunReport, options: { reportDir?: string } = {}): Promise<WrittenReports> {
  await makeDirectory(path.join(shipgateDir, 'runs'));
  const reportDir = options.reportDir ?? shipgateDir;
  await makeDirectory(reportDir);
  const json = path.join(reportDir, 'report.json');
  const junit = path.join(reportDir, 'junit.xml');
  const text = `${JSON.stringify(report, null, 2)}\n`;
  await writeAtomic(json, text);
  await writeAtomic(path.join(shipgateDir, 'runs', `${report.runId || 'run'}.json`), text);
  await writeAtomic(junit, renderJUnit(report));
  const html = path.join(reportDir, 'report.html');
  await writeAtomic(html, renderHtmlReport(report));
  await recordDurations(shipgateDir, report);
  return { json, junit, html };
}

async function recordDurations(shipgateDir: string, report: RunReport): Promise<void> {
  const ran = ranDurations(report);
  if (Object.keys(ran).length === 0) return;
  const recorded = await readDurations(shipgateDir);
  await writeAtomic(durationsFile(shipgateDir), `${JSON.stringify({ ...recorded, ...ran }, null, 2)}\n`);
}

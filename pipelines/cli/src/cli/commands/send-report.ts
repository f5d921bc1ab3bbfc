// `shipgate send-report [report.json | dir]`: a run's report to the Slack app (SHIPGATE_APP_URL,
// SHIPGATE_API_TOKEN), which counts it into its pipeline metrics — run duration, step durations,
// failures per step — for the Prometheus rules and the Grafana dashboard in prometheus/. Run it as
// the last, always-run step of a CI job, after `shipgate run`.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { sendRunReport, type RunReport } from '@shipgate/core';
import type { CommandRegistrar } from '@shipgate/protocol';
import { ShipgateError } from '@shipgate/protocol';
import { pipelineLocation } from '../options.js';

export const registerSendReportCommand: CommandRegistrar = (program, io) => {
  program
    .command('send-report')
    .description("send a run's report.json to the Slack app (POST /api/runs) for its pipeline metrics")
    .argument('[report]', 'report.json, or the directory holding it (default: .shipgate/report.json)')
    .addHelpText('after', '\nNeeds SHIPGATE_APP_URL and SHIPGATE_API_TOKEN. A run is counted once (by pipeline and run id).\nExit codes: 0 sent, 2 no report or no app configured, 3 the app did not take it.\n')
    .action(async (given: string | undefined, _flags: unknown, command: Command) => {
      const appUrl = io.env.SHIPGATE_APP_URL?.trim();
      const token = io.env.SHIPGATE_API_TOKEN?.trim();
      if (!appUrl || !token) throw new ShipgateError('cli.usage', 'send-report needs SHIPGATE_APP_URL and SHIPGATE_API_TOKEN', { hint: 'the Slack app’s URL and the API token it was started with' });
      const { directory } = pipelineLocation(command, io);
      const file = reportFile(given ? path.resolve(io.cwd, given) : path.join(directory, '.shipgate'));
      const report = await readReport(file);
      const { counted } = await sendRunReport(appUrl, token, report, { signal: io.signal });
      io.stdout.write(`${counted ? 'sent' : 'already counted'}: ${report.pipeline} run ${report.runId} (${report.outcome}, ${report.invocations.length} invocations)\n`);
    });
};

function reportFile(given: string): string {
  const file = existsSync(given) && statSync(given).isDirectory() ? path.join(given, 'report.json') : given;
  if (!existsSync(file)) throw new ShipgateError('report.not-found', `${file}: no such file`, { hint: 'run shipgate run first; it writes report.json to .shipgate/ (or --report-dir)' });
  return file;
}

async function readReport(file: string): Promise<RunReport> {
  let report: RunReport;
  try {
    report = JSON.parse(await readFile(file, 'utf8')) as RunReport;
  } catch (error) {
    throw new ShipgateError('report.invalid', `${file}: not a shipgate run report (${(error as Error).message})`, { hint: 'give the report.json that shipgate run wrote' });
  }
  if (report?.schemaVersion !== 1 || !Array.isArray(report.invocations)) throw new ShipgateError('report.invalid', `${file}: not a shipgate run report`, { hint: 'give the report.json that shipgate run wrote' });
  return report;
}

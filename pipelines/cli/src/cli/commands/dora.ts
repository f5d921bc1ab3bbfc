// `shipgate deployments --dora [--since 30d] [--json]`: the four DORA metrics per service and
// environment over a window, from the Slack app's history (SHIPGATE_APP_URL and SHIPGATE_API_TOKEN
// set: every pipeline's deployments) or else this machine's .shipgate/state/deployments.jsonl.
// The computation is @shipgate/core's computeDora; this door only reads the history and prints.
//
// `deployments` itself (the listing) is registered in deployments.ts, with these flags.
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { computeDora, defaultDoraWindowMs, defaultFixForwardMs, fetchDeployments, formatDoraTable, parseDoraWindow, readDeployments, type DeploymentRecord, type DoraReport } from '@shipgate/core';
import type { CliIO } from '@shipgate/protocol';
import { ShipgateError } from '@shipgate/protocol';
import { pipelineLocation } from '../options.js';

export interface DoraFlags {
  dora?: boolean;
  /** ms, parsed by windowOption */
  since?: number;
  fixWindow?: number;
  local?: boolean;
  service?: string;
  environment?: string;
  json?: boolean;
}

/** Adds the --dora flags to `shipgate deployments` (registered in deployments.ts). */
export function withDoraOptions(deployments: Command): Command {
  return deployments
    .option('--dora', 'print the DORA metrics per service and environment: deployment frequency, lead time, change failure rate, time to restore')
    .option('--since <window>', 'with --dora: the window, e.g. 30d, 2w, 12h (default 30d)', windowOption())
    .option('--fix-window <window>', 'with --dora: a change followed by another within this long counts as failed (fix-forward); 0 turns it off (default 1h)', windowOption(true))
    .option('--local', "with --dora: read this machine's deployments.jsonl even when SHIPGATE_APP_URL is set")
    .addHelpText(
      'after',
      '\nDORA metrics:\n  shipgate deployments --dora                    the last 30 days, every service\n  shipgate deployments --dora --since 7d --service orders --json\n\n' +
        'The history comes from the Slack app (SHIPGATE_APP_URL and SHIPGATE_API_TOKEN set), else .shipgate/state/deployments.jsonl.\n' +
        'Exit codes: 0 printed, 2 bad flags, 3 the Slack app did not answer or refused.',
    );
}

/** Without --dora, the window flags are a mistake, not ignored. */
export function refuseDoraFlagsWithoutDora(flags: DoraFlags): void {
  for (const flag of ['since', 'fixWindow', 'local'] as const) if (flags[flag] !== undefined) throw new ShipgateError('cli.usage', `--${flag === 'fixWindow' ? 'fix-window' : flag} only applies with --dora`, { hint: 'shipgate deployments --dora --since 30d' });
}

/** A window flag (`30d`, `12h`) in ms, refused at parse time with commander's usage error; `0` where it turns a rule off. */
function windowOption(zeroAllowed = false) {
  return (value: string): number => {
    if (zeroAllowed && value.trim() === '0') return 0;
    try {
      return parseDoraWindow(value);
    } catch (error) {
      throw new InvalidArgumentError(`${(error as Error).message} (${(error as ShipgateError).hint ?? ''})`);
    }
  };
}

export async function printDora(flags: DoraFlags, command: Command, io: CliIO): Promise<void> {
  const windowMs = flags.since ?? defaultDoraWindowMs;
  const fixForwardMs = flags.fixWindow ?? defaultFixForwardMs;
  const now = new Date();
  const { records, source } = await readHistory(flags, command, io, new Date(now.getTime() - 2 * windowMs));
  const report = computeDora(
    records.map((r) => ({ ...r, restore: r.rollbackOf !== undefined })),
    { now, windowMs, fixForwardMs },
  );
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ source, ...report }, null, 2)}\n`);
    return;
  }
  await printTable(report, source, io);
}

/**
 * The history: the Slack app's when it is configured (the whole team's deployments), else this
 * machine's file. Read from one window before the window's start as well: a rollback in the window
 * names a release deployed before it, and only that tells it from a new change.
 */
async function readHistory(flags: DoraFlags, command: Command, io: CliIO, since: Date): Promise<{ records: DeploymentRecord[]; source: string }> {
  const filter = (r: DeploymentRecord) => (!flags.service || r.service === flags.service) && (!flags.environment || r.environment === flags.environment);
  const appUrl = io.env.SHIPGATE_APP_URL?.trim();
  const token = io.env.SHIPGATE_API_TOKEN?.trim();
  if (appUrl && token && !flags.local) {
    const records = await fetchDeployments(appUrl, token, { since, limit: 10_000, ...(flags.service ? { service: flags.service } : {}), ...(flags.environment ? { environment: flags.environment } : {}) }, { signal: io.signal });
    return { records: records.filter(filter), source: `the Slack app at ${new URL(appUrl).origin}` };
  }
  const { directory } = pipelineLocation(command, io);
  const file = path.join(directory, '.shipgate', 'state', 'deployments.jsonl');
  const relative = path.relative(io.cwd, file);
  return { records: (await readDeployments(path.dirname(file))).filter(filter), source: relative.startsWith('..') ? file : relative };
}

async function printTable(report: DoraReport, source: string, io: CliIO): Promise<void> {
  const days = Number.isInteger(report.windowDays) ? `${report.windowDays} days` : `${report.windowDays.toFixed(2)} days`;
  io.stdout.write(`DORA metrics, ${report.from.slice(0, 16).replace('T', ' ')} → ${report.to.slice(0, 16).replace('T', ' ')} UTC (${days}), from ${source}\n`);
  if (report.groups.length === 0) {
    io.stdout.write('no deployments in the window\n');
    return;
  }
  for (const line of formatDoraTable(report)) io.stdout.write(`${line}\n`);
  io.stdout.write(`\nlead time: commit → deploy success; change failure: failed, rolled back, or another change within ${Math.round(report.fixForwardSeconds / 60)} min; time to restore: failure → next good deployment\n`);
}


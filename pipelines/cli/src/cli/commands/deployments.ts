// `shipgate deployments`: the deploy records in .shipgate/state/deployments.jsonl, newest first, or
// with --dora the DORA metrics (dora.ts). A read of recorded state, not a step run.
import path from 'node:path';
import type { Command } from 'commander';
import type { CliIO, CommandRegistrar } from '@shipgate/protocol';
import { readDeployments } from '@shipgate/core';
import { pipelineLocation, positiveInt } from '../options.js';
import { printDora, refuseDoraFlagsWithoutDora, withDoraOptions, type DoraFlags } from './dora.js';

type DeploymentRecord = Awaited<ReturnType<typeof readDeployments>>[number];

interface DeploymentsFlags {
  service?: string;
  environment?: string;
  limit: number;
  json?: boolean;
}

/** The records as an aligned table, one line per deployment. */
export function deploymentsTable(records: readonly DeploymentRecord[]): string[] {
  const rows = [['when', 'service', 'environment', 'version', 'outcome', 'deployer', 'id'], ...records.map((r) => [r.at.replace('T', ' ').slice(0, 19), r.service, r.environment, r.version, r.outcome, r.deployer ?? '', r.deploymentId ?? ''])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

async function listDeployments(io: CliIO, flags: DeploymentsFlags, command: Command): Promise<void> {
  const { directory } = pipelineLocation(command, io);
  const records = (await readDeployments(path.join(directory, '.shipgate', 'state')))
    .filter((r) => (!flags.service || r.service === flags.service) && (!flags.environment || r.environment === flags.environment))
    .reverse()
    .slice(0, flags.limit);
  if (flags.json) io.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
  else if (records.length === 0) io.stdout.write('no deployments recorded here yet\n');
  else for (const line of deploymentsTable(records)) io.stdout.write(`${line}\n`);
}

export const registerDeploymentsCommand: CommandRegistrar = (program, io) => {
  const deployments = program
    .command('deployments')
    .description('list the deployments recorded in .shipgate/state/deployments.jsonl, newest first; --dora: the DORA metrics')
    .option('--service <name>', 'only this service')
    .option('--environment <name>', 'only this environment')
    .option('--limit <n>', 'at most this many (default 20)', positiveInt('--limit'), 20)
    .option('--json', 'print the records (or the metrics) as JSON');
  withDoraOptions(deployments).action(async (flags: DeploymentsFlags & DoraFlags, command: Command) => {
    if (flags.dora) return printDora(flags, command, io);
    refuseDoraFlagsWithoutDora(flags);
    return listDeployments(io, flags, command);
  });
};

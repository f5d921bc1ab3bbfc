// `shipgate gate`: the quality-gate step as a command, for pipelines that are not shipgate.yml
// ones. With --report-task it skips the scan and waits for the gate of an analysis any scanner
// already submitted (Maven / Gradle Sonar plugins, the .NET or CLI scanner); without it, it runs
// the scanner first; with --local it evaluates a local gate. It runs the very same step, through
// runStepCommand like every other command.
import path from 'node:path';
import type { Command } from 'commander';
import { ShipgateError } from '@shipgate/protocol';
import type { CliIO, CommandRegistrar, InvocationResult, StepRegistry } from '@shipgate/protocol';
import { gateErrorExitCodes } from '@shipgate/quality-gate';
import { pipelineLocation } from '../options.js';
import { commandInvocation, runStepCommand } from '../run-step.js';

interface GateOptions {
  reportTask?: string;
  hostUrl?: string;
  tokenEnv: string;
  timeout: string;
  pollInterval: string;
  property: string[];
  ciParameters: boolean;
  local?: string;
  json?: boolean;
}

function collectProperty(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function parseProperties(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const at = item.indexOf('=');
    if (at <= 0) throw new ShipgateError('cli.bad-property', `-D ${item}: write it as key=value`, { hint: '-D sonar.projectKey=orders-service' });
    out[item.slice(0, at)] = item.slice(at + 1);
  }
  return out;
}

function parseLocal(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ShipgateError('cli.bad-json', `--local is not valid JSON: ${(error as Error).message}`, { hint: `--local '{"coverage":{"lcov":"coverage/lcov.info","min":80}}'` });
  }
}

/** The flags as the quality-gate step's `with:` inputs. */
function gateInputs(opts: GateOptions, io: CliIO): Record<string, unknown> {
  return {
    'token-env': opts.tokenEnv,
    timeout: opts.timeout,
    'poll-interval': opts.pollInterval,
    'ci-parameters': opts.ciParameters,
    properties: parseProperties(opts.property),
    ...(opts.reportTask ? { 'report-task': path.resolve(io.cwd, opts.reportTask) } : {}),
    ...(opts.hostUrl ? { 'host-url': opts.hostUrl } : {}),
    ...(opts.local ? { mode: 'local', local: parseLocal(opts.local) } : {}),
  };
}

/** `--json`: the gate's status, dashboard and conditions (and the error, when there is one). */
function gateJson(result: InvocationResult): string {
  const conditions = result.outputs.conditions ? (JSON.parse(result.outputs.conditions) as unknown) : [];
  return JSON.stringify({ status: result.outputs.status ?? null, dashboardUrl: result.outputs['dashboard-url'] ?? null, conditions, ...(result.error ? { error: result.error } : {}) }, null, 2);
}

async function gate(io: CliIO, steps: StepRegistry, opts: GateOptions, command: Command): Promise<number> {
  const { directory } = pipelineLocation(command, io);
  const { exitCode } = await runStepCommand(io, steps, commandInvocation('quality-gate', gateInputs(opts, io)), {
    workspace: directory,
    quiet: Boolean(opts.json),
    exitCodes: (code) => gateErrorExitCodes[code],
    render: (result) => {
      if (opts.json) io.stdout.write(`${gateJson(result)}\n`);
    },
  });
  return exitCode;
}

export const registerGateCommand: CommandRegistrar = (program, io, setExitCode, steps) => {
  program
    .command('gate')
    .description('wait for a SonarQube / SonarCloud quality gate (or evaluate a local one) and print its conditions')
    .option('--report-task <file>', 'skip the scan: wait for the analysis this report-task.txt names')
    .option('--host-url <url>', 'Sonar server (default $SONAR_HOST_URL, then the report-task.txt serverUrl)')
    .option('--token-env <name>', 'environment variable holding the token (tokens never go on a command line)', 'SONAR_TOKEN')
    .option('--timeout <duration>', 'how long to wait for the analysis', '5m')
    .option('--poll-interval <duration>', 'first poll interval (backs off up to 10 s)', '1s')
    .option('-D, --property <key=value>', 'analysis property for the scan (repeatable)', collectProperty, [])
    .option('--no-ci-parameters', 'do not add sonar.branch.name / sonar.pullrequest.* from the CI context')
    .option('--local <json>', 'evaluate a local gate instead (the `local:` thresholds as JSON)')
    .option('--json', 'print the outcome as JSON (status, dashboardUrl, conditions)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  mvn sonar:sonar && shipgate gate --report-task target/sonar/report-task.txt\n' +
        '  shipgate gate -D sonar.projectKey=orders-service -D sonar.sources=src\n' +
        `  shipgate gate --local '{"coverage":{"min":80},"tests":{"report":"jest.json"}}'\n\n` +
        'Exit codes: 0 the gate passed, 1 it failed, 2 bad input, 3 server, token or network problem.',
    )
    .action(async (opts: GateOptions, command: Command) => {
      setExitCode(await gate(io, steps, opts, command));
    });
};

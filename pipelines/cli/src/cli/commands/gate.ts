// `shipgate gate`: the quality-gate step as a command, for pipelines that are not shipgate.yml
// ones. With --report-task it skips the scan and waits for the gate of an analysis any scanner
// already submitted (Maven / Gradle Sonar plugins, the .NET or CLI scanner); without it, it runs
// the scanner first; with --local it evaluates a local gate. It runs the very same step.
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { LocalExecutor } from '@shipgate/core';
import { resolveCiContext } from '@shipgate/core';
import { secretsFromEnv } from '@shipgate/core';
import { StepRegistry } from '@shipgate/protocol';
import type { StepDefinition } from '@shipgate/protocol';
import { gateErrorExitCodes, qualityGateStep } from '@shipgate/quality-gate';
import type { CommandRegistrar } from '@shipgate/protocol';
import { pipelineLocation } from '../options.js';

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

export const registerGateCommand: CommandRegistrar = (program, io, setExitCode) => {
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
      const { directory } = pipelineLocation(command, io);
      const inputs: Record<string, unknown> = {
        'token-env': opts.tokenEnv,
        timeout: opts.timeout,
        'poll-interval': opts.pollInterval,
        'ci-parameters': opts.ciParameters,
        properties: parseProperties(opts.property),
        ...(opts.reportTask ? { 'report-task': path.resolve(io.cwd, opts.reportTask) } : {}),
        ...(opts.hostUrl ? { 'host-url': opts.hostUrl } : {}),
        ...(opts.local ? { mode: 'local', local: parseLocal(opts.local) } : {}),
      };
      const write = (line: string) => io.stdout.write(`${line}\n`);
      const log = opts.json ? () => {} : write;
      const ci = await resolveCiContext(directory, io.env);
      const result = await new LocalExecutor(new StepRegistry([qualityGateStep as unknown as StepDefinition])).execute(
        { id: 'gate', stepId: 'gate', uses: 'quality-gate', with: inputs, env: {}, workingDirectory: '.' },
        {
          workspace: directory,
          stateDir: path.join(directory, '.shipgate', 'state'),
          ci,
          signal: io.signal,
          logger: { debug: () => {}, info: log, warn: (l) => log(`warning: ${l}`), error: log },
          secrets: new Set(secretsFromEnv(io.env)),
          env: io.env,
        },
      );
      if (io.env.GITHUB_STEP_SUMMARY && result.summaries.length > 0) await appendFile(io.env.GITHUB_STEP_SUMMARY, `${result.summaries.join('\n\n')}\n`);
      if (opts.json) {
        const conditions = result.outputs.conditions ? (JSON.parse(result.outputs.conditions) as unknown) : [];
        write(JSON.stringify({ status: result.outputs.status ?? null, dashboardUrl: result.outputs['dashboard-url'] ?? null, conditions, ...(result.error ? { error: result.error } : {}) }, null, 2));
      }
      if (result.error) io.stderr.write(`shipgate: ${result.error.message} [${result.error.code}]${result.error.hint ? `\n  hint: ${result.error.hint}` : ''}\n`);
      if (result.status === 'success') setExitCode(ExitCode.ok);
      else if (result.status === 'cancelled') setExitCode(ExitCode.interrupted);
      else setExitCode(gateErrorExitCodes[result.error?.code ?? ''] ?? ExitCode.failed);
    });
};

// `shipgate deploy`, `shipgate rollback`, `shipgate codepipeline` and `shipgate deployments`: thin doors onto the
// `codedeploy` and `codepipeline` steps and the rollback functions the Slack app calls. Flags map
// one to one to the steps' `with:` inputs; the AWS SDK loads only when one of these runs.
import path from 'node:path';
import type { Command } from 'commander';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { resolveCiContext } from '@shipgate/core';
import type { InvocationResult } from '@shipgate/protocol';
import type { StepDefinition } from '@shipgate/protocol';
import type { CommandRegistrar } from '@shipgate/protocol';
import type { CliIO } from '@shipgate/protocol';
import { pipelineLocation, positiveInt } from '../options.js';

/** The documented exit code for a step's outcome (see "Exit codes" in the README). */
export function exitCodeFor(result: Pick<InvocationResult, 'status' | 'error'>): number {
  if (result.status === 'success') return ExitCode.ok;
  if (result.status === 'cancelled') return ExitCode.interrupted;
  const code = result.error?.code ?? '';
  if (code === 'step.inputs' || code === 'aws.region' || code === 'aws.endpoint' || /^code(deploy|pipeline)\.unknown-/.test(code)) return ExitCode.usage;
  if (code.startsWith('aws.')) return ExitCode.external;
  return ExitCode.failed;
}

/** Commander's camelCase flags → the step's kebab-case inputs; numbers where the schema wants them. */
function inputsFrom(flags: Record<string, unknown>, numeric: readonly string[] = []): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined || key === 'json') continue;
    // --release carries the `version` input: --version is the CLI's own (prints shipgate's version).
    const name = key === 'release' ? 'version' : key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    inputs[name] = numeric.includes(name) ? Number(value) : value;
  }
  return inputs;
}

async function runStep(step: StepDefinition, inputs: Record<string, unknown>, command: Command, io: CliIO, json: boolean | undefined): Promise<number> {
  const { runStepInProcess } = await import('@shipgate/core');
  const { directory } = pipelineLocation(command, io);
  const write = (line: string) => io.stdout.write(`${line}\n`);
  const result = await runStepInProcess(step, inputs, {
    cwd: directory,
    env: io.env,
    signal: io.signal,
    ci: await resolveCiContext(directory, io.env),
    logger: { debug: () => {}, info: write, warn: (l) => write(`warning: ${l}`), error: (l) => write(`error: ${l}`) },
  });
  if (json) io.stdout.write(`${JSON.stringify({ status: result.status, outputs: result.outputs, ...(result.error ? { error: result.error } : {}) }, null, 2)}\n`);
  if (result.error) io.stderr.write(`shipgate: ${step.name} ${result.status}: ${result.error.message} [${result.error.code}]${result.error.hint ? `\n  hint: ${result.error.hint}` : ''}\n`);
  return exitCodeFor(result);
}

const awsOptions = (command: Command) =>
  command
    .option('--region <region>', 'AWS region (default AWS_REGION)')
    .option('--endpoint <url>', 'a custom AWS endpoint')
    .option('--timeout <duration>', 'give up (stop, roll back) after this long, e.g. 30m')
    .option('--poll-interval <duration>', 'time between status checks, e.g. 15s')
    .option('--json', 'print the outcome and outputs as JSON');

export const registerDeployCommands: CommandRegistrar = (program, io, setExitCode) => {
  awsOptions(
    program
      .command('deploy')
      .description('deploy with AWS CodeDeploy and follow it to the end (the codedeploy step)')
      .requiredOption('--application <name>', 'CodeDeploy application')
      .requiredOption('--deployment-group <name>', 'deployment group (the environment)')
      .option('--bucket <bucket>', 'EC2/on-premises: S3 bucket of the revision bundle')
      .option('--key <key>', 'EC2/on-premises: S3 key of the bundle')
      .option('--bundle-type <type>', 'zip (default), tar, tgz, YAML or JSON')
      .option('--object-version <id>', 'S3 object version of the bundle')
      .option('--etag <etag>', 'S3 ETag of the bundle')
      .option('--task-definition <family|arn>', 'ECS: the current task definition to copy')
      .option('--container <name>', 'ECS: the container to point at the new image')
      .option('--container-port <port>', 'ECS: the port the load balancer routes to')
      .option('--image <ref|digest>', 'ECS: the image reference or sha256: digest')
      .option('--service <name>', 'deploy record: service (default: the application)')
      .option('--environment <name>', 'deploy record: environment (default: the deployment group)')
      .option('--release <version>', 'deploy record: the version deployed (default: git tag or short sha); not --version, which prints shipgate\'s')
      .option('--digest <digest>', 'deploy record: image digest')
      .option('--description <text>', 'description shown in CodeDeploy')
      .option('--deployment-config <name>', 'deployment configuration, e.g. CodeDeployDefault.OneAtATime'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  shipgate deploy --application orders --deployment-group prod --bucket releases --key orders-1.4.2.zip --release 1.4.2\n' +
        '  shipgate deploy --application orders --deployment-group prod-ecs --task-definition orders --container app --container-port 8080 --image sha256:…\n\n' +
        'Exit codes: 0 succeeded, 1 failed / rolled back / timed out, 2 bad flags, 3 AWS refused (permissions, credentials), 130 cancelled.',
    )
    .action(async (flags: Record<string, unknown>, command: Command) => {
      const { codedeployStep } = await import('@shipgate/aws');
      setExitCode(await runStep(codedeployStep as unknown as StepDefinition, inputsFrom(flags, ['container-port']), command, io, flags.json as boolean | undefined));
    });

  awsOptions(
    program
      .command('rollback')
      .description('roll a CodeDeploy deployment group back to its last good revision, or a CodePipeline stage to an earlier execution')
      .option('--application <name>', 'CodeDeploy application')
      .option('--deployment-group <name>', 'CodeDeploy deployment group')
      .option('--pipeline <name>', 'CodePipeline pipeline')
      .option('--stage <name>', 'CodePipeline stage to roll back')
      .option('--target <execution-id>', 'CodePipeline: the execution to roll back to (default: the newest earlier succeeded one)')
      .option('--service <name>', 'deploy record: service (default: the application)')
      .option('--environment <name>', 'deploy record: environment (default: the deployment group)')
      .option('--release <version>', 'deploy record: the version rolled back to (default: the revision)'),
  )
    .addHelpText('after', '\nExamples:\n  shipgate rollback --application orders --deployment-group prod\n  shipgate rollback --pipeline orders --stage Deploy\n')
    .action(async (flags: Record<string, string | boolean | undefined>, command: Command) => {
      if (flags.pipeline || flags.stage) {
        if (!flags.pipeline || !flags.stage) throw new ShipgateError('cli.usage', 'a CodePipeline rollback needs both --pipeline and --stage', { hint: 'shipgate rollback --pipeline orders --stage Deploy' });
        const { codepipelineStep } = await import('@shipgate/aws');
        const { pipeline, stage, target, region, endpoint, timeout, pollInterval } = flags;
        setExitCode(await runStep(codepipelineStep as unknown as StepDefinition, inputsFrom({ pipeline, stage, target, region, endpoint, timeout, pollInterval, operation: 'rollback' }), command, io, flags.json as boolean | undefined));
        return;
      }
      if (!flags.application || !flags.deploymentGroup) {
        throw new ShipgateError('cli.usage', 'name what to roll back: --application and --deployment-group (CodeDeploy), or --pipeline and --stage (CodePipeline)', { hint: 'shipgate rollback --application orders --deployment-group prod' });
      }
      const { codedeployStep } = await import('@shipgate/aws');
      const { application, deploymentGroup, region, endpoint, timeout, pollInterval, service, environment, release } = flags;
      const inputs = inputsFrom({ application, deploymentGroup, region, endpoint, timeout, pollInterval, service, environment, release, operation: 'rollback' });
      setExitCode(await runStep(codedeployStep as unknown as StepDefinition, inputs, command, io, flags.json as boolean | undefined));
    });

  program
    .command('deployments')
    .description('list the deployments recorded in .shipgate/state/deployments.jsonl, newest first')
    .option('--service <name>', 'only this service')
    .option('--environment <name>', 'only this environment')
    .option('--limit <n>', 'at most this many (default 20)', positiveInt('--limit'), 20)
    .option('--json', 'print the records as JSON')
    .action(async (flags: { service?: string; environment?: string; limit: number; json?: boolean }, command: Command) => {
      const { readDeployments } = await import('@shipgate/core');
      const { directory } = pipelineLocation(command, io);
      const records = (await readDeployments(path.join(directory, '.shipgate', 'state')))
        .filter((r) => (!flags.service || r.service === flags.service) && (!flags.environment || r.environment === flags.environment))
        .reverse()
        .slice(0, flags.limit);
      if (flags.json) {
        io.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
        return;
      }
      if (records.length === 0) {
        io.stdout.write('no deployments recorded here yet\n');
        return;
      }
      const rows = [['when', 'service', 'environment', 'version', 'outcome', 'deployer', 'id'], ...records.map((r) => [r.at.replace('T', ' ').slice(0, 19), r.service, r.environment, r.version, r.outcome, r.deployer ?? '', r.deploymentId ?? ''])];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
      for (const row of rows) io.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
    });

  awsOptions(
    program
      .command('codepipeline')
      .argument('<operation>', 'start, approve, reject or rollback')
      .description('start and follow a CodePipeline execution, answer a manual approval, or roll a stage back (the codepipeline step)')
      .requiredOption('--pipeline <name>', 'the pipeline')
      .option('--stage <name>', 'approve / reject / rollback: the stage')
      .option('--action <name>', 'approve / reject: the manual-approval action')
      .option('--summary <text>', 'approve / reject: the reason shown in CodePipeline')
      .option('--target <execution-id>', 'rollback: the execution to roll back to')
      .option('--no-wait', 'start / rollback: return once it started')
      .option('--abandon', 'on timeout or cancel, abandon in-progress actions'),
  )
    .addHelpText('after', '\nExamples:\n  shipgate codepipeline start --pipeline orders\n  shipgate codepipeline approve --pipeline orders --stage Approve --action Manual --summary "tested on staging"\n')
    .action(async (operation: string, flags: Record<string, unknown>, command: Command) => {
      const { codepipelineStep } = await import('@shipgate/aws');
      setExitCode(await runStep(codepipelineStep as unknown as StepDefinition, { ...inputsFrom(flags), operation }, command, io, flags.json as boolean | undefined));
    });
};

// `shipgate deploy`, `shipgate rollback` and `shipgate codepipeline`: thin doors onto the
// `codedeploy` and `codepipeline` steps (with `shipgate deployments`, the records they leave).
// Flags map one to one to the steps' `with:` inputs; the step runs through runStepCommand like
// every other command's, and the AWS SDK loads only when one of these runs.
import type { Command } from 'commander';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import type { CliIO, CommandRegistrar, InvocationResult, StepRegistry } from '@shipgate/protocol';
import { pipelineLocation } from '../options.js';
import { commandInvocation, runStepCommand, stepExitCode } from '../run-step.js';
import { registerDeploymentsCommand } from './deployments.js';

/** The AWS steps' error codes that are not plain failures: bad flags (2) and AWS refusing (3). */
export function awsErrorExitCode(code: string): number | undefined {
  if (code === 'aws.region' || code === 'aws.endpoint' || /^code(deploy|pipeline)\.unknown-/.test(code)) return ExitCode.usage;
  if (code.startsWith('aws.')) return ExitCode.external;
  return undefined;
}

/** The documented exit code for a step's outcome (see "Exit codes" in the README). */
export function exitCodeFor(result: Pick<InvocationResult, 'status' | 'error'>): number {
  return stepExitCode(result, awsErrorExitCode);
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

/** Runs an AWS step for a command: its log lines as it goes, or with --json only `{ status, outputs, error }`. */
async function runAwsStep(io: CliIO, steps: StepRegistry, uses: 'codedeploy' | 'codepipeline', inputs: Record<string, unknown>, command: Command, json: unknown): Promise<number> {
  const { directory } = pipelineLocation(command, io);
  const { exitCode } = await runStepCommand(io, steps, commandInvocation(uses, inputs), {
    workspace: directory,
    quiet: Boolean(json),
    exitCodes: awsErrorExitCode,
    render: (result) => {
      if (json) io.stdout.write(`${JSON.stringify({ status: result.status, outputs: result.outputs, ...(result.error ? { error: result.error } : {}) }, null, 2)}\n`);
    },
  });
  return exitCode;
}

const awsOptions = (command: Command) =>
  command
    .option('--region <region>', 'AWS region (default AWS_REGION)')
    .option('--endpoint <url>', 'a custom AWS endpoint')
    .option('--timeout <duration>', 'give up (stop, roll back) after this long, e.g. 30m')
    .option('--poll-interval <duration>', 'time between status checks, e.g. 15s')
    .option('--json', 'print the outcome and outputs as JSON');

const registerDeploy: CommandRegistrar = (program, io, setExitCode, steps) => {
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
      setExitCode(await runAwsStep(io, steps, 'codedeploy', inputsFrom(flags, ['container-port']), command, flags.json));
    });
};

/** `shipgate rollback`: a CodePipeline stage (--pipeline --stage) or a CodeDeploy deployment group. */
async function rollback(io: CliIO, steps: StepRegistry, flags: Record<string, string | boolean | undefined>, command: Command): Promise<number> {
  if (flags.pipeline || flags.stage) {
    if (!flags.pipeline || !flags.stage) throw new ShipgateError('cli.usage', 'a CodePipeline rollback needs both --pipeline and --stage', { hint: 'shipgate rollback --pipeline orders --stage Deploy' });
    const { pipeline, stage, target, region, endpoint, timeout, pollInterval } = flags;
    return runAwsStep(io, steps, 'codepipeline', inputsFrom({ pipeline, stage, target, region, endpoint, timeout, pollInterval, operation: 'rollback' }), command, flags.json);
  }
  if (!flags.application || !flags.deploymentGroup) {
    throw new ShipgateError('cli.usage', 'name what to roll back: --application and --deployment-group (CodeDeploy), or --pipeline and --stage (CodePipeline)', { hint: 'shipgate rollback --application orders --deployment-group prod' });
  }
  const { application, deploymentGroup, region, endpoint, timeout, pollInterval, service, environment, release } = flags;
  const inputs = inputsFrom({ application, deploymentGroup, region, endpoint, timeout, pollInterval, service, environment, release, operation: 'rollback' });
  return runAwsStep(io, steps, 'codedeploy', inputs, command, flags.json);
}

const registerRollback: CommandRegistrar = (program, io, setExitCode, steps) => {
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
      setExitCode(await rollback(io, steps, flags, command));
    });
};

const registerCodePipeline: CommandRegistrar = (program, io, setExitCode, steps) => {
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
      setExitCode(await runAwsStep(io, steps, 'codepipeline', { ...inputsFrom(flags), operation }, command, flags.json));
    });
};

export const registerDeployCommands: CommandRegistrar = (program, io, setExitCode, steps) => {
  for (const register of [registerDeploy, registerRollback, registerDeploymentsCommand, registerCodePipeline]) register(program, io, setExitCode, steps);
};

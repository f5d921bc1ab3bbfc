// `shipgate image …`: tags, promote, rollback, history. A thin door over the `image` step: each
// subcommand turns its flags into the step's inputs (`command: tags|promote|rollback|history`),
// runs it through runStepCommand like every other command, and prints the step's `result` output.
// Registry credentials come from SHIPGATE_REGISTRY_USERNAME / SHIPGATE_REGISTRY_PASSWORD or from
// ECR (`--ecr`), never from flags, so they stay out of shell history and process lists.
import type { Command } from 'commander';
import { ShipgateError } from '@shipgate/protocol';
import type { CliIO, CommandRegistrar, StepRegistry } from '@shipgate/protocol';
import { imageErrorExitCode } from '@shipgate/image';
import type { readImageHistory, promoteImage, rollbackImage } from '@shipgate/image';
import { pipelineLocation } from '../options.js';
import { commandInvocation, runStepCommand } from '../run-step.js';

interface AccessFlags {
  insecure?: boolean;
  ecr?: boolean;
  region?: string;
  timeout?: string;
}

type PromoteResult = Awaited<ReturnType<typeof promoteImage>>;
type RollbackResult = Awaited<ReturnType<typeof rollbackImage>>;
type HistoryEntry = Awaited<ReturnType<typeof readImageHistory>>['entries'][number];

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The registry flags and credentials from the environment as the step's inputs. */
export function accessInputs(flags: AccessFlags, env: CliIO['env']): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  if (flags.ecr) {
    const region = flags.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    Object.assign(inputs, { 'ecr-login': true }, region ? { 'aws-region': region } : {});
  } else if (env.SHIPGATE_REGISTRY_PASSWORD) {
    Object.assign(inputs, { username: env.SHIPGATE_REGISTRY_USERNAME ?? '', password: env.SHIPGATE_REGISTRY_PASSWORD });
  }
  if (flags.timeout !== undefined) {
    const timeoutMs = Number(flags.timeout) * 1000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new ShipgateError('cli.usage', `--timeout "${flags.timeout}" must be a positive number of seconds`, { hint: '--timeout 30' });
    inputs['request-timeout'] = `${Math.ceil(timeoutMs)}ms`;
  }
  if (flags.insecure) inputs.insecure = true;
  return inputs;
}

/** Runs the image step for a subcommand; on success hands its `result` output (parsed) to `print`. */
async function runImageStep<T>(io: CliIO, steps: StepRegistry, inputs: Record<string, unknown>, command: Command, print: (result: T) => void): Promise<number> {
  const { directory } = pipelineLocation(command, io);
  const { exitCode } = await runStepCommand(io, steps, commandInvocation('image', inputs), {
    workspace: directory,
    quiet: true,
    exitCodes: imageErrorExitCode,
    render: (result) => {
      if (result.status === 'success') print(JSON.parse(result.outputs.result ?? 'null') as T);
    },
  });
  return exitCode;
}

function addAccessOptions(command: Command): Command {
  return command
    .option('--insecure', 'plain HTTP to a registry that is not on loopback (loopback always is)')
    .option('--ecr', 'log in to Amazon ECR with GetAuthorizationToken (AWS credentials from the environment)')
    .option('--region <region>', 'AWS region for --ecr (default AWS_REGION)')
    .option('--timeout <seconds>', 'per-request timeout (default 30; requests are retried 3 times)');
}

type Registrar = (image: Command, io: CliIO, setExitCode: (code: number) => void, steps: StepRegistry) => void;
const lineWriter = (io: CliIO) => (line: string) => io.stdout.write(`${line}\n`);

const registerTags: Registrar = (image, io, setExitCode, steps) => {
  image
    .command('tags')
    .description('compute image tags and OCI labels from the git / CI context (docker/metadata-action rules)')
    .requiredOption('--image <name>', 'image name without tag (repeatable)', collect)
    .option('--tags <rule>', 'a tag rule, e.g. "type=semver,pattern={{major}}.{{minor}}" (repeatable; default semver, branch, pr, sha)', collect)
    .option('--flavor <flavor>', 'latest=auto|true|false,prefix=…,suffix=…')
    .option('--label <key=value>', 'extra label (repeatable)', collect)
    .option('--json', 'print { version, tags, labels } as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  shipgate image tags --image 127.0.0.1:5000/orders\n  shipgate image tags --image ghcr.io/acme/orders --tags "type=ref,event=branch" --tags "type=sha,format=long" --json\n\nPrints one full reference per line.',
    )
    .action(async (opts: { image: string[]; tags?: string[]; flavor?: string; label?: string[]; json?: boolean }, command: Command) => {
      const print = lineWriter(io);
      const inputs = { command: 'tags', image: opts.image.join('\n'), ...(opts.tags ? { tags: opts.tags.join('\n') } : {}), ...(opts.flavor ? { flavor: opts.flavor } : {}), ...(opts.label ? { labels: opts.label.join('\n') } : {}) };
      setExitCode(
        await runImageStep<{ version: string; tags: string[]; labels: Record<string, string> }>(io, steps, inputs, command, (metadata) => {
          if (opts.json) print(JSON.stringify(metadata, null, 2));
          else for (const tag of metadata.tags) print(tag);
        }),
      );
    });
};

const registerPromote: Registrar = (image, io, setExitCode, steps) => {
  addAccessOptions(
    image
      .command('promote')
      .argument('<ref>', 'the image to promote: registry/repo:tag or registry/repo@sha256:…')
      .description('point a tag at an existing image by registry API (no pull, no push of layers) and record it in the environment history')
      .requiredOption('--tag <tag>', 'the tag to point at the image, e.g. production')
      .option('--env <environment>', 'history to record in (default: the tag)')
      .option('--to <repository>', 'target repository on the same registry (layers are mounted, not copied)')
      .option('--force', 'move a release tag (full semver) that already points elsewhere')
      .option('--json', 'print the result as JSON'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  shipgate image promote 127.0.0.1:5000/orders:sha-1a2b3c4 --tag production\n  shipgate image promote 123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders:1.4.0 --tag prod --env production --ecr\n\nExit codes: 0 done, 2 refused (bad input, immutable tag), 3 registry failure.',
    )
    .action(async (ref: string, opts: AccessFlags & { tag: string; env?: string; to?: string; force?: boolean; json?: boolean }, command: Command) => {
      const print = lineWriter(io);
      const inputs = { command: 'promote', image: ref, tag: opts.tag, ...(opts.env ? { environment: opts.env } : {}), ...(opts.to ? { repository: opts.to } : {}), ...(opts.force ? { force: true } : {}), ...accessInputs(opts, io.env) };
      setExitCode(
        await runImageStep<PromoteResult>(io, steps, inputs, command, (result) => {
          if (opts.json) print(JSON.stringify(result, null, 2));
          else if (!result.changed) print(`${result.repository}:${result.tag} already points at ${result.digest}`);
          else print(`${result.repository}:${result.tag} → ${result.digest}${result.previous ? ` (was ${result.previous})` : ''}`);
        }),
      );
    });
};

const registerRollback: Registrar = (image, io, setExitCode, steps) => {
  addAccessOptions(
    image
      .command('rollback')
      .argument('<repository>', 'registry/repository, e.g. 127.0.0.1:5000/orders')
      .description("point the environment's tag back at its previous good image (from the history in the registry)")
      .requiredOption('--env <environment>', 'the environment, e.g. production')
      .option('--tag <tag>', 'the tag to move (default: the one the history records)')
      .option('--to <digest>', 'a digest from the history instead of the previous good one')
      .option('--force', 'move a release tag (full semver)')
      .option('--json', 'print { from, to, tag } as JSON'),
  )
    .addHelpText('after', '\nExamples:\n  shipgate image rollback 127.0.0.1:5000/orders --env production\n\nExit codes: 0 done, 1 nothing to roll back to, 2 bad input, 3 registry failure.')
    .action(async (repository: string, opts: AccessFlags & { env: string; tag?: string; to?: string; force?: boolean; json?: boolean }, command: Command) => {
      const print = lineWriter(io);
      const inputs = { command: 'rollback', image: repository, environment: opts.env, ...(opts.tag ? { tag: opts.tag } : {}), ...(opts.to ? { to: opts.to } : {}), ...(opts.force ? { force: true } : {}), ...accessInputs(opts, io.env) };
      setExitCode(
        await runImageStep<RollbackResult>(io, steps, inputs, command, (result) => {
          if (opts.json) print(JSON.stringify(result, null, 2));
          else print(`${result.repository}:${result.tag} rolled back ${result.from ?? '(none)'} → ${result.to}`);
        }),
      );
    });
};

/** One history entry as a line: when, what, which tag and digest, by whom, from where. */
export function historyLine(e: HistoryEntry): string {
  return `${e.at}  ${e.action.padEnd(8)}  ${e.tag}  ${e.digest}${e.by ? `  by ${e.by}` : ''}${e.source ? `  from ${e.source}` : ''}`;
}

const registerHistory: Registrar = (image, io, setExitCode, steps) => {
  addAccessOptions(
    image
      .command('history')
      .argument('<repository>', 'registry/repository')
      .description("an environment's deployments and rollbacks, newest first")
      .requiredOption('--env <environment>', 'the environment')
      .option('--json', 'print the entries as JSON'),
  ).action(async (repository: string, opts: AccessFlags & { env: string; json?: boolean }, command: Command) => {
    const print = lineWriter(io);
    const inputs = { command: 'history', image: repository, environment: opts.env, ...accessInputs(opts, io.env) };
    setExitCode(
      await runImageStep<HistoryEntry[]>(io, steps, inputs, command, (entries) => {
        if (opts.json) print(JSON.stringify(entries, null, 2));
        else if (!entries.length) print(`no history for ${opts.env} in ${repository}`);
        else for (const e of entries) print(historyLine(e));
      }),
    );
  });
};

export const registerImageCommands: CommandRegistrar = (program, io, setExitCode, steps) => {
  const image = program.command('image').description('versioned images: compute tags, promote and roll back tags by registry API');
  for (const register of [registerTags, registerPromote, registerRollback, registerHistory]) register(image, io, setExitCode, steps);
};

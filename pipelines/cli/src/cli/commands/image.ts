// `shipgate image …`: tags, promote, rollback, history. A thin door over steps/image: parse flags,
// call the same functions the `image` step calls, print. Registry credentials come from
// SHIPGATE_REGISTRY_USERNAME / SHIPGATE_REGISTRY_PASSWORD or from ECR (`--ecr`), never from flags,
// so they stay out of shell history and process lists.
import type { Command } from 'commander';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { resolveCiContext } from '@shipgate/core';
import type { RegistryCredentials } from '@shipgate/image';
import { ecrLoginFor } from '@shipgate/image';
import { parseImageReference } from '@shipgate/image';
import { promoteImage, readImageHistory, rollbackImage, type RegistryAccessOptions } from '@shipgate/image';
import { computeTags, parseFlavor, parseKeyValueLines, parseTagRules } from '@shipgate/image';
import type { CommandRegistrar } from '@shipgate/protocol';
import type { CliIO } from '@shipgate/protocol';

interface AccessFlags {
  insecure?: boolean;
  ecr?: boolean;
  region?: string;
  timeout?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

async function access(flags: AccessFlags, io: CliIO, image: string): Promise<RegistryAccessOptions> {
  let credentials: RegistryCredentials | undefined;
  if (flags.ecr) {
    const region = flags.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
    const login = await ecrLoginFor(parseImageReference(image).registry, { ...(region ? { region } : {}), signal: io.signal });
    credentials = { username: login.username, password: login.password };
  } else if (io.env.SHIPGATE_REGISTRY_PASSWORD) {
    credentials = { username: io.env.SHIPGATE_REGISTRY_USERNAME ?? '', password: io.env.SHIPGATE_REGISTRY_PASSWORD };
  }
  let timeoutMs: number | undefined;
  if (flags.timeout !== undefined) {
    timeoutMs = Number(flags.timeout) * 1000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new ShipgateError('cli.usage', `--timeout "${flags.timeout}" must be a positive number of seconds`, { hint: '--timeout 30' });
  }
  return {
    ...(credentials ? { credentials } : {}),
    ...(flags.insecure ? { insecure: true } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
    signal: io.signal,
  };
}

function addAccessOptions(command: Command): Command {
  return command
    .option('--insecure', 'plain HTTP to a registry that is not on loopback (loopback always is)')
    .option('--ecr', 'log in to Amazon ECR with GetAuthorizationToken (AWS credentials from the environment)')
    .option('--region <region>', 'AWS region for --ecr (default AWS_REGION)')
    .option('--timeout <seconds>', 'per-request timeout (default 30; requests are retried 3 times)');
}

export const registerImageCommands: CommandRegistrar = (program, io, setExitCode) => {
  const image = program.command('image').description('versioned images: compute tags, promote and roll back tags by registry API');
  const print = (line: string) => io.stdout.write(`${line}\n`);

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
    .action(async (opts: { image: string[]; tags?: string[]; flavor?: string; label?: string[]; json?: boolean }) => {
      const ci = await resolveCiContext(io.cwd, io.env);
      const metadata = computeTags(
        { ...ci, now: new Date() },
        {
          images: opts.image,
          ...(opts.tags ? { tags: parseTagRules(opts.tags.join('\n')) } : {}),
          ...(opts.flavor ? { flavor: parseFlavor(opts.flavor) } : {}),
          ...(opts.label ? { labels: parseKeyValueLines(opts.label.join('\n'), '--label') } : {}),
        },
      );
      if (opts.json) print(JSON.stringify({ version: metadata.version, tags: metadata.tags, labels: metadata.labels }, null, 2));
      else for (const tag of metadata.tags) print(tag);
      setExitCode(ExitCode.ok);
    });

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
    .action(async (ref: string, opts: AccessFlags & { tag: string; env?: string; to?: string; force?: boolean; json?: boolean }) => {
      const result = await promoteImage({
        source: ref,
        tag: opts.tag,
        ...(opts.env ? { environment: opts.env } : {}),
        ...(opts.to ? { repository: opts.to } : {}),
        ...(opts.force ? { force: true } : {}),
        ...(io.env.USER ? { actor: io.env.USER } : {}),
        ...(await access(opts, io, ref)),
      });
      if (opts.json) print(JSON.stringify(result, null, 2));
      else if (!result.changed) print(`${result.repository}:${result.tag} already points at ${result.digest}`);
      else print(`${result.repository}:${result.tag} → ${result.digest}${result.previous ? ` (was ${result.previous})` : ''}`);
      setExitCode(ExitCode.ok);
    });

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
    .action(async (repository: string, opts: AccessFlags & { env: string; tag?: string; to?: string; force?: boolean; json?: boolean }) => {
      const result = await rollbackImage({
        repository,
        environment: opts.env,
        ...(opts.tag ? { tag: opts.tag } : {}),
        ...(opts.to ? { to: opts.to } : {}),
        ...(opts.force ? { force: true } : {}),
        ...(io.env.USER ? { actor: io.env.USER } : {}),
        ...(await access(opts, io, repository)),
      });
      if (opts.json) print(JSON.stringify(result, null, 2));
      else print(`${result.repository}:${result.tag} rolled back ${result.from ?? '(none)'} → ${result.to}`);
      setExitCode(ExitCode.ok);
    });

  addAccessOptions(
    image
      .command('history')
      .argument('<repository>', 'registry/repository')
      .description("an environment's deployments and rollbacks, newest first")
      .requiredOption('--env <environment>', 'the environment')
      .option('--json', 'print the entries as JSON'),
  ).action(async (repository: string, opts: AccessFlags & { env: string; json?: boolean }) => {
    const history = await readImageHistory({ repository, environment: opts.env, ...(await access(opts, io, repository)) });
    if (opts.json) print(JSON.stringify(history.entries, null, 2));
    else if (!history.entries.length) print(`no history for ${opts.env} in ${repository}`);
    else for (const e of history.entries) print(`${e.at}  ${e.action.padEnd(8)}  ${e.tag}  ${e.digest}${e.by ? `  by ${e.by}` : ''}${e.source ? `  from ${e.source}` : ''}`);
    setExitCode(ExitCode.ok);
  });
};

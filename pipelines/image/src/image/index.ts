// `uses: image` — versioned container images. One step, five commands:
//   tags     compute tags and OCI labels from the CI context (docker/metadata-action rules)
//   push     build (buildx, else docker build) or take an existing image, tag it, push every tag
//   promote  point a tag at an existing digest through the registry API (no layers move)
//   rollback point an environment's tag back at its previous good digest
//   history  read an environment's deployments and rollbacks from the registry
// Outputs: `tags` and `labels` (newline-separated, as metadata-action sets them), `version`,
// `digest`, for promote / rollback `previous`, and `result`: the whole outcome as JSON (what
// `shipgate image … --json` prints). The run summary gets a tags-and-digests table.
import * as z from 'zod';
import { parseDuration, ShipgateError } from '@shipgate/protocol';
import type { RegistryCredentials } from '../oci/auth.js';
import { ecrLoginFor } from '../oci/ecr.js';
import { parseImageReference } from '../oci/reference.js';
import { defineStep, type StepContext } from '@shipgate/protocol';
import { buildAndPush, hasBuildx } from './build.js';
import { promoteImage, readImageHistory, rollbackImage, type RegistryAccessOptions } from './promote.js';
import { computeTags, parseFlavor, parseKeyValueLines, parseTagRules, type ImageMetadata } from './tags.js';

const lines = (text: string | undefined): string[] => (text ?? '').split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
// cache specs hold commas themselves (type=registry,ref=…): one per line
const newlineList = (text: string | undefined): string[] => (text ?? '').split('\n').map((s) => s.trim()).filter(Boolean);

export const imageInputs = z.strictObject({
  command: z.enum(['tags', 'push', 'promote', 'rollback', 'history']).default('tags').describe('What to do: tags, push, promote, rollback or history.'),
  image: z
    .string()
    .min(1)
    .describe('tags/push: image name(s) without tag (newline or comma separated); promote: the source reference (repo:tag or repo@digest); rollback / history: the repository.'),
  tags: z.string().optional().describe('Tag rules, one per line, as docker/metadata-action: type=semver,pattern={{major}}.{{minor}} …'),
  flavor: z.string().optional().describe('latest=auto|true|false, prefix=…, suffix=…'),
  labels: z.string().optional().describe('Extra labels, key=value per line.'),
  context: z.string().default('.').describe('push: build context directory.'),
  file: z.string().optional().describe('push: Dockerfile path.'),
  'build-args': z.string().optional().describe('push: key=value per line.'),
  target: z.string().optional().describe('push: build stage.'),
  platforms: z.string().optional().describe('push: e.g. linux/amd64,linux/arm64 (several need buildx).'),
  'cache-from': z.string().optional().describe('push: cache sources, one per line (type=registry,ref=… with buildx).'),
  'cache-to': z.string().optional().describe('push: cache exports, one per line (buildx only).'),
  'source-image': z.string().optional().describe('push: an image that already exists locally; tagged and pushed instead of building.'),
  builder: z.enum(['auto', 'buildx', 'docker']).default('auto').describe('push: buildx when available (auto), or force one.'),
  tag: z.string().optional().describe('promote / rollback: the tag to move, e.g. production.'),
  environment: z.string().optional().describe('promote / rollback: the history to record in (default: the tag); history: the one to read.'),
  repository: z.string().optional().describe('promote: target repository on the same registry (default: the source one).'),
  to: z.string().optional().describe('rollback: a digest from the history instead of the previous good one.'),
  force: z.boolean().default(false).describe('promote / rollback: allow moving a full-semver tag.'),
  insecure: z.boolean().default(false).describe('Plain HTTP to a registry that is not on loopback.'),
  username: z.string().optional().describe('Registry user for promote / rollback (docker login covers push).'),
  password: z.string().optional().describe('Registry password or token (masked).'),
  'ecr-login': z.boolean().default(false).describe('Log in to Amazon ECR with GetAuthorizationToken (AWS credentials from the environment).'),
  'aws-region': z.string().optional().describe('ECR region (default AWS_REGION).'),
  'request-timeout': z.string().optional().describe('promote / rollback / history: timeout of each registry request, e.g. 30s (default 30s; each is tried 3 times).'),
});

export type ImageInputs = z.output<typeof imageInputs>;

function summaryTable(rows: Array<[string, string]>, title: string): string {
  return [`### ${title}`, '', '| tag | digest |', '| --- | --- |', ...rows.map(([tag, digest]) => `| \`${tag}\` | \`${digest}\` |`), ''].join('\n');
}

function metadataFor(context: StepContext<ImageInputs>): ImageMetadata {
  const { inputs } = context;
  return computeTags(
    { ...context.ci, now: new Date() },
    {
      images: lines(inputs.image),
      ...(inputs.tags ? { tags: parseTagRules(inputs.tags) } : {}),
      ...(inputs.flavor ? { flavor: parseFlavor(inputs.flavor) } : {}),
      ...(inputs.labels ? { labels: parseKeyValueLines(inputs.labels, 'labels') } : {}),
    },
  );
}

/** Credentials for the registry API: ECR log-in, or username / password inputs. */
async function registryCredentials(context: StepContext<ImageInputs>): Promise<RegistryCredentials | undefined> {
  const { inputs } = context;
  if (inputs['ecr-login']) {
    const login = await ecrLoginFor(parseImageReference(inputs.image).registry, { ...(inputs['aws-region'] ? { region: inputs['aws-region'] } : {}), signal: context.signal });
    context.setSecret(login.password);
    return { username: login.username, password: login.password };
  }
  if (inputs.password) {
    context.setSecret(inputs.password);
    return { username: inputs.username ?? '', password: inputs.password };
  }
  return undefined;
}

async function dockerLoginToEcr(context: StepContext<ImageInputs>): Promise<void> {
  const { inputs } = context;
  const registry = parseImageReference(lines(inputs.image)[0] ?? inputs.image).registry;
  const login = await ecrLoginFor(registry, { ...(inputs['aws-region'] ? { region: inputs['aws-region'] } : {}), signal: context.signal });
  context.setSecret(login.password);
  const result = await context.process.exec('docker', ['login', '--username', login.username, '--password-stdin', login.registry], { input: login.password, quiet: true, timeoutMs: 60_000 });
  if (result.exitCode !== 0) {
    throw new ShipgateError('image.ecr-login', `docker login to ${login.registry} failed: ${result.stderr.trim().split('\n').pop() ?? ''}`, {
      exitCode: 3,
      hint: 'check that the registry in the token is reachable from this machine',
    });
  }
  context.logger.info(`logged in to ${login.registry}`);
}

function need(value: string | undefined, input: string, command: string): string {
  if (!value) throw new ShipgateError('step.inputs', `image: command ${command} needs the input "${input}"`, { hint: `with: { command: ${command}, ${input}: … }` });
  return value;
}

/** The registry access every API command shares: credentials, plain HTTP, the request timeout, the actor for the history. */
async function registryAccess(context: StepContext<ImageInputs>): Promise<RegistryAccessOptions & { actor?: string }> {
  const { inputs } = context;
  const credentials = await registryCredentials(context);
  return {
    ...(credentials ? { credentials } : {}),
    insecure: inputs.insecure,
    signal: context.signal,
    ...(inputs['request-timeout'] ? { timeoutMs: parseDuration(inputs['request-timeout']) } : {}),
    ...(context.ci.actor ? { actor: context.ci.actor } : {}),
  };
}

function tagsCommand(context: StepContext<ImageInputs>): ImageMetadata {
  const metadata = metadataFor(context);
  context.setOutput('tags', metadata.tags.join('\n'));
  context.setOutput('labels', Object.entries(metadata.labels).map(([k, v]) => `${k}=${v}`).join('\n'));
  context.setOutput('version', metadata.version);
  context.setOutput('result', JSON.stringify({ version: metadata.version, tags: metadata.tags, labels: metadata.labels }));
  for (const tag of metadata.tags) context.logger.info(`tag ${tag}`);
  return metadata;
}

async function pushCommand(context: StepContext<ImageInputs>, metadata: ImageMetadata): Promise<void> {
  const { inputs, logger } = context;
  if (inputs['ecr-login']) await dockerLoginToEcr(context);
  const builder = inputs.builder === 'auto' ? ((await hasBuildx(context.process)) ? 'buildx' : 'docker') : inputs.builder;
  logger.info(`building with ${builder === 'buildx' ? 'docker buildx' : 'docker build (buildx not found)'}`);
  const pushed = await buildAndPush(
    context.process,
    {
      builder,
      context: inputs.context,
      tags: metadata.tags,
      labels: metadata.labels,
      buildArgs: inputs['build-args'] ? parseKeyValueLines(inputs['build-args'], 'build-args') : {},
      cacheFrom: newlineList(inputs['cache-from']),
      cacheTo: newlineList(inputs['cache-to']),
      platforms: lines(inputs.platforms),
      ...(inputs.file ? { file: inputs.file } : {}),
      ...(inputs.target ? { target: inputs.target } : {}),
      ...(inputs['source-image'] ? { sourceImage: inputs['source-image'] } : {}),
    },
    context.cwd,
  );
  context.setOutput('digest', pushed.digest);
  context.summary(summaryTable(metadata.tags.map((t) => [t, pushed.digests[t] ?? pushed.digest]), 'Pushed images'));
}

async function promoteCommand(context: StepContext<ImageInputs>): Promise<void> {
  const { inputs } = context;
  const tag = need(inputs.tag, 'tag', 'promote');
  const result = await promoteImage({
    source: inputs.image,
    tag,
    force: inputs.force,
    ...(inputs.environment ? { environment: inputs.environment } : {}),
    ...(inputs.repository ? { repository: inputs.repository } : {}),
    ...(await registryAccess(context)),
  });
  context.logger.info(
    result.changed
      ? `${result.repository}:${tag} → ${result.digest}${result.previous ? ` (was ${result.previous})` : ''}${result.mounted + result.copied ? `; ${result.mounted} blob(s) mounted, ${result.copied} copied` : ''}`
      : `${result.repository}:${tag} already points at ${result.digest}`,
  );
  context.setOutput('digest', result.digest);
  context.setOutput('previous', result.previous ?? '');
  context.setOutput('tags', `${result.repository}:${tag}`);
  context.setOutput('result', JSON.stringify(result));
  context.summary(summaryTable([[`${result.repository}:${tag}`, result.digest], ...(result.previous ? ([[`(before)`, result.previous]] as Array<[string, string]>) : [])], `Promoted to ${result.environment}`));
}

async function rollbackCommand(context: StepContext<ImageInputs>): Promise<void> {
  const { inputs } = context;
  const environment = need(inputs.environment ?? inputs.tag, 'environment', 'rollback');
  const result = await rollbackImage({
    repository: inputs.image,
    environment,
    force: inputs.force,
    ...(inputs.tag ? { tag: inputs.tag } : {}),
    ...(inputs.to ? { to: inputs.to } : {}),
    ...(await registryAccess(context)),
  });
  context.logger.info(`${result.repository}:${result.tag} rolled back ${result.from ?? '(none)'} → ${result.to}`);
  context.setOutput('digest', result.to);
  context.setOutput('previous', result.from ?? '');
  context.setOutput('tags', `${result.repository}:${result.tag}`);
  context.setOutput('result', JSON.stringify(result));
  context.summary(summaryTable([[`${result.repository}:${result.tag}`, result.to], ...(result.from ? ([[`(rolled back from)`, result.from]] as Array<[string, string]>) : [])], `Rolled back ${environment}`));
}

async function historyCommand(context: StepContext<ImageInputs>): Promise<void> {
  const environment = need(context.inputs.environment, 'environment', 'history');
  const { actor: _actor, ...access } = await registryAccess(context);
  const history = await readImageHistory({ repository: context.inputs.image, environment, ...access });
  context.logger.info(`${history.entries.length} entries in the history of ${environment}`);
  context.setOutput('result', JSON.stringify(history.entries));
}

export const imageStep = defineStep({
  name: 'image',
  description: 'Versioned images: compute tags and labels, build and push, promote or roll back a tag by registry API, read the history.',
  inputs: imageInputs,
  outputs: {
    tags: 'Full image references, one per line.',
    labels: 'OCI labels as key=value, one per line.',
    version: 'The main version tag.',
    digest: 'The manifest digest pushed, promoted or rolled back to.',
    previous: 'promote / rollback: the digest the tag pointed at before.',
    result: 'The whole outcome as JSON: tags { version, tags, labels }; promote / rollback the registry result; history the entries, newest first.',
  },
  async run(context) {
    switch (context.inputs.command) {
      case 'tags': {
        const metadata = tagsCommand(context);
        context.summary([`### Image tags`, '', ...metadata.tags.map((t) => `- \`${t}\``), ''].join('\n'));
        return;
      }
      case 'push':
        return pushCommand(context, tagsCommand(context));
      case 'promote':
        return promoteCommand(context);
      case 'rollback':
        return rollbackCommand(context);
      case 'history':
        return historyCommand(context);
    }
  },
});

export { imageErrorExitCode } from './exit-codes.js';
export { computeTags, parseTagRules, parseFlavor, defaultTagRules, sanitizeTag } from './tags.js';
export type { TagRule, TagRules, TagContext, Flavor, ImageMetadata } from './tags.js';
export { promoteImage, rollbackImage, readImageHistory, isImmutableTag } from './promote.js';
export type { PromoteOptions, PromoteResult, RollbackOptions, RollbackResult, HistoryOptions, RegistryAccessOptions } from './promote.js';
export { chooseImageRollbackTarget, badDigests, historyTag } from './history.js';
export type { HistoryEntry, ImageHistory } from './history.js';
export { buildCommands, digestFromPushOutput } from './build.js';
export type { BuildPlan, DockerCommand } from './build.js';

// Building and pushing with the Docker CLI. `docker buildx build --push` when buildx is there (one
// command: build, every tag, cache import / export, multi-platform, digest in a metadata file);
// otherwise the classic `docker build -t … -t …` then one `docker push` per tag. An image that is
// already built (`source-image`) is only tagged and pushed. The commands are computed by a pure
// function, so what runs is table-tested; running them is the step's ProcessRunner.
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import type { ProcessRunner } from '@shipgate/protocol';

export interface BuildPlan {
  builder: 'buildx' | 'docker';
  /** Build context directory; ignored with `sourceImage`. */
  context: string;
  file?: string;
  /** Full references to tag and push. */
  tags: readonly string[];
  labels: Readonly<Record<string, string>>;
  buildArgs: Readonly<Record<string, string>>;
  cacheFrom: readonly string[];
  cacheTo: readonly string[];
  platforms: readonly string[];
  target?: string;
  /** Push an image that exists locally instead of building. */
  sourceImage?: string;
  /** Where buildx writes its metadata (the digest). */
  metadataFile: string;
}

export interface DockerCommand {
  args: string[];
  /** What the command is for, in the log. */
  purpose: string;
}

/** The docker commands that build (or take) the image and push every tag. Pure. */
export function buildCommands(plan: BuildPlan): DockerCommand[] {
  if (!plan.tags.length) throw new ShipgateError('image.no-tags', 'the tag rules produced no tags to push', { hint: 'add a rule that applies here, e.g. tags: "type=sha"' });
  const first = plan.tags[0]!;
  if (plan.sourceImage) {
    return [
      ...plan.tags.map((tag) => ({ args: ['tag', plan.sourceImage!, tag], purpose: `tag ${plan.sourceImage} as ${tag}` })),
      ...plan.tags.map((tag) => ({ args: ['push', tag], purpose: `push ${tag}` })),
    ];
  }
  const common = [
    ...(plan.file ? ['--file', plan.file] : []),
    ...plan.tags.flatMap((tag) => ['--tag', tag]),
    ...Object.entries(plan.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
    ...Object.entries(plan.buildArgs).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
    ...(plan.target ? ['--target', plan.target] : []),
    ...plan.cacheFrom.flatMap((c) => ['--cache-from', c]),
  ];
  if (plan.builder === 'buildx') {
    return [
      {
        args: [
          'buildx',
          'build',
          '--push',
          ...common,
          ...plan.cacheTo.flatMap((c) => ['--cache-to', c]),
          ...(plan.platforms.length ? ['--platform', plan.platforms.join(',')] : []),
          '--metadata-file',
          plan.metadataFile,
          plan.context,
        ],
        purpose: `build and push ${plan.tags.length} tag(s) with buildx`,
      },
    ];
  }
  if (plan.platforms.length > 1) {
    throw new ShipgateError('image.needs-buildx', `platforms ${plan.platforms.join(',')}: building several platforms needs docker buildx`, {
      hint: 'install the buildx plugin, or build one platform per step',
    });
  }
  if (plan.cacheTo.length) {
    throw new ShipgateError('image.needs-buildx', 'cache-to needs docker buildx; the classic builder can only read a cache (cache-from)', {
      hint: 'install the buildx plugin, or remove cache-to',
    });
  }
  return [
    { args: ['build', ...common, ...(plan.platforms.length ? ['--platform', plan.platforms[0]!] : []), plan.context], purpose: `build ${first}` },
    ...plan.tags.map((tag) => ({ args: ['push', tag], purpose: `push ${tag}` })),
  ];
}

/** The digest `docker push` prints: `<tag>: digest: sha256:… size: N`. */
export function digestFromPushOutput(output: string): string | undefined {
  return /digest: (sha256:[a-f0-9]{64})/.exec(output)?.[1];
}

export async function hasBuildx(runner: ProcessRunner): Promise<boolean> {
  const result = await runner.exec('docker', ['buildx', 'version'], { quiet: true, timeoutMs: 15_000 });
  return result.exitCode === 0;
}

export interface PushResult {
  /** Tag reference → digest. */
  digests: Record<string, string>;
  digest: string;
}

/** Runs the plan's docker commands; fails with the command's own output when one fails. */
export async function buildAndPush(runner: ProcessRunner, plan: Omit<BuildPlan, 'metadataFile'>, cwd: string): Promise<PushResult> {
  const metadataFile = path.join(os.tmpdir(), `shipgate-buildx-${randomUUID()}.json`);
  const digests: Record<string, string> = {};
  try {
    for (const command of buildCommands({ ...plan, metadataFile })) {
      const result = await runner.exec('docker', command.args, { cwd });
      if (result.killed) throw new ShipgateError('image.cancelled', `docker ${command.args[0]} was stopped`, { exitCode: ExitCode.failed });
      if (result.exitCode !== 0) {
        const last = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ');
        throw new ShipgateError('image.docker-failed', `docker ${command.args.slice(0, 2).join(' ')} (${command.purpose}) exited with ${result.exitCode}: ${last}`, {
          exitCode: ExitCode.failed,
          hint: /denied|unauthorized|authentication required/i.test(last) ? 'log in to the registry (ecr-login: true for ECR, or docker login)' : 'see the docker output above',
        });
      }
      if (command.args[0] === 'push') {
        const digest = digestFromPushOutput(result.stdout);
        if (digest) digests[command.args[1]!] = digest;
      }
    }
    if (plan.builder === 'buildx' && !plan.sourceImage) {
      const metadata = JSON.parse(await readFile(metadataFile, 'utf8')) as Record<string, unknown>;
      const digest = metadata['containerimage.digest'];
      if (typeof digest === 'string') for (const tag of plan.tags) digests[tag] = digest;
    }
  } finally {
    await rm(metadataFile, { force: true });
  }
  const digest = digests[plan.tags[0]!];
  if (!digest) throw new ShipgateError('image.no-digest', `pushed ${plan.tags[0]} but docker reported no digest`, { exitCode: ExitCode.external, hint: 'check the docker output above' });
  return { digests, digest };
}

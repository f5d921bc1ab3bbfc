// Promote and roll back by re-pointing tags through the registry HTTP API alone: the manifest bytes
// of an existing digest are PUT under another tag. No layer is pulled or pushed, so the time does
// not depend on the image size. Across repositories of one registry the layers are linked with
// cross-repository blob mounts (copied through this process only if the registry refuses).
//
// Round trips are what cost time, so independent requests go out together:
//   promote:  [GET source manifest | GET history]  →  [PUT tag | PUT history]
//             (a release tag also gets a HEAD in the first group: it may move only with --force)
//   rollback: [GET history | HEAD tag]  →  [PUT tag | PUT history]   (the history carries the bytes)
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import type { RegistryCredentials } from '../oci/auth.js';
import { repositoryScope } from '../oci/auth.js';
import { RegistryClient, type FetchFunction, type Manifest, type ManifestJson } from '../oci/client.js';
import { isValidTag, parseImageReference, type ImageReference } from '../oci/reference.js';
import {
  appendEntry,
  carriedManifest,
  chooseImageRollbackTarget,
  decodeHistory,
  emptyBlob,
  encodeHistory,
  historyTag,
  type HistoryEntry,
  type ImageHistory,
} from './history.js';

/** How to reach a registry: what the CLI, the step and the Slack app pass through. */
export interface RegistryAccessOptions {
  credentials?: RegistryCredentials;
  /** Plain HTTP for a non-loopback registry. */
  insecure?: boolean;
  timeoutMs?: number;
  maxAttempts?: number;
  fetch?: FetchFunction;
  signal?: AbortSignal;
  /** Use this client instead of building one (tests, connection reuse across calls). */
  client?: RegistryClient;
}

export interface PromoteOptions extends RegistryAccessOptions {
  /** The image to promote: `registry/repo:tag` or `registry/repo@sha256:…`. */
  source: string;
  /** The tag to point at it, e.g. `production`. */
  tag: string;
  /** Target repository on the same registry (default: the source's). */
  repository?: string;
  /** History to record in (default: the tag name). */
  environment?: string;
  /** Move a full-semver tag that already points elsewhere. */
  force?: boolean;
  /** Recorded in the history. */
  actor?: string;
  now?: Date;
}

export interface PromoteResult {
  /** `registry/repository`. */
  repository: string;
  tag: string;
  environment: string;
  digest: string;
  /**
   * What the tag pointed at before: for a release tag what the registry said, for an environment
   * tag what the environment's history last recorded for it (absent on the first promote).
   */
  previous?: string;
  /** False when the tag already pointed at the digest (no history entry was written). */
  changed: boolean;
  /** Blobs linked by cross-repository mount, and copied because a mount was refused. */
  mounted: number;
  copied: number;
}

export interface RollbackOptions extends RegistryAccessOptions {
  /** `registry/repository`, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders`. */
  repository: string;
  environment: string;
  /** The tag to move (default: the one the history records, else the environment name). */
  tag?: string;
  /** Roll back to this digest instead of the previous good one (it must be in the history). */
  to?: string;
  force?: boolean;
  actor?: string;
  now?: Date;
}

export interface RollbackResult {
  /** The digest the tag pointed at before the rollback. */
  from: string | undefined;
  /** The digest it points at now. */
  to: string;
  tag: string;
  repository: string;
  environment: string;
}

/** A full semver version (`1.2.3`, `v1.2.3-rc.1`): such tags name one build forever. */
export function isImmutableTag(tag: string): boolean {
  return /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(_[0-9A-Za-z.-]+)?$/.test(tag);
}

function clientFor(reference: ImageReference, options: RegistryAccessOptions, scopes: string[]): RegistryClient {
  if (options.client) return options.client;
  return new RegistryClient({
    registry: reference.registry,
    scopes,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.insecure !== undefined ? { insecure: options.insecure } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

function checkTag(tag: string, flag: string): void {
  if (!isValidTag(tag)) {
    throw new ShipgateError('image.bad-tag', `${flag} "${tag}" is not a valid tag: letters, digits, "_", "." and "-", at most 128, not starting with "." or "-"`, {
      hint: 'e.g. --tag production',
    });
  }
  if (tag.startsWith('shipgate-history.')) {
    throw new ShipgateError('image.bad-tag', `${flag} "${tag}" is reserved for shipgate's deployment history`, { hint: 'choose another tag name' });
  }
}

function refuseImmutable(tag: string, current: string | undefined, next: string, force: boolean | undefined): void {
  if (current && current !== next && isImmutableTag(tag) && !force) {
    throw new ShipgateError('image.immutable-tag', `tag "${tag}" is a release version and already points at ${current}; refusing to move it to ${next}`, {
      hint: 'release tags name one build forever: promote to an environment tag instead, or pass --force if you really mean it',
    });
  }
}

async function readHistory(client: RegistryClient, repository: string, environment: string, signal: AbortSignal | undefined): Promise<{ history: ImageHistory; exists: boolean }> {
  const manifest = await client.findManifest(repository, historyTag(environment), signal ? { signal } : {});
  if (!manifest) return { history: { environment, entries: [] }, exists: false };
  return { history: decodeHistory(environment, manifest.json.annotations, manifest.json.artifactType), exists: true };
}

async function writeHistory(client: RegistryClient, repository: string, history: ImageHistory, exists: boolean, signal: AbortSignal | undefined): Promise<void> {
  const call = signal ? { signal } : {};
  // The empty blob the artifact references must be in the repository; an existing history proves it is.
  if (!exists && !(await client.hasBlob(repository, emptyBlob.digest, call))) {
    await client.uploadBlob(repository, emptyBlob.digest, Buffer.from('{}'), emptyBlob.size, call);
  }
  const { bytes, mediaType } = encodeHistory(history);
  await client.putManifest(repository, historyTag(history.environment), bytes, mediaType, call);
}

function blobsOf(json: ManifestJson): Array<{ digest: string; size: number }> {
  return [...(json.config ? [json.config] : []), ...(json.layers ?? [])];
}

/**
 * Makes a manifest (and, for an index, its child manifests) available in another repository of the
 * same registry: blobs by mount (copy when refused), child manifests by digest. Idempotent.
 */
async function carryOver(
  client: RegistryClient,
  manifest: Manifest,
  from: string,
  to: string,
  signal: AbortSignal | undefined,
  counts: { mounted: number; copied: number },
): Promise<void> {
  const call = signal ? { signal } : {};
  const children = manifest.json.manifests ?? [];
  await Promise.all([
    ...blobsOf(manifest.json).map(async (blob) => {
      if (await client.mountBlob(to, blob.digest, from, call)) counts.mounted += 1;
      else {
        await client.copyBlob(from, to, blob, call);
        counts.copied += 1;
      }
    }),
    ...children.map(async (child) => {
      const childManifest = await client.getManifest(from, child.digest, call);
      await carryOver(client, childManifest, from, to, signal, counts);
      await client.putManifest(to, child.digest, childManifest.bytes, childManifest.mediaType, call);
    }),
  ]);
}

function manifestData(manifest: { bytes: Buffer; mediaType: string }): HistoryEntry['manifest'] {
  return { mediaType: manifest.mediaType, data: manifest.bytes.toString('base64') };
}

/** The target repository: a name on the source's registry, or `registry/name` of the same registry. */
function targetRepository(source: ImageReference, text: string | undefined): string {
  if (!text) return source.repository;
  const first = text.split('/')[0]!;
  const hasRegistry = text.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const target = parseImageReference(hasRegistry ? text : `${source.registry}/${text}`);
  if (target.tag || target.digest) {
    throw new ShipgateError('image.bad-reference', `--to "${text}" must be a repository, without tag or digest`, { hint: 'the tag goes in --tag' });
  }
  if (target.registry !== source.registry) {
    throw new ShipgateError('image.cross-registry', `--to "${text}" is on ${target.registry}, the image on ${source.registry}: promote re-points tags within one registry`, {
      hint: 'copy between registries with `skopeo copy` (or docker pull/push) first, then promote there',
    });
  }
  return target.repository;
}

/** Points `tag` (in the source's or another repository of the same registry) at the source image's digest. */
export async function promoteImage(options: PromoteOptions): Promise<PromoteResult> {
  const source = parseImageReference(options.source, { requireVersion: true });
  checkTag(options.tag, '--tag');
  const target = targetRepository(source, options.repository);
  const environment = options.environment ?? options.tag;
  historyTag(environment);
  const signal = options.signal;
  const call = signal ? { signal } : {};
  const client = clientFor(source, options, [repositoryScope(target, true), repositoryScope(source.repository, false)]);

  // What the tag points at now: a release tag is asked of the registry, since it must not move
  // unless forced; for an environment tag the history says what shipgate last put there, which
  // saves a request (the tag is written either way, so a tag moved by hand is still put right).
  const release = isImmutableTag(options.tag);
  const [manifest, head, { history, exists }] = await Promise.all([
    client.getManifest(source.repository, source.digest ?? source.tag!, call),
    release ? client.headManifest(target, options.tag, call) : Promise.resolve(undefined),
    readHistory(client, target, environment, signal),
  ]);
  const recorded = history.entries.find((e) => e.tag === options.tag)?.digest;
  const current = release ? head : recorded ? { digest: recorded } : undefined;
  refuseImmutable(options.tag, current?.digest, manifest.digest, options.force);

  const counts = { mounted: 0, copied: 0 };
  const result = {
    repository: `${source.registry}/${target}`,
    tag: options.tag,
    environment,
    digest: manifest.digest,
    ...(current ? { previous: current.digest } : {}),
  };
  const latest = history.entries[0];
  const unchanged = current?.digest === manifest.digest && latest?.digest === manifest.digest && latest.tag === options.tag;
  // A release tag the registry says is already there is left alone. Any other tag is written on
  // every promote (idempotent), so one moved by hand is put right even when the history has it.
  const putTag = async (): Promise<void> => {
    if (release && current?.digest === manifest.digest) return;
    if (target !== source.repository) await carryOver(client, manifest, source.repository, target, signal, counts);
    await client.putManifest(target, options.tag, manifest.bytes, manifest.mediaType, call);
  };
  if (unchanged) {
    await putTag();
    return { ...result, changed: false, ...counts };
  }

  const entry: HistoryEntry = {
    digest: manifest.digest,
    tag: options.tag,
    action: 'promote',
    at: (options.now ?? new Date()).toISOString(),
    source: `${source.repository}${source.digest ? `@${source.digest}` : `:${source.tag}`}`,
    manifest: manifestData(manifest),
    ...(current ? { from: current.digest } : {}),
    ...(options.actor ? { by: options.actor } : {}),
  };
  await Promise.all([putTag(), writeHistory(client, target, appendEntry(history, entry), exists, signal)]);
  return { ...result, changed: current?.digest !== manifest.digest, ...counts };
}

function parseRepository(text: string): ImageReference {
  const reference = parseImageReference(text);
  if (reference.tag || reference.digest) {
    throw new ShipgateError('image.bad-reference', `"${text}" names a tag or digest; rollback takes a repository`, { hint: 'e.g. 127.0.0.1:5000/orders --env production' });
  }
  return reference;
}

/** Moves the environment's tag back to the previous good digest recorded in its history. */
export async function rollbackImage(options: RollbackOptions): Promise<RollbackResult> {
  const reference = parseRepository(options.repository);
  const repository = reference.repository;
  const environment = options.environment;
  historyTag(environment);
  if (options.tag) checkTag(options.tag, '--tag');
  const signal = options.signal;
  const call = signal ? { signal } : {};
  const client = clientFor(reference, options, [repositoryScope(repository, true)]);
  const guessedTag = options.tag ?? environment;

  const [{ history, exists }, guessedCurrent] = await Promise.all([readHistory(client, repository, environment, signal), client.headManifest(repository, guessedTag, call)]);
  if (!history.entries.length) {
    throw new ShipgateError('image.no-history', `${reference.registry}/${repository} has no deployment history for "${environment}"`, {
      hint: 'rollback needs earlier promotions: `shipgate image promote <image> --tag <tag> --env <env>` records them',
    });
  }
  const tag = options.tag ?? history.entries[0]!.tag;
  // the history says the environment lives on another tag than its name: ask for that one
  const current = tag === guessedTag ? guessedCurrent : await client.headManifest(repository, tag, call);

  let target: HistoryEntry | undefined;
  if (options.to) {
    target = history.entries.find((e) => e.digest === options.to);
    if (!target) {
      throw new ShipgateError('image.not-in-history', `${options.to} was never deployed to "${environment}"`, {
        hint: `shipgate image history ${options.repository} --env ${environment} lists the digests`,
      });
    }
  } else {
    target = chooseImageRollbackTarget(history, current?.digest);
  }
  if (!target) {
    throw new ShipgateError('image.no-rollback-target', `no earlier good image to roll "${environment}" back to (${history.entries.length} entries, all the current one or rolled back)`, {
      exitCode: ExitCode.failed,
      hint: `shipgate image history ${options.repository} --env ${environment} shows what was deployed`,
    });
  }
  refuseImmutable(tag, current?.digest, target.digest, options.force);
  const manifest = carriedManifest(history, target.digest) ?? (await client.getManifest(repository, target.digest, call));

  const entry: HistoryEntry = {
    digest: target.digest,
    tag,
    action: 'rollback',
    at: (options.now ?? new Date()).toISOString(),
    manifest: manifestData(manifest),
    ...(current ? { from: current.digest } : {}),
    ...(options.actor ? { by: options.actor } : {}),
  };
  await Promise.all([client.putManifest(repository, tag, manifest.bytes, manifest.mediaType, call), writeHistory(client, repository, appendEntry(history, entry), exists, signal)]);
  return { from: current?.digest, to: target.digest, tag, repository: `${reference.registry}/${repository}`, environment };
}

export interface HistoryOptions extends RegistryAccessOptions {
  repository: string;
  environment: string;
}

/** The environment's deployment history, newest first (entries without the manifest bytes). */
export async function readImageHistory(options: HistoryOptions): Promise<ImageHistory> {
  const reference = parseRepository(options.repository);
  historyTag(options.environment);
  const client = clientFor(reference, options, [repositoryScope(reference.repository, false)]);
  const { history } = await readHistory(client, reference.repository, options.environment, options.signal);
  return { environment: history.environment, entries: history.entries.map(({ manifest: _manifest, ...rest }) => rest) };
}

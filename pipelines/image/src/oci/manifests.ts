// Manifests over the distribution API: read by tag or digest (checked against the digest asked
// for), resolved with HEAD, stored under a tag. Manifests already seen are revalidated with
// If-None-Match (`manifestCache`), so re-reading an unchanged tag costs a 304 and no body.
import { createHash } from 'node:crypto';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { discard, type CallOptions } from './http.js';
import type { RegistryRequests } from './requests.js';

export const manifestMediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

const acceptManifests = Object.values(manifestMediaTypes).join(', ');

export interface ManifestDescriptor {
  digest: string;
  mediaType: string;
  size: number;
}

export interface Manifest extends ManifestDescriptor {
  /** The exact bytes the registry holds: re-PUT them unchanged and the digest stays the same. */
  bytes: Buffer;
  json: ManifestJson;
}

/** The fields of image manifests and indexes this client reads. */
export interface ManifestJson {
  schemaVersion?: number;
  mediaType?: string;
  artifactType?: string;
  config?: { mediaType: string; digest: string; size: number };
  layers?: Array<{ mediaType: string; digest: string; size: number }>;
  manifests?: Array<{ mediaType: string; digest: string; size: number; platform?: { os?: string; architecture?: string } }>;
  annotations?: Record<string, string>;
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function parseManifest(bytes: Buffer, digest: string, contentType: string | null, what: string): Manifest {
  let json: ManifestJson;
  try {
    json = JSON.parse(bytes.toString('utf8')) as ManifestJson;
  } catch {
    throw new ShipgateError('registry.bad-manifest', `${what} is not a JSON manifest`, { exitCode: ExitCode.external });
  }
  const mediaType = contentType?.split(';')[0]?.trim() || json.mediaType || manifestMediaTypes.ociManifest;
  return { digest, mediaType, size: bytes.length, bytes, json };
}

/**
 * Manifests this process has read or written, by registry URL, repository and tag or digest, with
 * the ETag to revalidate them. A long-lived caller (the Slack app, the engine) then reads an
 * unchanged tag with a 304 and no body: a promote's history read is a third of its registry work.
 * It can never serve a stale manifest: every read still asks the registry, and a manifest is
 * content-addressed, so "not modified" means these exact bytes. Bounded: small manifests only,
 * the least recently used dropped first.
 */
const manifestCache = new Map<string, { manifest: Manifest; etag: string }>();
const manifestCacheLimit = 128;
const cacheableBytes = 64 * 1024;

function remember(key: string, entry: { manifest: Manifest; etag: string }): { manifest: Manifest; etag: string } {
  manifestCache.delete(key);
  if (entry.manifest.size > cacheableBytes) return entry;
  manifestCache.set(key, entry);
  if (manifestCache.size > manifestCacheLimit) manifestCache.delete(manifestCache.keys().next().value!);
  return entry;
}

function cacheKey(http: RegistryRequests, repository: string, reference: string): string {
  return `${http.baseUrl}/${repository}/manifests/${reference}`;
}

/**
 * Reads a manifest, or undefined when the tag or digest does not exist. A manifest this process
 * read or wrote before is asked for with `If-None-Match`: the registry answers 304 without a
 * body when the tag still points at the same digest (see `manifestCache`).
 */
export async function findManifest(http: RegistryRequests, repository: string, reference: string, options: CallOptions = {}): Promise<Manifest | undefined> {
  const key = cacheKey(http, repository, reference);
  const cached = manifestCache.get(key);
  const response = await http.request({
    method: 'GET',
    path: `/v2/${repository}/manifests/${reference}`,
    repository,
    headers: { accept: acceptManifests, ...(cached ? { 'if-none-match': cached.etag } : {}) },
    accept: [200, 304, 404],
    ...options,
  });
  if (response.status === 404) {
    await discard(response);
    manifestCache.delete(key);
    return undefined;
  }
  if (response.status === 304) {
    if (cached) return remember(key, cached).manifest;
    throw new ShipgateError('registry.protocol', `${http.registry}/${repository}:${reference}: the registry answered 304 Not Modified to a request that was not conditional`, {
      exitCode: ExitCode.external,
    });
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  const digest = sha256Digest(bytes);
  // A registry (or anything between) that hands back other bytes than the digest we asked for
  // must not make us tag the wrong image.
  if (reference.startsWith('sha256:') && digest !== reference) {
    throw new ShipgateError('registry.digest-mismatch', `${http.registry}/${repository}@${reference}: the registry returned a manifest with digest ${digest}`, {
      exitCode: ExitCode.external,
      hint: 'a proxy may be rewriting manifests; talk to the registry directly',
    });
  }
  const manifest = parseManifest(bytes, digest, response.headers.get('content-type'), `${http.registry}/${repository}:${reference}`);
  remember(key, { manifest, etag: response.headers.get('etag') ?? `"${digest}"` });
  return manifest;
}

/** The descriptor a tag or digest resolves to (HEAD: no body), or undefined when absent. */
export async function headManifest(http: RegistryRequests, repository: string, reference: string, options: CallOptions = {}): Promise<ManifestDescriptor | undefined> {
  const response = await http.request({
    method: 'HEAD',
    path: `/v2/${repository}/manifests/${reference}`,
    repository,
    headers: { accept: acceptManifests },
    accept: [200, 404],
    ...options,
  });
  if (response.status === 404) return undefined;
  const digest = response.headers.get('docker-content-digest');
  if (!digest) {
    // Docker-Content-Digest is optional in the spec: fall back to reading the bytes.
    const manifest = await findManifest(http, repository, reference, options);
    return manifest && { digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.size };
  }
  return { digest, mediaType: response.headers.get('content-type')?.split(';')[0]?.trim() ?? '', size: Number(response.headers.get('content-length') ?? 0) };
}

/** Stores manifest bytes under a tag (or its digest). Returns the digest. */
export async function putManifest(http: RegistryRequests, repository: string, reference: string, bytes: Buffer, mediaType: string, options: CallOptions = {}): Promise<string> {
  const response = await http.request({
    method: 'PUT',
    path: `/v2/${repository}/manifests/${reference}`,
    repository,
    push: true,
    headers: { 'content-type': mediaType },
    body: bytes,
    accept: [201, 200],
    ...options,
  });
  await discard(response);
  const digest = sha256Digest(bytes);
  // What the tag now holds is known: the next read of it is conditional on that digest.
  if (bytes.length <= cacheableBytes) {
    try {
      remember(cacheKey(http, repository, reference), { manifest: parseManifest(bytes, digest, mediaType, reference), etag: `"${digest}"` });
    } catch {
      // not JSON: nothing to remember
    }
  }
  return response.headers.get('docker-content-digest') ?? digest;
}

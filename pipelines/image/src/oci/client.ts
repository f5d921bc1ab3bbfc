// A small client for the OCI distribution API (the HTTP API every registry speaks: distribution,
// Docker Hub, ECR, GHCR, Harbor …): manifests by tag or digest, blob existence, cross-repository
// mounts and uploads. Enough to re-point tags without pulling or pushing layers.
//
// Every request is bounded: a per-attempt timeout, retries with exponential back-off and jitter
// (cockatiel) for network errors, 429 and 5xx, and the caller's AbortSignal ends it at once. The
// transport is node:http on keep-alive agents by default (transport.ts) and can be injected as a
// fetch function; manifests already seen are revalidated with If-None-Match (`manifestCache`).
import { createHash } from 'node:crypto';
import { ExponentialBackoff, handleWhen, retry, type RetryPolicy } from 'cockatiel';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import {
  basicAuthorization,
  mergeScopes,
  parseAuthChallenge,
  repositoryScope,
  tokenUrl,
  type AuthChallenge,
  type RegistryCredentials,
} from './auth.js';
import { apiHost, isLoopbackRegistry } from './reference.js';
import { defaultTransport, type FetchFunction } from './transport.js';

export type { FetchFunction };

export const manifestMediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

const acceptManifests = Object.values(manifestMediaTypes).join(', ');

export interface RegistryClientOptions {
  /** Host and optional port, e.g. `127.0.0.1:5000`, `docker.io`, `123456789012.dkr.ecr.eu-west-1.amazonaws.com`. */
  registry: string;
  credentials?: RegistryCredentials;
  /** Plain HTTP for a registry that is not on loopback (loopback registries always get HTTP). */
  insecure?: boolean;
  /** Per-attempt timeout of a request. Default 30 s. */
  timeoutMs?: number;
  /** Attempts per request, the first included. Default 3. */
  maxAttempts?: number;
  /** First back-off delay; later ones grow exponentially with jitter. Default 200 ms. */
  initialDelayMs?: number;
  /** Scopes added to every token request, so one token serves a whole operation (fewer round trips). */
  scopes?: readonly string[];
  fetch?: FetchFunction;
  /** Ends every request of this client. Per-call signals are combined with it. */
  signal?: AbortSignal;
}

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

interface CallOptions {
  signal?: AbortSignal;
}

interface RequestSpec {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  /** Path below the registry root (`/v2/…`) or an absolute URL (upload locations). */
  path: string;
  repository: string;
  push?: boolean;
  /** Extra scopes this request needs (a mount also reads the source repository). */
  scopes?: string[];
  headers?: Record<string, string>;
  body?: Buffer | ReadableStream<Uint8Array>;
  signal?: AbortSignal;
  /** Statuses returned to the caller instead of turned into errors. */
  accept: number[];
  /** Whether a failed attempt may be repeated (a streamed body cannot be sent twice). */
  retryable?: boolean;
}

class TransientError extends Error {}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function describe(registry: string, spec: RequestSpec): string {
  return `${spec.method} ${registry}${spec.path.startsWith('http') ? new URL(spec.path).pathname : spec.path}`;
}

async function registryErrorText(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    if (body.errors?.length) return body.errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
  } catch {
    // not JSON: fall through
  }
  return text.slice(0, 200).trim() || response.statusText;
}

/** Bodies up to this size are read to the end rather than cancelled. */
const drainLimit = 64 * 1024;

/**
 * Ends a response whose body is not wanted. A small body is read to the end so the keep-alive
 * connection goes back to the pool: cancelling it makes fetch close the socket, and the next
 * request then pays a new TCP connection (on a near registry that doubled a promote's time).
 */
async function discard(response: Response): Promise<void> {
  if (!response.body) return;
  const length = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(length) && length <= drainLimit) {
    await response.arrayBuffer().catch(() => undefined);
    return;
  }
  await response.body.cancel().catch(() => undefined);
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

export class RegistryClient {
  readonly registry: string;
  readonly baseUrl: string;
  readonly #options: RegistryClientOptions;
  readonly #fetch: FetchFunction;
  readonly #retry: RetryPolicy;
  #challenge: AuthChallenge | undefined;
  readonly #tokens = new Map<string, Promise<string>>();

  constructor(options: RegistryClientOptions) {
    this.#options = options;
    this.registry = options.registry;
    const plain = options.insecure || isLoopbackRegistry(options.registry);
    this.baseUrl = `${plain ? 'http' : 'https'}://${apiHost(options.registry)}`;
    this.#fetch = options.fetch ?? defaultTransport();
    this.#retry = retry(
      handleWhen((error) => error instanceof TransientError),
      { maxAttempts: Math.max(0, (options.maxAttempts ?? 3) - 1), backoff: new ExponentialBackoff({ initialDelay: options.initialDelayMs ?? 200, maxDelay: 5000 }) },
    );
  }

  /** Reads a manifest (image, index, or artifact) by tag or digest. Throws `registry.not-found` when absent. */
  async getManifest(repository: string, reference: string, options: CallOptions = {}): Promise<Manifest> {
    const found = await this.findManifest(repository, reference, options);
    if (!found) {
      throw new ShipgateError('registry.not-found', `${this.registry}/${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference} does not exist`, {
        exitCode: ExitCode.external,
        hint: 'check the repository and tag (skopeo list-tags docker://REGISTRY/REPOSITORY lists the tags)',
      });
    }
    return found;
  }

  /**
   * Reads a manifest, or undefined when the tag or digest does not exist. A manifest this process
   * read or wrote before is asked for with `If-None-Match`: the registry answers 304 without a
   * body when the tag still points at the same digest (see `manifestCache`).
   */
  async findManifest(repository: string, reference: string, options: CallOptions = {}): Promise<Manifest | undefined> {
    const key = this.#cacheKey(repository, reference);
    const cached = manifestCache.get(key);
    const response = await this.#request({
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
      throw new ShipgateError('registry.protocol', `${this.registry}/${repository}:${reference}: the registry answered 304 Not Modified to a request that was not conditional`, {
        exitCode: ExitCode.external,
      });
    }
    const bytes = Buffer.from(await response.arrayBuffer());
    const digest = sha256Digest(bytes);
    // A registry (or anything between) that hands back other bytes than the digest we asked for
    // must not make us tag the wrong image.
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw new ShipgateError('registry.digest-mismatch', `${this.registry}/${repository}@${reference}: the registry returned a manifest with digest ${digest}`, {
        exitCode: ExitCode.external,
        hint: 'a proxy may be rewriting manifests; talk to the registry directly',
      });
    }
    const manifest = parseManifest(bytes, digest, response.headers.get('content-type'), `${this.registry}/${repository}:${reference}`);
    remember(key, { manifest, etag: response.headers.get('etag') ?? `"${digest}"` });
    return manifest;
  }

  /** The descriptor a tag or digest resolves to (HEAD: no body), or undefined when absent. */
  async headManifest(repository: string, reference: string, options: CallOptions = {}): Promise<ManifestDescriptor | undefined> {
    const response = await this.#request({
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
      const manifest = await this.findManifest(repository, reference, options);
      return manifest && { digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.size };
    }
    return { digest, mediaType: response.headers.get('content-type')?.split(';')[0]?.trim() ?? '', size: Number(response.headers.get('content-length') ?? 0) };
  }

  /** Stores manifest bytes under a tag (or its digest). Returns the digest. */
  async putManifest(repository: string, reference: string, bytes: Buffer, mediaType: string, options: CallOptions = {}): Promise<string> {
    const response = await this.#request({
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
        remember(this.#cacheKey(repository, reference), { manifest: parseManifest(bytes, digest, mediaType, reference), etag: `"${digest}"` });
      } catch {
        // not JSON: nothing to remember
      }
    }
    return response.headers.get('docker-content-digest') ?? digest;
  }

  async hasBlob(repository: string, digest: string, options: CallOptions = {}): Promise<boolean> {
    const response = await this.#request({ method: 'HEAD', path: `/v2/${repository}/blobs/${digest}`, repository, accept: [200, 404], ...options });
    return response.status === 200;
  }

  /**
   * Asks the registry to link a blob of `from` into `repository` without moving bytes. True when it
   * did (201); false when it opened an upload instead (202: mount not possible, e.g. across
   * registries' permission boundaries), which is then cancelled.
   */
  async mountBlob(repository: string, digest: string, from: string, options: CallOptions = {}): Promise<boolean> {
    const response = await this.#request({
      method: 'POST',
      path: `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      repository,
      push: true,
      scopes: [repositoryScope(from, false)],
      accept: [201, 202],
      ...options,
    });
    await discard(response);
    if (response.status === 201) return true;
    const location = response.headers.get('location');
    if (location) {
      await this.#request({ method: 'DELETE', path: this.#resolve(location), repository, push: true, accept: [200, 204, 404], ...options })
        .then(discard)
        .catch(() => undefined);
    }
    return false;
  }

  /** Uploads a blob in one request after opening the upload (POST, then PUT with the digest). */
  async uploadBlob(repository: string, digest: string, body: Buffer | ReadableStream<Uint8Array>, size: number, options: CallOptions = {}): Promise<void> {
    const opened = await this.#request({ method: 'POST', path: `/v2/${repository}/blobs/uploads/`, repository, push: true, accept: [202], ...options });
    await discard(opened);
    const location = opened.headers.get('location');
    if (!location) throw new ShipgateError('registry.protocol', `${this.registry}: blob upload opened without a Location header`, { exitCode: ExitCode.external });
    const url = new URL(this.#resolve(location));
    url.searchParams.set('digest', digest);
    const done = await this.#request({
      method: 'PUT',
      path: url.toString(),
      repository,
      push: true,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body,
      accept: [201],
      retryable: Buffer.isBuffer(body),
      ...options,
    });
    await discard(done);
  }

  /** Copies a blob between repositories of this registry by streaming it through this process. */
  async copyBlob(from: string, repository: string, descriptor: { digest: string; size: number }, options: CallOptions = {}): Promise<void> {
    const source = await this.#request({ method: 'GET', path: `/v2/${from}/blobs/${descriptor.digest}`, repository: from, accept: [200], ...options });
    await this.uploadBlob(repository, descriptor.digest, source.body!, descriptor.size, options);
  }

  async listTags(repository: string, options: CallOptions = {}): Promise<string[]> {
    const tags: string[] = [];
    let next: string | undefined = `/v2/${repository}/tags/list?n=1000`;
    // bounded: a registry that keeps sending Link headers cannot loop us forever
    for (let page = 0; next && page < 100; page += 1) {
      const response = await this.#request({ method: 'GET', path: next, repository, accept: [200, 404], ...options });
      if (response.status === 404) return [];
      const body = (await response.json()) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      const link = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
      next = link;
    }
    return tags;
  }

  #cacheKey(repository: string, reference: string): string {
    return `${this.baseUrl}/${repository}/manifests/${reference}`;
  }

  #resolve(location: string): string {
    return new URL(location, this.baseUrl).toString();
  }

  #signal(extra?: AbortSignal): AbortSignal | undefined {
    const signals = [this.#options.signal, extra].filter((s): s is AbortSignal => s !== undefined);
    return signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  }

  async #authorization(spec: RequestSpec, signal: AbortSignal | undefined): Promise<string | undefined> {
    const credentials = this.#options.credentials;
    const challenge = this.#challenge;
    if (challenge?.scheme === 'bearer' && challenge.realm) {
      const scopes = mergeScopes([repositoryScope(spec.repository, spec.push ?? false), ...(spec.scopes ?? []), ...(this.#options.scopes ?? [])]);
      return `Bearer ${await this.#token(challenge, scopes, signal)}`;
    }
    if (credentials && 'token' in credentials) return `Bearer ${credentials.token}`;
    // Basic is sent up front only once we know it is wanted, or when there is no other choice:
    // a Bearer registry would otherwise see the password on every request.
    if (credentials && (challenge?.scheme === 'basic' || challenge === undefined)) return basicAuthorization(credentials);
    return undefined;
  }

  #token(challenge: AuthChallenge, scopes: string[], signal: AbortSignal | undefined): Promise<string> {
    const key = scopes.join(' ');
    let token = this.#tokens.get(key);
    if (!token) {
      token = this.#fetchToken(challenge, scopes, signal);
      // a failed token request is not cached: the next call asks again
      token.catch(() => this.#tokens.delete(key));
      this.#tokens.set(key, token);
    }
    return token;
  }

  async #fetchToken(challenge: AuthChallenge, scopes: string[], signal: AbortSignal | undefined): Promise<string> {
    const credentials = this.#options.credentials;
    const headers: Record<string, string> = {};
    if (credentials && 'username' in credentials) headers.authorization = basicAuthorization(credentials);
    if (credentials && 'token' in credentials) headers.authorization = `Bearer ${credentials.token}`;
    const url = tokenUrl(challenge, scopes);
    const response = await this.#send({ method: 'GET', path: url, repository: '', headers, accept: [200, 401, 403], ...(signal ? { signal } : {}) }, url, headers);
    if (response.status !== 200) {
      const detail = await registryErrorText(response);
      throw this.#authError(response.status, `the token service ${new URL(url).host} refused ${scopes.join(' ')}: ${detail}`);
    }
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new ShipgateError('registry.protocol', `the token service ${new URL(url).host} answered without a token`, { exitCode: ExitCode.external });
    return token;
  }

  #authError(status: number, detail: string): ShipgateError {
    if (status === 403) {
      return new ShipgateError('registry.forbidden', `${this.registry}: access denied — ${detail}`, {
        exitCode: ExitCode.external,
        hint: 'the credentials are valid but lack permission: grant pull (and push to change tags) on the repository',
      });
    }
    return new ShipgateError('registry.unauthorized', `${this.registry}: authentication required or failed — ${detail}`, {
      exitCode: ExitCode.external,
      hint: 'set SHIPGATE_REGISTRY_USERNAME / SHIPGATE_REGISTRY_PASSWORD (or --ecr for Amazon ECR); check they are current',
    });
  }

  /** One HTTP exchange with retries and a per-attempt timeout; network failures become `registry.unreachable`. */
  async #send(spec: RequestSpec, url: string, headers: Record<string, string>): Promise<Response> {
    const signal = this.#signal(spec.signal);
    const timeoutMs = this.#options.timeoutMs ?? 30_000;
    const attempt = async (): Promise<Response> => {
      signal?.throwIfAborted();
      let response: Response;
      try {
        response = await this.#fetch(url, {
          method: spec.method,
          headers: { 'user-agent': 'shipgate', ...headers },
          ...(spec.body ? { body: spec.body as RequestInit['body'], duplex: 'half' } : {}),
          redirect: 'follow',
          signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
        } as RequestInit);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : ((error as Error & { cause?: Error }).cause?.message ?? (error as Error).message);
        if (spec.retryable === false) throw this.#unreachable(spec, reason, error);
        throw new TransientError(reason, { cause: error });
      }
      if ((response.status === 429 || response.status >= 500) && spec.retryable !== false) {
        const detail = await registryErrorText(response);
        throw new TransientError(`${response.status} ${detail}`, { cause: response.status });
      }
      return response;
    };
    try {
      return await this.#retry.execute(attempt, signal);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof TransientError) {
        if (typeof error.cause === 'number') {
          throw new ShipgateError('registry.error', `${describe(this.registry, spec)} failed with ${error.message}`, {
            exitCode: ExitCode.external,
            hint: 'the registry is failing; retry later or check its status page',
          });
        }
        throw this.#unreachable(spec, error.message, error.cause);
      }
      throw error;
    }
  }

  #unreachable(spec: RequestSpec, reason: string, cause: unknown): ShipgateError {
    return new ShipgateError('registry.unreachable', `cannot reach registry ${this.registry} (${this.baseUrl}): ${reason}`, {
      exitCode: ExitCode.external,
      hint: isLoopbackRegistry(this.registry) || this.#options.insecure ? 'is the registry running on that port?' : 'check the host name and network; a registry without TLS needs --insecure',
      cause,
    });
  }

  async #request(spec: RequestSpec): Promise<Response> {
    const url = spec.path.startsWith('http') ? spec.path : `${this.baseUrl}${spec.path}`;
    const signal = this.#signal(spec.signal);
    let current = spec;
    for (let round = 0; round < 2; round += 1) {
      const used = this.#challenge;
      const authorization = await this.#authorization(current, signal);
      const headers = { ...current.headers, ...(authorization ? { authorization } : {}) };
      const response = await this.#send(current, url, headers);
      if (response.status === 401 && !current.accept.includes(401)) {
        const challenge = parseAuthChallenge(response.headers.get('www-authenticate'));
        const detail = await registryErrorText(response);
        const learned = challenge && (used?.scheme !== challenge.scheme || used.realm !== challenge.realm);
        // A Bearer token that lacks a scope the registry names (e.g. a mount's source) earns one
        // more try with that scope added.
        const widened = challenge?.scheme === 'bearer' && used?.scheme === 'bearer' && challenge.scope && !(current.scopes ?? []).includes(challenge.scope);
        // Learn the challenge once and try again; a second 401 means the credentials are wrong.
        // A streamed body cannot be re-sent, so its request is not repeated.
        if (round === 0 && challenge && (learned || widened) && current.retryable !== false) {
          if (!this.#challenge || learned) this.#challenge = challenge;
          if (challenge.scheme === 'basic' && !this.#options.credentials) throw this.#authError(401, `${describe(this.registry, current)}: ${detail}`);
          if (widened) current = { ...current, scopes: [...(current.scopes ?? []), challenge.scope!] };
          continue;
        }
        throw this.#authError(401, `${describe(this.registry, current)}: ${detail}`);
      }
      if (response.status === 403) throw this.#authError(403, `${describe(this.registry, current)}: ${await registryErrorText(response)}`);
      if (!current.accept.includes(response.status)) {
        const detail = await registryErrorText(response);
        const code = response.status === 404 ? 'registry.not-found' : 'registry.error';
        throw new ShipgateError(code, `${describe(this.registry, current)} answered ${response.status}: ${detail}`, {
          exitCode: ExitCode.external,
          hint: response.status === 404 ? 'check the repository name and that the image was pushed' : 'see the registry’s message above',
        });
      }
      return response;
    }
    throw new Error('unreachable');
  }
}

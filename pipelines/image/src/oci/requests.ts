// One registry's HTTP exchanges. Every request is bounded: a per-attempt timeout, retries with
// exponential back-off and jitter (cockatiel) for network errors, 429 and 5xx, and the caller's
// AbortSignal ends it at once. Authorization comes from the RegistryAuthorizer (one more round
// after a 401 that taught it something); statuses the caller did not ask for become errors with
// stable codes. The transport is node:http on keep-alive agents by default (transport.ts) and can
// be injected as a fetch function.
import { ExponentialBackoff, handleWhen, retry, type RetryPolicy } from 'cockatiel';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import type { RegistryCredentials } from './auth.js';
import { RegistryAuthorizer } from './authorizer.js';
import { describeRequest, registryErrorText, type RequestSpec } from './http.js';
import { apiHost, isLoopbackRegistry } from './reference.js';
import { defaultTransport, type FetchFunction } from './transport.js';

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

class TransientError extends Error {}

export class RegistryRequests {
  readonly registry: string;
  readonly baseUrl: string;
  readonly #options: RegistryClientOptions;
  readonly #fetch: FetchFunction;
  readonly #retry: RetryPolicy;
  readonly #auth: RegistryAuthorizer;

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
    this.#auth = new RegistryAuthorizer({ registry: options.registry, credentials: options.credentials, scopes: options.scopes, send: (spec, url, headers) => this.#send(spec, url, headers) });
  }

  /** An upload location (relative or absolute) as an absolute URL. */
  resolve(location: string): string {
    return new URL(location, this.baseUrl).toString();
  }

  /** A request with authorization; a status outside `spec.accept` becomes a ShipgateError. */
  async request(spec: RequestSpec): Promise<Response> {
    const url = spec.path.startsWith('http') ? spec.path : `${this.baseUrl}${spec.path}`;
    const signal = this.#signal(spec.signal);
    let current = spec;
    for (let round = 0; round < 2; round += 1) {
      const used = this.#auth.challenge;
      const authorization = await this.#auth.authorization(current, signal);
      const headers = { ...current.headers, ...(authorization ? { authorization } : {}) };
      const response = await this.#send(current, url, headers);
      if (response.status === 401 && !current.accept.includes(401)) {
        current = await this.#auth.answerUnauthorized(response, current, used, round === 0);
        continue;
      }
      if (response.status === 403) throw this.#auth.authError(403, `${describeRequest(this.registry, current)}: ${await registryErrorText(response)}`);
      if (!current.accept.includes(response.status)) throw await this.#unexpected(current, response);
      return response;
    }
    throw new Error('unreachable');
  }

  async #unexpected(spec: RequestSpec, response: Response): Promise<ShipgateError> {
    const detail = await registryErrorText(response);
    const code = response.status === 404 ? 'registry.not-found' : 'registry.error';
    return new ShipgateError(code, `${describeRequest(this.registry, spec)} answered ${response.status}: ${detail}`, {
      exitCode: ExitCode.external,
      hint: response.status === 404 ? 'check the repository name and that the image was pushed' : 'see the registry’s message above',
    });
  }

  #signal(extra?: AbortSignal): AbortSignal | undefined {
    const signals = [this.#options.signal, extra].filter((s): s is AbortSignal => s !== undefined);
    return signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  }

  /** One HTTP exchange with retries and a per-attempt timeout; network failures become `registry.unreachable`. */
  async #send(spec: RequestSpec, url: string, headers: Record<string, string>): Promise<Response> {
    const signal = this.#signal(spec.signal);
    try {
      return await this.#retry.execute(() => this.#attempt(spec, url, headers, signal), signal);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof TransientError) {
        if (typeof error.cause === 'number') {
          throw new ShipgateError('registry.error', `${describeRequest(this.registry, spec)} failed with ${error.message}`, {
            exitCode: ExitCode.external,
            hint: 'the registry is failing; retry later or check its status page',
          });
        }
        throw this.#unreachable(error.message, error.cause);
      }
      throw error;
    }
  }

  /** One attempt: a network failure, a 429 or a 5xx is transient (retried) unless the body cannot be sent again. */
  async #attempt(spec: RequestSpec, url: string, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<Response> {
    const timeoutMs = this.#options.timeoutMs ?? 30_000;
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
      if (spec.retryable === false) throw this.#unreachable(reason, error);
      throw new TransientError(reason, { cause: error });
    }
    if ((response.status === 429 || response.status >= 500) && spec.retryable !== false) {
      const detail = await registryErrorText(response);
      throw new TransientError(`${response.status} ${detail}`, { cause: response.status });
    }
    return response;
  }

  #unreachable(reason: string, cause: unknown): ShipgateError {
    return new ShipgateError('registry.unreachable', `cannot reach registry ${this.registry} (${this.baseUrl}): ${reason}`, {
      exitCode: ExitCode.external,
      hint: isLoopbackRegistry(this.registry) || this.#options.insecure ? 'is the registry running on that port?' : 'check the host name and network; a registry without TLS needs --insecure',
      cause,
    });
  }
}

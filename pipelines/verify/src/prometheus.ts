// The Prometheus HTTP API (`GET /api/v1/query`), bounded: a timeout per attempt, a few retries with
// back-off and jitter for what may pass on a second try (the network, 5xx, 429), and the caller's
// AbortSignal honoured throughout. A query either gives one number or says why it could not;
// it never throws for Prometheus' own trouble, because the verify step counts that as inconclusive.
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { ShipgateError } from '@shipgate/protocol';
import type { Measurement } from './checks.js';

export interface PrometheusAuth {
  /** The Authorization header value, e.g. `Bearer …` or `Basic …`. */
  header: string;
  /** The secret parts, for the log masker. */
  secrets: string[];
}

export interface PrometheusClientOptions {
  /** Base URL, e.g. `https://prometheus.example.com` (a path prefix is kept). */
  url: string;
  auth?: PrometheusAuth | undefined;
  /** Per attempt. Default 5 s. */
  timeoutMs?: number;
  /** Attempts in all. Default 3. */
  attempts?: number;
  /** First back-off. Default 100 ms. */
  retryDelayMs?: number;
  fetch?: typeof fetch;
}

export interface AuthEnvNames {
  token: string;
  username: string;
  password: string;
}

export const defaultAuthEnv: AuthEnvNames = { token: 'PROMETHEUS_TOKEN', username: 'PROMETHEUS_USERNAME', password: 'PROMETHEUS_PASSWORD' };

/** Bearer token, or basic auth, from the environment (none when neither is set). */
export function prometheusAuthFromEnv(env: Readonly<Record<string, string | undefined>>, names: AuthEnvNames = defaultAuthEnv): PrometheusAuth | undefined {
  const token = env[names.token]?.trim();
  if (token) return { header: `Bearer ${token}`, secrets: [token] };
  const username = env[names.username];
  const password = env[names.password];
  if (username && password) {
    const encoded = Buffer.from(`${username}:${password}`).toString('base64');
    return { header: `Basic ${encoded}`, secrets: [password, encoded] };
  }
  if (username || password) {
    throw new ShipgateError('verify.auth-incomplete', `basic auth for Prometheus needs both ${names.username} and ${names.password}`, { hint: `set both, or a bearer token in ${names.token}` });
  }
  return undefined;
}

class PrometheusHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface ApiResponse {
  status?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

/** One number from an instant query's data, or why there is none. Pure. */
export function measurementFromResponse(body: ApiResponse): Measurement {
  if (body.status !== 'success') return { missing: `query error: ${body.error ?? 'no status in the answer'}` };
  const data = body.data ?? {};
  if (data.resultType === 'scalar') return { value: Number((data.result as [number, string])[1]) };
  if (data.resultType !== 'vector' || !Array.isArray(data.result)) return { missing: `the query gave a ${data.resultType ?? 'malformed result'}, not one number` };
  const series = data.result as { metric?: Record<string, string>; value?: [number, string] }[];
  if (series.length === 0) return { missing: 'no data (empty vector)' };
  if (series.length > 1) return { missing: `${series.length} series, not one number: aggregate the query (sum, max, …)` };
  const raw = series[0]!.value?.[1];
  return raw === undefined ? { missing: 'a series without a value' } : { value: Number(raw) };
}

export class PrometheusClient {
  private readonly base: string;

  constructor(private readonly options: PrometheusClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
  }

  /** Runs an instant query; answers a number or why not. Throws only when `signal` aborts. */
  async query(promql: string, signal?: AbortSignal): Promise<Measurement> {
    try {
      return measurementFromResponse(await this.fetchQuery(promql, signal));
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      return { missing: `Prometheus: ${(error as Error).message}` };
    }
  }

  private async fetchQuery(promql: string, outer: AbortSignal | undefined): Promise<ApiResponse> {
    const doFetch = this.options.fetch ?? fetch;
    const url = `${this.base}/api/v1/query`;
    const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' };
    if (this.options.auth) headers.authorization = this.options.auth.header;
    // 4xx other than 429 is the query's fault (a 400 carries Prometheus' own error): no retry
    const policy = retry(handleWhen((e) => !(e instanceof PrometheusHttpError) || e.status >= 500 || e.status === 429), {
      maxAttempts: Math.max(0, (this.options.attempts ?? 3) - 1),
      backoff: new ExponentialBackoff({ initialDelay: this.options.retryDelayMs ?? 100, maxDelay: 1_000 }),
    }); // not unref'd: during a back-off the delay may be all that keeps a CLI process alive
    return policy.execute(async ({ signal }) => {
      const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 5_000);
      const response = await doFetch(url, { method: 'POST', headers, body: new URLSearchParams({ query: promql }), signal: AbortSignal.any([signal, timeout, ...(outer ? [outer] : [])]) });
      const text = await response.text();
      let body: ApiResponse | undefined;
      try {
        body = JSON.parse(text) as ApiResponse;
      } catch {
        body = undefined;
      }
      if (response.status === 400 || response.status === 422) return body ?? { status: 'error', error: `HTTP ${response.status}` };
      if (!response.ok || !body) throw new PrometheusHttpError(response.status, `HTTP ${response.status}${text ? `: ${text.slice(0, 120)}` : ''}`);
      return body;
    }, outer);
  }
}

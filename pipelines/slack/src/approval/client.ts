// The approval step's side of the Slack app's HTTP API (`POST /api/approvals`, long-polled
// `GET /api/approvals/:id?wait=`). Every call is bounded: a per-attempt timeout, retries with
// exponential back-off and jitter on network errors, 429 and 5xx, and the step's AbortSignal.
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { parseApprovalStatus, type ApprovalStatus } from './decision.js';

/** A failure worth another attempt: the network, a timeout, 429 or a 5xx. */
class TransientError extends Error {}

export interface ApprovalBackend {
  kind: 'shipgate' | 'codepipeline' | 'jenkins' | 'github';
  [field: string]: unknown;
}

export interface ApprovalRequest {
  service: string;
  environment: string;
  version: string;
  digest?: string;
  summary?: string;
  requester?: string;
  expiresInSeconds: number;
  idempotencyKey?: string;
  backend: ApprovalBackend;
}

export interface CreatedApproval {
  id: string;
  state: string;
  expiresAt: string;
}

export interface ApprovalClientOptions {
  baseUrl: string;
  token: string;
  signal: AbortSignal;
  fetch?: typeof fetch;
  /** Attempts per call, first included. Default 5. */
  maxAttempts?: number;
  /** First back-off delay; grows exponentially with decorrelated jitter. Default 1 s. */
  retryBaseDelayMs?: number;
  /** Time for one attempt, on top of the long-poll's own wait. Default 15 s. */
  attemptTimeoutMs?: number;
  onRetry?: (message: string) => void;
}

export class ApprovalClient {
  readonly #options: Required<Omit<ApprovalClientOptions, 'onRetry'>> & Pick<ApprovalClientOptions, 'onRetry'>;
  readonly #policy;

  constructor(options: ApprovalClientOptions) {
    this.#options = { fetch: globalThis.fetch, maxAttempts: 5, retryBaseDelayMs: 1000, attemptTimeoutMs: 15_000, ...options };
    this.#policy = retry(
      handleWhen((e) => e instanceof TransientError),
      { maxAttempts: this.#options.maxAttempts - 1, backoff: new ExponentialBackoff({ initialDelay: this.#options.retryBaseDelayMs, maxDelay: 30_000 }) },
    );
    this.#policy.onRetry((r) => this.#options.onRetry?.(`${'error' in r ? (r.error as Error).message : 'retry'}; trying again in ${Math.round(r.delay)} ms`));
  }

  async create(request: ApprovalRequest): Promise<CreatedApproval> {
    const body = await this.#call('POST', '/api/approvals', request, 0);
    const b = body as Partial<CreatedApproval> | undefined;
    if (typeof b?.id !== 'string' || typeof b.expiresAt !== 'string') {
      throw new ShipgateError('approval.bad-response', 'the Slack app answered POST /api/approvals without an id and expiresAt', { exitCode: ExitCode.external, hint: 'check that SHIPGATE_APP_URL points at the shipgate Slack app' });
    }
    return { id: b.id, state: String(b.state ?? 'pending'), expiresAt: b.expiresAt };
  }

  /** One long-poll: answers when the approval is decided, or after about `waitSeconds` still pending. */
  async status(id: string, waitSeconds: number): Promise<ApprovalStatus> {
    const body = await this.#call('GET', `/api/approvals/${encodeURIComponent(id)}?wait=${waitSeconds}`, undefined, waitSeconds * 1000);
    const status = parseApprovalStatus(body);
    if (!status) {
      throw new ShipgateError('approval.bad-response', `the Slack app's answer for approval ${id} has no id and state`, { exitCode: ExitCode.external, hint: 'check that SHIPGATE_APP_URL points at the shipgate Slack app' });
    }
    return status;
  }

  async #call(method: 'GET' | 'POST', pathAndQuery: string, body: unknown, waitMs: number): Promise<unknown> {
    const { baseUrl, token, signal, fetch: doFetch, attemptTimeoutMs } = this.#options;
    const url = new URL(pathAndQuery.replace(/^\//, ''), baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
    const where = `${method} ${url.pathname}`;
    try {
      return await this.#policy.execute(async () => {
        let response: Response;
        try {
          response = await doFetch(url, {
            method,
            headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            signal: AbortSignal.any([signal, AbortSignal.timeout(waitMs + attemptTimeoutMs)]),
          });
        } catch (error) {
          if (signal.aborted) throw error;
          throw new TransientError(`${where}: ${(error as Error).cause ? String(((error as Error).cause as Error).message ?? (error as Error).cause) : (error as Error).message}`);
        }
        const text = await response.text().catch(() => '');
        if (response.status === 429 || response.status >= 500) throw new TransientError(`${where} answered ${response.status}`);
        if (response.status === 401 || response.status === 403) {
          throw new ShipgateError('approval.unauthorized', `the Slack app refused the API token (${where} answered ${response.status})`, { exitCode: ExitCode.external, hint: 'set SHIPGATE_API_TOKEN (or the token input) to a token the Slack app accepts' });
        }
        if (response.status === 404 && method === 'GET') {
          throw new ShipgateError('approval.not-found', `the Slack app does not know this approval (${where} answered 404)`, { exitCode: ExitCode.external, hint: 'was the approval made against another Slack app (SHIPGATE_APP_URL)?' });
        }
        if (!response.ok) {
          throw new ShipgateError('approval.rejected-request', `the Slack app refused the request: ${where} answered ${response.status}: ${text.slice(0, 200)}`, { exitCode: ExitCode.external, hint: 'check the approval inputs (service, environment, version, backend) against the Slack app API' });
        }
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new ShipgateError('approval.bad-response', `${where} answered ${response.status} with a body that is not JSON`, { exitCode: ExitCode.external, hint: 'check that SHIPGATE_APP_URL points at the shipgate Slack app, not a proxy page' });
        }
      }, signal);
    } catch (error) {
      if (error instanceof TransientError) {
        throw new ShipgateError('approval.unreachable', `the Slack app at ${url.origin} could not be reached after ${this.#options.maxAttempts} attempts: ${error.message}`, { exitCode: ExitCode.external, hint: 'check SHIPGATE_APP_URL and that the Slack app is running (GET /healthz)' });
      }
      throw error;
    }
  }
}

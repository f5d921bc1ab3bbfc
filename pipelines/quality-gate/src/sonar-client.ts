// The SonarQube / SonarCloud Web API, the two calls a gate needs: `api/ce/task` (has the Compute
// Engine finished the analysis the scanner submitted?) and `api/qualitygates/project_status` (what
// did the gate say about that analysis?). Every request is bounded (its own timeout, the caller's
// deadline and AbortSignal); 5xx answers and network failures are retried a bounded number of times
// with exponential back-off and jitter, behind a per-server circuit breaker (cockatiel); everything else becomes a ShipgateError with a
// code of its own, so people (and scripts) can tell a bad token from a server that is down.
import { setTimeout as sleep } from 'node:timers/promises';
import { BrokenCircuitError, ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, retry, wrap, type CircuitBreakerPolicy } from 'cockatiel';
import { ShipgateError, ExitCode } from '@shipgate/protocol';
import { gateStatus, type ConditionStatus, type GateCondition, type GateOperator, type GateResult } from './conditions.js';
import type { ReportTask } from './properties.js';

/** `api/ce/task` → `task` (the fields shipgate reads). */
export interface SonarCeTask {
  id: string;
  type?: string;
  componentKey?: string;
  status: 'PENDING' | 'IN_PROGRESS' | 'SUCCESS' | 'FAILED' | 'CANCELED';
  analysisId?: string;
  errorMessage?: string;
  submittedAt?: string;
  executedAt?: string;
}

/** `api/qualitygates/project_status` → `projectStatus.conditions[]`. */
export interface SonarCondition {
  status: ConditionStatus;
  metricKey: string;
  comparator: GateOperator;
  periodIndex?: number;
  errorThreshold?: string;
  /** SonarQube < 7.6 only. */
  warningThreshold?: string;
  actualValue?: string;
}

export interface SonarProjectStatus {
  status: 'OK' | 'WARN' | 'ERROR' | 'NONE';
  conditions?: SonarCondition[];
  ignoredConditions?: boolean;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface SonarClientOptions {
  /** e.g. https://sonarcloud.io or https://sonar.example.com/sonar (a context path is kept). */
  serverUrl: string;
  /** Sent as `Authorization: Bearer` (SonarQube 10+, SonarCloud; older servers accept it for user tokens too). */
  token?: string;
  fetch?: FetchLike;
  /** Per request. Default 10 s. */
  requestTimeoutMs?: number;
  /** Retries after a 5xx or a network failure. Default 3. */
  retries?: number;
  /** First back-off delay; it doubles (with jitter) up to 10× this. Default 500 ms. */
  retryDelayMs?: number;
}

/** A failure worth trying again (5xx, refused connection, a request that timed out). */
class TransientError extends Error {
  constructor(
    message: string,
    readonly kind: 'server' | 'network',
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * One breaker per server in this process: when calls to it failed (after their retries) this many
 * times in a row, further calls fail at once for a while, so a matrix of gates — or a long-lived
 * process — stops hammering a server that is down instead of each waiting out its own retries.
 */
const breakerThreshold = 3;
const breakerOpenMs = 30_000;
const breakers = new Map<string, CircuitBreakerPolicy>();

function breakerFor(origin: string): CircuitBreakerPolicy {
  let breaker = breakers.get(origin);
  if (!breaker) {
    breaker = circuitBreaker(handleWhen((e) => e instanceof TransientError), { halfOpenAfter: breakerOpenMs, breaker: new ConsecutiveBreaker(breakerThreshold) });
    breakers.set(origin, breaker);
  }
  return breaker;
}

const serverHint = 'check the server URL (SONAR_HOST_URL / host-url) and that the server is up; retry later';

function sonarMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ msg?: string }> };
    const messages = (parsed.errors ?? []).map((e) => e.msg).filter(Boolean);
    return messages.length > 0 ? messages.join('; ') : undefined;
  } catch {
    return undefined;
  }
}

export class SonarClient {
  readonly serverUrl: string;
  readonly #base: URL;
  readonly #token: string | undefined;
  readonly #fetch: FetchLike;
  readonly #requestTimeoutMs: number;
  readonly #retries: number;
  readonly #retryDelayMs: number;

  constructor(options: SonarClientOptions) {
    let base: URL;
    try {
      base = new URL(options.serverUrl.endsWith('/') ? options.serverUrl : `${options.serverUrl}/`);
    } catch {
      throw new ShipgateError('quality-gate.bad-server-url', `"${options.serverUrl}" is not a URL`, { exitCode: ExitCode.usage, hint: 'set SONAR_HOST_URL (or host-url) to e.g. https://sonarcloud.io' });
    }
    this.serverUrl = options.serverUrl;
    this.#base = base;
    this.#token = options.token || undefined;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#retries = options.retries ?? 3;
    this.#retryDelayMs = options.retryDelayMs ?? 500;
  }

  /** The Compute Engine task the scanner's report-task.txt names. */
  async task(id: string, signal: AbortSignal): Promise<SonarCeTask> {
    const body = await this.#get<{ task?: SonarCeTask }>('api/ce/task', { id }, signal, `analysis task ${id}`);
    if (!body.task?.status) throw badResponse('api/ce/task', 'no task.status');
    return body.task;
  }

  /** The quality gate's verdict on one analysis. */
  async projectStatus(analysisId: string, signal: AbortSignal): Promise<SonarProjectStatus> {
    const body = await this.#get<{ projectStatus?: SonarProjectStatus }>('api/qualitygates/project_status', { analysisId }, signal, `analysis ${analysisId}`);
    if (!body.projectStatus?.status) throw badResponse('api/qualitygates/project_status', 'no projectStatus.status');
    return body.projectStatus;
  }

  async #get<T>(endpoint: string, params: Record<string, string>, signal: AbortSignal, what: string): Promise<T> {
    const url = new URL(endpoint, this.#base);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const policy = retry(
      handleWhen((e) => e instanceof TransientError),
      { maxAttempts: this.#retries, backoff: new ExponentialBackoff({ initialDelay: this.#retryDelayMs, maxDelay: this.#retryDelayMs * 10 }) },
    );
    try {
      return await wrap(breakerFor(this.#base.origin), policy).execute(() => this.#once<T>(url, signal, what), signal);
    } catch (error) {
      signal.throwIfAborted();
      if (error instanceof BrokenCircuitError) {
        throw new ShipgateError('quality-gate.unreachable', `the Sonar server at ${this.#base.origin} failed ${breakerThreshold} times in a row; not calling it again for ${breakerOpenMs / 1000} s`, { exitCode: ExitCode.external, hint: serverHint, cause: error });
      }
      if (error instanceof TransientError) {
        const attempts = `${this.#retries + 1} attempts`;
        if (error.kind === 'server') {
          throw new ShipgateError('quality-gate.server-error', `${this.#base.origin} answered ${error.status} to ${endpoint} (${attempts}): ${error.message}`, { exitCode: ExitCode.external, hint: serverHint, cause: error });
        }
        throw new ShipgateError('quality-gate.unreachable', `cannot reach the Sonar server at ${this.#base.origin} (${attempts}): ${error.message}`, { exitCode: ExitCode.external, hint: serverHint, cause: error });
      }
      throw error;
    }
  }

  async #once<T>(url: URL, signal: AbortSignal, what: string): Promise<T> {
    signal.throwIfAborted();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    let response: Response;
    let body: string;
    const requestTimeout = AbortSignal.timeout(this.#requestTimeoutMs);
    try {
      response = await this.#fetch(url.href, { headers, signal: AbortSignal.any([signal, requestTimeout]), redirect: 'follow' });
      body = await response.text();
    } catch (error) {
      signal.throwIfAborted();
      if (requestTimeout.aborted) throw new TransientError(`no answer within ${this.#requestTimeoutMs} ms`, 'network');
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new TransientError(cause?.code ?? cause?.message ?? (error as Error).message, 'network');
    }
    const detail = sonarMessage(body);
    const endpoint = url.pathname.replace(this.#base.pathname, '');
    // 429: SonarCloud's rate limit; like a 5xx it passes, so it is retried with back-off
    if (response.status >= 500 || response.status === 429) throw new TransientError(detail ?? (body.slice(0, 200) || response.statusText), 'server', response.status);
    if (response.status === 401) {
      throw new ShipgateError('quality-gate.unauthorized', `the Sonar server at ${this.#base.origin} rejected the token (401)${this.#token ? '' : ': no token was sent'}`, {
        exitCode: ExitCode.external,
        hint: 'set SONAR_TOKEN to a valid user or project analysis token (My Account → Security); it is read from the environment only',
      });
    }
    if (response.status === 403) {
      throw new ShipgateError('quality-gate.forbidden', `the token may not read ${what} on ${this.#base.origin} (403)${detail ? `: ${detail}` : ''}`, {
        exitCode: ExitCode.external,
        hint: "give the token's user the Browse permission on the project (and Execute Analysis to scan)",
      });
    }
    if (response.status === 404) {
      throw new ShipgateError('quality-gate.not-found', `${what} is not known to ${this.#base.origin} (404)${detail ? `: ${detail}` : ''}`, {
        exitCode: ExitCode.external,
        hint: 'check that report-task.txt comes from this analysis and this server, and the project key (sonar.projectKey)',
      });
    }
    if (!response.ok) {
      throw new ShipgateError('quality-gate.bad-request', `${this.#base.origin} answered ${response.status} to ${endpoint}${detail ? `: ${detail}` : ''}`, { exitCode: ExitCode.external, hint: serverHint });
    }
    try {
      return JSON.parse(body) as T;
    } catch {
      throw badResponse(endpoint, `not JSON: ${body.slice(0, 80)}`);
    }
  }
}

function badResponse(endpoint: string, why: string): ShipgateError {
  return new ShipgateError('quality-gate.bad-response', `unexpected answer from ${endpoint}: ${why}`, {
    exitCode: ExitCode.external,
    hint: 'is SONAR_HOST_URL the Sonar server itself (not a proxy login page)?',
  });
}

/** Sonar's conditions in shipgate's model. */
export function conditionsFromSonar(status: SonarProjectStatus): GateCondition[] {
  return (status.conditions ?? []).map((c) => ({
    metric: c.metricKey,
    actual: c.actualValue,
    operator: c.comparator,
    threshold: c.errorThreshold ?? c.warningThreshold ?? '',
    status: c.status,
  }));
}

/** The gate result for a project status: ERROR if the server or any condition says so. */
export function gateResultFromSonar(status: SonarProjectStatus, dashboardUrl?: string): GateResult {
  const conditions = conditionsFromSonar(status);
  const failed = status.status === 'ERROR' || gateStatus(conditions) === 'ERROR';
  return {
    status: failed ? 'ERROR' : 'OK',
    conditions,
    ...(dashboardUrl ? { dashboardUrl } : {}),
    ...(status.status === 'WARN' || status.status === 'NONE' ? { serverStatus: status.status } : {}),
  };
}

/**
 * How long to wait before the next poll: grows ×1.5 from `initialMs` up to `maxMs`, with "equal
 * jitter" (half fixed, half random) so many pipelines waiting on one server do not poll in step.
 */
export function pollDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, initialMs * 1.5 ** Math.max(0, attempt));
  return Math.round(base / 2 + (base / 2) * random());
}

export interface WaitForQualityGateOptions {
  /** What the scanner wrote (report-task.txt): the task id, the server, the dashboard. */
  reportTask: ReportTask;
  /** Overrides reportTask.serverUrl (a scanner behind a proxy may write an internal URL). */
  serverUrl?: string;
  token?: string;
  fetch?: FetchLike;
  /** The whole wait, polling included. Default 5 minutes. */
  timeoutMs?: number;
  /** First poll interval (it backs off up to maxPollIntervalMs). Default 1 s. */
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
  requestTimeoutMs?: number;
  retries?: number;
  retryDelayMs?: number;
  signal?: AbortSignal;
  /** Told each time the task's status is read (for a "still waiting" log line). */
  onPoll?: (task: SonarCeTask, attempt: number) => void;
  random?: () => number;
}

/**
 * Waits until the Compute Engine has processed the analysis, then returns the quality gate's
 * verdict. Throws ShipgateErrors: quality-gate.analysis-failed / analysis-canceled (the server
 * could not process the analysis), .timeout (the deadline passed), and the client's errors.
 * A gate that fails is NOT an error here: the result's status is ERROR and the caller decides.
 */
export async function waitForQualityGate(options: WaitForQualityGateOptions): Promise<GateResult> {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const outer = options.signal ?? new AbortController().signal;
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([outer, deadline]);
  const client = new SonarClient({
    serverUrl: options.serverUrl ?? options.reportTask.serverUrl,
    ...(options.token ? { token: options.token } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    ...(options.retries !== undefined ? { retries: options.retries } : {}),
    ...(options.retryDelayMs ? { retryDelayMs: options.retryDelayMs } : {}),
  });
  const taskId = options.reportTask.ceTaskId;
  const timedOut = () =>
    new ShipgateError('quality-gate.timeout', `the analysis (task ${taskId}) did not finish within ${Math.round(timeoutMs / 1000)} s`, {
      exitCode: ExitCode.external,
      hint: `raise the wait timeout (timeout / --timeout), or see the Compute Engine queue: ${client.serverUrl.replace(/\/$/, '')}/admin/background_tasks`,
    });
  try {
    for (let attempt = 0; ; attempt += 1) {
      const task = await client.task(taskId, signal);
      options.onPoll?.(task, attempt);
      if (task.status === 'SUCCESS') {
        if (!task.analysisId) throw badResponse('api/ce/task', `task ${taskId} succeeded without an analysisId (task type ${task.type ?? 'unknown'})`);
        const status = await client.projectStatus(task.analysisId, signal);
        return gateResultFromSonar(status, options.reportTask.dashboardUrl);
      }
      if (task.status === 'FAILED') {
        throw new ShipgateError('quality-gate.analysis-failed', `the server failed to process the analysis (task ${taskId})${task.errorMessage ? `: ${task.errorMessage}` : ''}`, {
          exitCode: ExitCode.external,
          hint: `see the task's error details in the project's Background Tasks${options.reportTask.dashboardUrl ? ` (${options.reportTask.dashboardUrl})` : ''}`,
        });
      }
      if (task.status === 'CANCELED') {
        throw new ShipgateError('quality-gate.analysis-canceled', `the analysis (task ${taskId}) was cancelled on the server`, {
          exitCode: ExitCode.external,
          hint: 'an administrator cancelled it, or a newer analysis of the same branch replaced it; run the analysis again',
        });
      }
      await sleep(pollDelay(attempt, options.pollIntervalMs ?? 1000, options.maxPollIntervalMs ?? 10_000, options.random), undefined, { signal });
    }
  } catch (error) {
    outer.throwIfAborted();
    if (deadline.aborted) throw timedOut();
    throw error;
  }
}

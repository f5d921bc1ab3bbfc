// A run's report.json to the Slack app's `POST /api/runs`, which counts it into its pipeline
// metrics (run and step durations, failures per step): CI runners come and go and cannot be
// scraped, the app they already tell about deployments keeps the counts. Bounded: 10 s per
// attempt, 3 attempts on network errors, 429 and 5xx; a 4xx is the request's fault and is not retried.
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import type { RunReport } from './run-report.js';

export interface SendRunReportOptions {
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Per attempt. Default 10 s. */
  timeoutMs?: number;
  /** Attempts in all. Default 3. */
  attempts?: number;
  /** First back-off. Default 200 ms. */
  retryDelayMs?: number;
}

class RefusedError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Posts `report` to `<appUrl>/api/runs`; resolves to whether the app counted it (false: it had this run already). */
export async function sendRunReport(appUrl: string, token: string, report: RunReport, options: SendRunReportOptions = {}): Promise<{ counted: boolean }> {
  const url = `${appUrl.replace(/\/+$/, '')}/api/runs`;
  const policy = retry(handleWhen((e) => !(e instanceof RefusedError) || e.status >= 500 || e.status === 429), {
    maxAttempts: Math.max(0, (options.attempts ?? 3) - 1),
    backoff: new ExponentialBackoff({ initialDelay: options.retryDelayMs ?? 200, maxDelay: 2_000 }),
  }).dangerouslyUnref();
  try {
    return await policy.execute(async ({ signal }) => {
      const response = await (options.fetch ?? fetch)(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(report),
        signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs ?? 10_000), ...(options.signal ? [options.signal] : [])]),
      });
      const text = await response.text();
      if (!response.ok) throw new RefusedError(response.status, `HTTP ${response.status}: ${messageOf(text)}`);
      return { counted: (JSON.parse(text) as { counted?: unknown }).counted === true };
    }, options.signal);
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    const refused = error instanceof RefusedError;
    throw new ShipgateError(refused ? 'report.app-refused' : 'report.app-unreachable', `the Slack app ${refused ? 'refused' : 'did not take'} the run report: ${(error as Error).message}`, {
      hint: refused && (error as RefusedError).status === 401 ? 'SHIPGATE_API_TOKEN must be the token the app was started with' : 'check SHIPGATE_APP_URL; see the bolt-app README for POST /api/runs',
      exitCode: ExitCode.external,
    });
  }
}

function messageOf(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } };
    if (typeof body.error?.message === 'string') return body.error.message;
  } catch {
    // not JSON: the text itself
  }
  return text.slice(0, 200);
}

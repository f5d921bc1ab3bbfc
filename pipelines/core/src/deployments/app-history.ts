// The deployment history as the Slack app keeps it (every pipeline and every replica tells the app,
// so its history is the whole team's, where deployments.jsonl is one machine's): `GET
// /api/deployments`, bounded by a timeout, records checked against the same schema as the file's.
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { deploymentRecordSchema, type DeploymentRecord } from './record.js';

export interface DeploymentQuery {
  service?: string;
  environment?: string;
  /** Only deployments at or after this time. */
  since?: Date;
  /** At most this many, newest kept (the app caps it too). */
  limit?: number;
}

export interface FetchDeploymentsOptions {
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Default 10 s. */
  timeoutMs?: number;
}

/** The Slack app's deployments matching `query`, oldest first. */
export async function fetchDeployments(appUrl: string, token: string, query: DeploymentQuery = {}, options: FetchDeploymentsOptions = {}): Promise<DeploymentRecord[]> {
  const url = new URL(`${appUrl.replace(/\/+$/, '')}/api/deployments`);
  if (query.service) url.searchParams.set('service', query.service);
  if (query.environment) url.searchParams.set('environment', query.environment);
  if (query.since) url.searchParams.set('since', query.since.toISOString());
  if (query.limit) url.searchParams.set('limit', String(query.limit));
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal: AbortSignal.any([timeout, ...(options.signal ? [options.signal] : [])]) });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw new ShipgateError('deployments.app-unreachable', `the Slack app at ${url.origin} did not answer: ${(error as Error).message}`, { hint: 'check SHIPGATE_APP_URL, or unset it to read this machine’s .shipgate/state/deployments.jsonl', exitCode: ExitCode.external });
  }
  const text = await response.text();
  if (!response.ok) {
    const message = errorMessageOf(text) ?? `HTTP ${response.status}`;
    throw new ShipgateError('deployments.app-refused', `the Slack app refused GET /api/deployments: ${message}`, { hint: response.status === 401 ? 'SHIPGATE_API_TOKEN must be the token the app was started with' : 'see the bolt-app README for GET /api/deployments', exitCode: ExitCode.external });
  }
  const body = JSON.parse(text) as { deployments?: unknown };
  if (!Array.isArray(body.deployments)) throw new ShipgateError('deployments.app-refused', 'the Slack app answered GET /api/deployments without a `deployments` list', { hint: 'the app may be older than this CLI: upgrade it', exitCode: ExitCode.external });
  return body.deployments.flatMap((d) => {
    const parsed = deploymentRecordSchema.safeParse(d);
    return parsed.success ? [parsed.data] : [];
  });
}

function errorMessageOf(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } };
    return typeof body.error?.message === 'string' ? body.error.message : undefined;
  } catch {
    return undefined;
  }
}

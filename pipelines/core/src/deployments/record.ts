// Deploy records: every deployment shipgate makes (or rolls back) is one line in
// `<workspace>/.shipgate/state/deployments.jsonl`, and — when SHIPGATE_APP_URL and
// SHIPGATE_API_TOKEN are set — one POST to the Slack app's `/api/deployments`, which posts the
// deployed-version message with its Rollback button. The deployment itself is what matters: a
// failure to tell the app is a warning, never a failed deploy.
import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import * as z from 'zod';
import { makeDirectory, ShipgateError } from '@shipgate/protocol';

/** How the Slack app can undo this deployment (the contract of `POST /api/deployments`). */
export const rollbackRefSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('image'), repository: z.string().min(1), environment: z.string().min(1) }),
  z.strictObject({ kind: z.literal('codedeploy'), application: z.string().min(1), deploymentGroup: z.string().min(1), region: z.string().optional() }),
  z.strictObject({ kind: z.literal('jenkins'), jobUrl: z.url() }),
]);
export type RollbackRef = z.infer<typeof rollbackRefSchema>;

export const deploymentOutcomes = ['succeeded', 'failed', 'rolled-back'] as const;
export type DeploymentOutcome = (typeof deploymentOutcomes)[number];

/** Characters of `reason` the Slack app takes (its API refuses more). */
export const maxReasonLength = 1000;

/** The body of `POST /api/deployments`: exactly the fields the Slack app's API accepts. */
export const deploymentNoticeSchema = z.strictObject({
  service: z.string().min(1),
  environment: z.string().min(1),
  version: z.string().min(1),
  digest: z.string().optional(),
  image: z.string().optional(),
  outcome: z.enum(deploymentOutcomes),
  deployer: z.string().optional(),
  url: z.string().optional(),
  /** The run's report page; the Slack app links it from the deployment message. */
  reportUrl: z.url({ protocol: /^https?$/ }).optional(),
  rollback: rollbackRefSchema.optional(),
  /** The deployed revision's commit and its commit time (ISO 8601): DORA's lead time starts there. */
  commit: z.string().regex(/^[0-9a-f]{7,64}$/i).optional(),
  commitAt: z.iso.datetime({ offset: true }).optional(),
  /**
   * Why this outcome, one line for people (a verify step's failing check): the Slack app shows it
   * on the deployment's message. Longer text is cut to the app's limit when recorded.
   */
  reason: z.string().trim().min(1).max(maxReasonLength).optional(),
});
export type DeploymentNotice = z.infer<typeof deploymentNoticeSchema>;

/** One line of deployments.jsonl: the notice, when, and the provider's own ids. */
export const deploymentRecordSchema = deploymentNoticeSchema.extend({
  /** ISO 8601, when the outcome was known. */
  at: z.string(),
  /** `codedeploy`, `codepipeline`, `image`… — what made the deployment. */
  via: z.string().optional(),
  /** The provider's id: a CodeDeploy deployment id, a pipeline execution id. */
  deploymentId: z.string().optional(),
  /** One line for people: "rolled back to d-ABC (revision s3://…)". */
  detail: z.string().optional(),
  /** From the Slack app's history: this record is its Rollback button putting an earlier release back (the id of the deployment undone). */
  rollbackOf: z.string().optional(),
});
export type DeploymentRecord = z.infer<typeof deploymentRecordSchema>;

export interface RecordDeploymentOptions {
  /** `<workspace>/.shipgate/state` (a step's `stateDir`). */
  stateDir: string;
  /** Reads SHIPGATE_APP_URL, SHIPGATE_API_TOKEN and SHIPGATE_REPORT_URL. */
  env?: Readonly<Record<string, string | undefined>>;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Per POST attempt. Default 5 s. */
  timeoutMs?: number;
  /** POST attempts in all. Default 3. */
  attempts?: number;
  /** First back-off between POST attempts. Default 200 ms. */
  retryDelayMs?: number;
}

export interface RecordDeploymentResult {
  file: string;
  /** The Slack app's id for the deployment, when it was told. */
  appId?: string;
  /** Set when the app was not told: why (for a warning). */
  warning?: string;
}

export const deploymentsFileName = 'deployments.jsonl';

/** Appends the record to deployments.jsonl and tells the Slack app, if one is configured. */
export async function recordDeployment(record: Omit<DeploymentRecord, 'at'> & { at?: string }, options: RecordDeploymentOptions): Promise<RecordDeploymentResult> {
  const reportUrl = record.reportUrl ?? reportUrlFromEnv(options.env ?? process.env);
  const reason = record.reason === undefined ? {} : { reason: clipReason(record.reason) };
  const parsed = deploymentRecordSchema.safeParse({ ...record, ...reason, ...(reportUrl ? { reportUrl } : {}), at: record.at ?? new Date().toISOString() });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; ');
    throw new ShipgateError('deployments.invalid-record', `deploy record: ${issues}`, { hint: 'service, environment and version must be set (step inputs `service`, `environment`, `version`)' });
  }
  const full = parsed.data;
  await makeDirectory(options.stateDir);
  const file = path.join(options.stateDir, deploymentsFileName);
  await appendFile(file, `${JSON.stringify(full)}\n`, 'utf8');

  const env = options.env ?? process.env;
  const appUrl = env.SHIPGATE_APP_URL?.trim();
  const token = env.SHIPGATE_API_TOKEN?.trim();
  if (!appUrl || !token) return { file };
  const notice: DeploymentNotice = deploymentNoticeSchema.parse(Object.fromEntries(Object.entries(full).filter(([k]) => k in deploymentNoticeSchema.shape)));
  try {
    const id = await postNotice(appUrl, token, notice, options);
    return { file, appId: id };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    return { file, warning: `the Slack app was not told about the deployment: ${(error as Error).message}` };
  }
}

/** A reason the app will take: trimmed, and cut with an ellipsis at its limit rather than refused (the record matters more than its last words). */
function clipReason(reason: string): string {
  const text = reason.trim();
  return text.length > maxReasonLength ? `${text.slice(0, maxReasonLength - 1)}…` : text;
}

/**
 * Where CI publishes this run's report.html (SHIPGATE_REPORT_URL, e.g. the workflow run's page or
 * the Jenkins build's report), when it is an http(s) URL; anything else is left out, not an error.
 */
function reportUrlFromEnv(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const given = env.SHIPGATE_REPORT_URL?.trim();
  return given && deploymentNoticeSchema.shape.reportUrl.safeParse(given).success ? given : undefined;
}

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`);
  }
}

async function postNotice(appUrl: string, token: string, notice: DeploymentNotice, options: RecordDeploymentOptions): Promise<string | undefined> {
  const doFetch = options.fetch ?? fetch;
  const url = `${appUrl.replace(/\/+$/, '')}/api/deployments`;
  // Retry what may pass on a second try (the network, a restarting replica: 5xx, 429); a 4xx is
  // the request's fault and will not.
  const policy = retry(
    handleWhen((e) => !(e instanceof HttpStatusError) || e.status >= 500 || e.status === 429),
    { maxAttempts: Math.max(0, (options.attempts ?? 3) - 1), backoff: new ExponentialBackoff({ initialDelay: options.retryDelayMs ?? 200, maxDelay: 2_000 }) },
  ).dangerouslyUnref();
  const posted = policy.execute(async ({ signal }) => {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? 5_000);
    const response = await doFetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(notice),
      signal: AbortSignal.any([signal, timeout, ...(options.signal ? [options.signal] : [])]),
    });
    const text = await response.text();
    if (!response.ok) throw new HttpStatusError(response.status, text);
    try {
      const body = JSON.parse(text) as { id?: unknown };
      return typeof body.id === 'string' || typeof body.id === 'number' ? String(body.id) : undefined;
    } catch {
      return undefined;
    }
  }, options.signal);
  if (!options.signal) return posted;
  // cockatiel does not watch the signal during its back-off delay; stop waiting as soon as it fires.
  posted.catch(() => {});
  const signal = options.signal;
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    posted.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Reads deployments.jsonl, newest last; lines that do not parse are skipped (a hand-edited file). */
export async function readDeployments(stateDir: string): Promise<DeploymentRecord[]> {
  let text: string;
  try {
    text = await readFile(path.join(stateDir, deploymentsFileName), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const records: DeploymentRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed = deploymentRecordSchema.safeParse(JSON.parse(line));
      if (parsed.success) records.push(parsed.data);
    } catch {
      // skip a torn or hand-edited line
    }
  }
  return records;
}

/** Who deployed: an explicit SHIPGATE_DEPLOYER, else the CI's actor, else the local user. */
export function deployerFrom(env: Readonly<Record<string, string | undefined>>, ciActor?: string): string | undefined {
  return env.SHIPGATE_DEPLOYER || ciActor || env.GITHUB_ACTOR || env.BUILD_USER_ID || env.USER || undefined;
}

// The REST API pipelines call (see the README for the contract): ask for an approval, wait for
// its decision (long-poll), record a deployment, read the deployment history, report a run (metrics). Bearer token, compared in constant time.
// Errors are JSON `{ error: { code, message, hint } }`, naming the field that was wrong. Every
// client address has a token bucket (429 with Retry-After); requests without the right token are
// counted in a metric and logged at a bounded rate, never stored one by one.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { approvalRequestSchema, deploymentRequestSchema, differingFields, type Approval } from '../approvals/model.js';
import { checkCredentialTargets, type TrustedOrigins } from '../backends/origins.js';
import { environmentNames, environmentPolicy, type AppConfig } from '../config.js';
import { deploymentRecordView } from '../dora/history.js';
import { runReportSchema } from './pipeline-runs.js';
import type { ClientRateLimiter } from './rate-limit.js';
import type { Store } from '../store/store.js';
import type { AppMetrics } from './metrics.js';

export interface ApiDeps {
  store: Store;
  config: () => AppConfig;
  apiToken: string | undefined;
  metrics: AppMetrics;
  logger: Logger;
  now: () => Date;
  onWork: () => void;
  /** Resolves when `id` may have changed, or after `ms` (whichever first). */
  waitForChange: (id: string, ms: number, signal: AbortSignal) => Promise<void>;
  /** Where the app's credentials may go (JENKINS_URL, SHIPGATE_REGISTRY_HOSTS…). */
  trusted: TrustedOrigins;
  rateLimiter: ClientRateLimiter;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const maxBody = 64 * 1024;
/** A run's report.json carries the last lines of every step's log: larger than the other requests. */
const maxRunReport = 4 * 1024 * 1024;
const maxWaitSeconds = 60;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/** Constant-time: both sides hashed to the same length first, so neither length nor content leaks. */
export function tokenMatches(given: string | undefined, expected: string | undefined): boolean {
  if (!given || !expected) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The bearer token exactly as sent: `Bearer <token>`, nothing before or after it. */
export function bearerToken(header: string | undefined): string | undefined {
  return header ? /^Bearer ([\x21-\x7e]+)$/.exec(header)?.[1] : undefined;
}

/**
 * The first string (value or key) that the database cannot store or that is not text: a NUL
 * character (Postgres text refuses it) or a lone UTF-16 surrogate. Returns its field path.
 */
export function unstorableString(value: unknown, path: string[] = []): { field: string; why: string } | undefined {
  const bad = (s: string) => (s.includes('\u0000') ? 'contains a NUL character' : s.isWellFormed() ? undefined : 'contains a lone UTF-16 surrogate (not text)');
  if (typeof value === 'string') {
    const why = bad(value);
    return why ? { field: path.join('.') || '(body)', why } : undefined;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const whyKey = bad(k);
      if (whyKey) return { field: [...path, JSON.stringify(k)].join('.'), why: `the key ${whyKey}` };
      const found = unstorableString(v, [...path, k]);
      if (found) return found;
    }
  }
  return undefined;
}

async function readJson(req: IncomingMessage, limit = maxBody): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  // application/json itself, with parameters at most: not application/json-patch+json and the like
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new ApiError(415, 'api.content-type', `content-type must be application/json, got "${type || 'none'}"`, 'send the body as JSON');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ApiError(413, 'api.too-large', `the body is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new ApiError(400, 'api.bad-json', `the body is not JSON: ${(error as Error).message}`);
  }
  const unstorable = unstorableString(body);
  if (unstorable) throw new ApiError(400, 'api.invalid', `${unstorable.field}: ${unstorable.why}`, 'send plain UTF-8 text');
  return body;
}

function validate<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.join('.') || '(body)';
  throw new ApiError(400, 'api.invalid', `${field}: ${issue.message}`, 'see the bolt-app README for the request format');
}

function approvalView(a: Approval) {
  return {
    id: a.id,
    state: a.state,
    service: a.service,
    environment: a.environment,
    version: a.version,
    expiresAt: a.expiresAt.toISOString(),
    ...(a.decidedBy ? { decidedBy: a.decidedBy } : {}),
    ...(a.decidedAt ? { decidedAt: a.decidedAt.toISOString() } : {}),
    ...(a.reason ? { reason: a.reason } : {}),
  };
}

function environmentOf(config: AppConfig, name: string) {
  const env = environmentPolicy(config, name);
  if (!env) throw new ApiError(400, 'api.unknown-environment', `environment: "${name}" is not in the Slack app's config`, `configured: ${environmentNames(config).join(', ') || 'none'}`);
  return env;
}

function trustedTargets(request: Parameters<typeof checkCredentialTargets>[0], trusted: TrustedOrigins): void {
  const untrusted = checkCredentialTargets(request, trusted);
  if (untrusted) throw new ApiError(400, 'api.untrusted-url', `${untrusted.field}: ${untrusted.message}`, 'ask the Slack app’s operator to add it (JENKINS_URL, SHIPGATE_REGISTRY_HOSTS), or fix the URL');
}

/**
 * Requests without the right token: counted in a metric, and logged at most once per `windowMs`
 * with how many came since (an attacker's flood costs one line, not one row each).
 */
function refusalLog(log: Logger, windowMs = 10_000) {
  let since = 0;
  let timer: NodeJS.Timeout | undefined;
  let last: Record<string, unknown> = {};
  const flush = () => {
    timer = undefined;
    if (since) log.warn({ ...last, refused: since, windowSeconds: windowMs / 1000 }, 'API requests refused: unauthorized');
    since = 0;
  };
  return (detail: Record<string, unknown>) => {
    last = detail;
    if (timer) return void since++;
    log.warn({ ...detail, refused: 1 }, 'API request refused: unauthorized');
    timer = setTimeout(flush, windowMs);
    timer.unref();
  };
}

/** A path or value for a log line: at most 100 characters. */
function clip(text: string, max = 100): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

const maxListed = 10_000;

/** `GET /api/deployments?service=&environment=&since=&limit=`: the history, oldest first, as deployments.jsonl records. */
async function listDeployments(deps: ApiDeps, query: URLSearchParams) {
  const sinceParam = query.get('since');
  const since = sinceParam === null ? new Date(deps.now().getTime() - 30 * 86_400_000) : new Date(sinceParam);
  if (Number.isNaN(since.getTime())) throw new ApiError(400, 'api.invalid', `since: "${clip(sinceParam ?? '')}" is not an ISO 8601 time`, 'e.g. since=2026-03-01T00:00:00Z (default: 30 days ago)');
  const limitParam = query.get('limit');
  const limit = limitParam === null ? 1000 : Number(limitParam);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxListed) throw new ApiError(400, 'api.invalid', `limit: "${clip(limitParam ?? '')}" is not a whole number from 1 to ${maxListed}`);
  const filter = { ...(query.get('service') ? { service: query.get('service')! } : {}), ...(query.get('environment') ? { environment: query.get('environment')! } : {}) };
  return (await deps.store.deployments.since(since, filter, limit)).map(deploymentRecordView);
}

/** Handles `/api/*`; returns false for paths it does not know. */
export function apiHandler(deps: ApiDeps): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> {
  const log = deps.logger.child({ component: 'api' });
  const refused = refusalLog(log);
  return async (req, res, url) => {
    try {
      const client = req.socket.remoteAddress ?? 'unknown';
      const rate = deps.rateLimiter.take(client);
      if (!rate.ok) {
        deps.metrics.apiRefusals.inc({ reason: 'rate-limited' });
        throw new ApiError(429, 'api.rate-limited', `too many requests from ${client}: try again in ${rate.retryAfterSeconds} s`, 'see Retry-After; the limits are SHIPGATE_API_RATE and SHIPGATE_API_BURST', { 'retry-after': String(rate.retryAfterSeconds) });
      }
      const given = bearerToken(req.headers.authorization);
      if (!deps.apiToken) throw new ApiError(503, 'api.disabled', 'the API is disabled: SHIPGATE_API_TOKEN is not set on the Slack app', 'set SHIPGATE_API_TOKEN on the app and the pipelines');
      if (!tokenMatches(given, deps.apiToken)) {
        deps.metrics.apiRefusals.inc({ reason: 'unauthorized' });
        refused({ client, method: req.method, path: clip(url.pathname), token: req.headers.authorization ? 'wrong' : 'none' });
        throw new ApiError(401, 'api.unauthorized', 'missing or wrong bearer token', 'send Authorization: Bearer $SHIPGATE_API_TOKEN');
      }
      const path = url.pathname;
      if (path === '/api/approvals' && req.method === 'POST') {
        const request = validate(approvalRequestSchema, await readJson(req));
        const env = environmentOf(deps.config(), request.environment);
        trustedTargets(request, deps.trusted);
        const { approval, created } = await deps.store.approvals.create(request, { channel: env.channel, now: deps.now() });
        const differs = created ? [] : differingFields(request, approval);
        if (differs.length) throw new ApiError(409, 'api.idempotency-conflict', `idempotencyKey: "${clip(request.idempotencyKey ?? '')}" was used by another request (it differs in ${differs.join(', ')})`, 'use a key unique to this request, e.g. the build’s URL or id with the step and environment');
        if (created) {
          deps.metrics.requests.inc({ environment: approval.environment });
          deps.onWork();
          log.info({ approval: approval.id, service: approval.service, environment: approval.environment, version: approval.version, backend: approval.backend.kind }, 'approval requested');
        }
        return send(res, created ? 201 : 200, { id: approval.id, state: approval.state, expiresAt: approval.expiresAt.toISOString() });
      }
      const one = /^\/api\/approvals\/([\w-]+)$/.exec(path);
      if (one && req.method === 'GET') {
        const id = one[1]!;
        const waitParam = url.searchParams.get('wait');
        const wait = waitParam === null ? 0 : Number(waitParam);
        if (!Number.isFinite(wait) || wait < 0) throw new ApiError(400, 'api.invalid', `wait: "${waitParam}" is not a number of seconds`, `0 to ${maxWaitSeconds}`);
        const deadline = Date.now() + Math.min(wait, maxWaitSeconds) * 1000;
        const gone = new AbortController();
        res.on('close', () => gone.abort());
        let approval = await deps.store.approvals.get(id);
        if (!approval) throw new ApiError(404, 'api.not-found', `no approval ${id}`);
        // long-poll: wake on a local decision, and look again every second (another replica may decide)
        while (approval.state === 'pending' && Date.now() < deadline && !gone.signal.aborted) {
          await deps.waitForChange(id, Math.min(1000, deadline - Date.now()), gone.signal);
          approval = (await deps.store.approvals.get(id)) ?? approval;
        }
        if (gone.signal.aborted) return;
        return send(res, 200, approvalView(approval));
      }
      if (path === '/api/deployments' && req.method === 'POST') {
        const request = validate(deploymentRequestSchema, await readJson(req));
        trustedTargets(request, deps.trusted);
        // a deployment to an environment without a channel is still history (status, rollback
        // targets); it is only not posted
        const env = environmentPolicy(deps.config(), request.environment);
        const deployment = await deps.store.deployments.record(request, { channel: env?.channel ?? null, now: deps.now() });
        deps.onWork();
        deps.metrics.deployments.inc({ service: deployment.service, environment: deployment.environment, outcome: deployment.outcome });
        log.info({ deployment: deployment.id, service: deployment.service, environment: deployment.environment, version: deployment.version, outcome: deployment.outcome }, 'deployment recorded');
        return send(res, 201, { id: deployment.id });
      }
      if (path === '/api/runs' && req.method === 'POST') {
        const run = validate(runReportSchema, await readJson(req, maxRunReport));
        const counted = deps.metrics.pipelineRuns.count(run);
        return send(res, counted ? 201 : 200, { runId: run.runId, counted });
      }
      if (path === '/api/deployments' && req.method === 'GET') return send(res, 200, { deployments: await listDeployments(deps, url.searchParams) });
      if (path === '/api/approvals' || one || path === '/api/deployments' || path === '/api/runs') throw new ApiError(405, 'api.method', `${req.method} is not allowed on ${path}`);
      throw new ApiError(404, 'api.not-found', `no such endpoint: ${path}`, 'POST /api/approvals, GET /api/approvals/:id, POST /api/deployments, GET /api/deployments, POST /api/runs');
    } catch (error) {
      if (error instanceof ApiError) return send(res, error.status, { error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) } }, error.headers);
      log.error({ err: (error as Error).message }, 'API request failed');
      return send(res, 500, { error: { code: 'api.internal', message: 'the Slack app failed to handle this request; see its logs' } });
    }
  };
}

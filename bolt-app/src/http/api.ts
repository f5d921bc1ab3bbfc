// The REST API pipelines call (see the README for the contract): ask for an approval, wait for
// its decision (long-poll), record a deployment. Bearer token, compared in constant time.
// Errors are JSON `{ error: { code, message, hint } }`, naming the field that was wrong.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { approvalRequestSchema, deploymentRequestSchema, type Approval } from '../approvals/model.js';
import type { AppConfig } from '../config.js';
import type { ApprovalStore } from '../store/store.js';
import type { AppMetrics } from './metrics.js';

export interface ApiDeps {
  store: ApprovalStore;
  config: () => AppConfig;
  apiToken: string | undefined;
  metrics: AppMetrics;
  logger: Logger;
  now: () => Date;
  onWork: () => void;
  /** Resolves when `id` may have changed, or after `ms` (whichever first). */
  waitForChange: (id: string, ms: number, signal: AbortSignal) => Promise<void>;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const maxBody = 64 * 1024;
const maxWaitSeconds = 60;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** Constant-time: both sides hashed to the same length first, so neither length nor content leaks. */
export function tokenMatches(given: string | undefined, expected: string | undefined): boolean {
  if (!given || !expected) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) throw new ApiError(415, 'api.content-type', `content-type must be application/json, got "${type || 'none'}"`, 'send the body as JSON');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBody) throw new ApiError(413, 'api.too-large', `the body is larger than ${maxBody} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new ApiError(400, 'api.bad-json', `the body is not JSON: ${(error as Error).message}`);
  }
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
  const env = config.environments[name];
  if (!env) throw new ApiError(400, 'api.unknown-environment', `environment: "${name}" is not in the Slack app's config`, `configured: ${Object.keys(config.environments).join(', ') || 'none'}`);
  return env;
}

/** Handles `/api/*`; returns false for paths it does not know. */
export function apiHandler(deps: ApiDeps): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> {
  const log = deps.logger.child({ component: 'api' });
  return async (req, res, url) => {
    try {
      const auth = req.headers.authorization;
      const given = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
      if (!deps.apiToken) throw new ApiError(503, 'api.disabled', 'the API is disabled: SHIPGATE_API_TOKEN is not set on the Slack app', 'set SHIPGATE_API_TOKEN on the app and the pipelines');
      if (!tokenMatches(given, deps.apiToken)) {
        await deps.store.audit({ action: 'api.unauthorized', outcome: given ? 'wrong-token' : 'no-token', detail: { method: req.method, path: url.pathname } }).catch(() => undefined);
        throw new ApiError(401, 'api.unauthorized', 'missing or wrong bearer token', 'send Authorization: Bearer $SHIPGATE_API_TOKEN');
      }
      const path = url.pathname;
      if (path === '/api/approvals' && req.method === 'POST') {
        const request = validate(approvalRequestSchema, await readJson(req));
        const env = environmentOf(deps.config(), request.environment);
        const { approval, created } = await deps.store.createApproval(request, { channel: env.channel, now: deps.now() });
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
        let approval = await deps.store.getApproval(id);
        if (!approval) throw new ApiError(404, 'api.not-found', `no approval ${id}`);
        // long-poll: wake on a local decision, and look again every second (another replica may decide)
        while (approval.state === 'pending' && Date.now() < deadline && !gone.signal.aborted) {
          await deps.waitForChange(id, Math.min(1000, deadline - Date.now()), gone.signal);
          approval = (await deps.store.getApproval(id)) ?? approval;
        }
        if (gone.signal.aborted) return;
        return send(res, 200, approvalView(approval));
      }
      if (path === '/api/deployments' && req.method === 'POST') {
        const request = validate(deploymentRequestSchema, await readJson(req));
        // a deployment to an environment without a channel is still history (status, rollback
        // targets); it is only not posted
        const env = deps.config().environments[request.environment];
        const deployment = await deps.store.recordDeployment(request, { channel: env?.channel ?? null, now: deps.now() });
        deps.onWork();
        log.info({ deployment: deployment.id, service: deployment.service, environment: deployment.environment, version: deployment.version, outcome: deployment.outcome }, 'deployment recorded');
        return send(res, 201, { id: deployment.id });
      }
      if (path === '/api/approvals' || one || path === '/api/deployments') throw new ApiError(405, 'api.method', `${req.method} is not allowed on ${path}`);
      throw new ApiError(404, 'api.not-found', `no such endpoint: ${path}`, 'POST /api/approvals, GET /api/approvals/:id, POST /api/deployments');
    } catch (error) {
      if (error instanceof ApiError) return send(res, error.status, { error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) } });
      log.error({ err: (error as Error).message }, 'API request failed');
      return send(res, 500, { error: { code: 'api.internal', message: 'the Slack app failed to handle this request; see its logs' } });
    }
  };
}

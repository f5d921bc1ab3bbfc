// Test stand-ins that speak the far ends' documented wire formats on 127.0.0.1: Slack's Web API
// (form-encoded POST /api/<method>, JSON answers), response_url, Jenkins and GitHub. And signed
// Slack requests (v0 HMAC-SHA256 of `v0:<timestamp>:<body>`) shaped like Slack's own payloads.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { createShipgateApp, type ShipgateApp, type ShipgateAppOptions } from '../src/app.js';
import type { AppConfig } from '../src/config.js';
import { redactedPaths } from '../src/log.js';
import { openPglite } from '../src/store/sql.js';
import { ApprovalStore, type Store } from '../src/store/store.js';

export const signingSecret = 'test-signing-secret-8c1f0e';
export const botToken = 'xoxb-t3st-42';
export const apiToken = 'api-token-for-tests-5e2b9d';

export const users = { ada: 'U0ADA00001', bob: 'U0BOB00002', eve: 'U0EVE00003', gus: 'U0GUS00004' } as const;
export const group = 'S0OPS00001';

export const testConfig: AppConfig = {
  environments: {
    prod: { channel: 'C0PROD0001', approvers: [users.ada, group], selfApprove: false },
    staging: { channel: 'C0STAG0001', approvers: [users.ada, users.bob], selfApprove: true },
  },
};

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

export async function listen(handler: (req: IncomingMessage, res: ServerResponse, text: string) => void | Promise<void>): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    void body(req).then((text) => handler(req, res, text));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    url,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export interface SlackCall {
  method: string;
  args: Record<string, any>;
  token: string | undefined;
}

/** Slack's Web API, as the WebClient sees it: POST /api/<method>, form or JSON body, `{ ok: true, … }` answers. */
export async function slackStandIn(options: { groups?: Record<string, string[]>; emails?: Record<string, string>; socketUrl?: string; members?: Record<string, string[]> } = {}) {
  /** Set to n: the next n chat.postMessage calls answer 503 (Slack having a bad minute). */
  const outage = { postMessage: 0 };
  /** Web API methods that answer `{ ok: false, error: 'fatal_error' }` while listed here. */
  const failing = new Set<string>();
  const calls: SlackCall[] = [];
  const responses: Array<{ path: string; body: any }> = [];
  let ts = 1_700_000_000;
  const groups = options.groups ?? { [group]: [users.gus] };
  const s = await listen((req, res, text) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const reply = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (url.pathname.startsWith('/response/')) {
      responses.push({ path: url.pathname, body: JSON.parse(text || '{}') });
      return reply(200, { ok: true });
    }
    const method = url.pathname.replace(/^\/api\//, '');
    let args: Record<string, any> = {};
    if ((req.headers['content-type'] ?? '').includes('json')) args = JSON.parse(text || '{}');
    else for (const [k, v] of new URLSearchParams(text)) args[k] = /^[[{]/.test(v) ? JSON.parse(v) : v;
    calls.push({ method, args, token: req.headers.authorization?.replace(/^Bearer /, '') });
    if (failing.has(method)) return reply(200, { ok: false, error: 'fatal_error' });
    switch (method) {
      case 'auth.test':
        return reply(200, { ok: true, user_id: 'U0BOT00000', bot_id: 'B0BOT00000', team_id: 'T0TEAM0000', user: 'shipgate' });
      case 'chat.postMessage':
        if (outage.postMessage > 0) {
          outage.postMessage--;
          return reply(503, { ok: false, error: 'service_unavailable' });
        }
        return reply(200, { ok: true, channel: args.channel, ts: `${++ts}.000100`, message: { text: args.text } });
      case 'chat.update':
        return reply(200, { ok: true, channel: args.channel, ts: args.ts });
      case 'chat.postEphemeral':
        return reply(200, { ok: true, message_ts: `${ts}.000200` });
      case 'views.open':
        return reply(200, { ok: true, view: { id: 'V0VIEW0001' } });
      case 'usergroups.users.list':
        return groups[args.usergroup] ? reply(200, { ok: true, users: groups[args.usergroup] }) : reply(200, { ok: false, error: 'no_such_subteam' });
      case 'apps.connections.open':
        return options.socketUrl ? reply(200, { ok: true, url: options.socketUrl }) : reply(200, { ok: false, error: 'not_allowed_token_type' });
      case 'users.info':
        return reply(200, { ok: true, user: { id: args.user, name: String(args.user).toLowerCase(), profile: { email: options.emails?.[args.user], display_name: '', real_name: '' } } });
      case 'users.lookupByEmail': {
        const id = Object.entries(options.emails ?? {}).find(([, e]) => e.toLowerCase() === String(args.email).toLowerCase())?.[0];
        return id ? reply(200, { ok: true, user: { id, profile: { email: options.emails![id] } } }) : reply(200, { ok: false, error: 'users_not_found' });
      }
      case 'conversations.members':
        return reply(200, { ok: true, members: options.members?.[args.channel] ?? [], response_metadata: { next_cursor: '' } });
      default:
        return reply(200, { ok: false, error: 'unknown_method' });
    }
  });
  return {
    ...s,
    apiUrl: `${s.url}/api/`,
    calls,
    responses,
    outage,
    failing,
    of: (method: string) => calls.filter((c) => c.method === method),
  };
}
export type SlackStandIn = Awaited<ReturnType<typeof slackStandIn>>;

export function sign(text: string, options: { timestamp?: number; secret?: string } = {}): Record<string, string> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac('sha256', options.secret ?? signingSecret).update(`v0:${timestamp}:${text}`).digest('hex')}`;
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature };
}

/** POSTs a form to /slack/events, signed like Slack signs it (or with the given overrides). */
export async function postSlack(appUrl: string, form: Record<string, string>, options: { timestamp?: number; secret?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; text: string; ms: number }> {
  const text = new URLSearchParams(form).toString();
  const started = performance.now();
  const res = await fetch(`${appUrl}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...sign(text, options), ...options.headers }, body: text });
  const out = await res.text();
  return { status: res.status, text: out, ms: performance.now() - started };
}

const team = { id: 'T0TEAM0000', domain: 'example' };

/** A `block_actions` payload as Slack documents it (a button click in a channel message). */
export function blockActions(o: { user: string; actionId: string; value: string; channel?: string; ts?: string }): Record<string, string> {
  return {
    payload: JSON.stringify({
      type: 'block_actions',
      team,
      user: { id: o.user, username: o.user.toLowerCase(), name: o.user.toLowerCase(), team_id: team.id },
      api_app_id: 'A0APP00001',
      token: 'legacy-verification-token',
      container: { type: 'message', message_ts: o.ts ?? '1700000001.000100', channel_id: o.channel ?? 'C0PROD0001', is_ephemeral: false },
      trigger_id: '1234567890.123456789.abcdef0123456789',
      channel: { id: o.channel ?? 'C0PROD0001', name: 'deploys' },
      message: { type: 'message', ts: o.ts ?? '1700000001.000100', text: 'approval' },
      response_url: 'https://hooks.slack.invalid/actions/T0/1/x',
      actions: [{ type: 'button', action_id: o.actionId, block_id: 'approval:x', value: o.value, text: { type: 'plain_text', text: 'Approve' }, action_ts: '1700000002.000300' }],
    }),
  };
}

/** A `view_submission` payload of the reject modal. */
export function viewSubmission(o: { user: string; approvalId: string; reason: string }): Record<string, string> {
  return {
    payload: JSON.stringify({
      type: 'view_submission',
      team,
      user: { id: o.user, username: o.user.toLowerCase(), name: o.user.toLowerCase(), team_id: team.id },
      api_app_id: 'A0APP00001',
      token: 'legacy-verification-token',
      trigger_id: '1234567890.123456789.fedcba',
      view: {
        id: 'V0VIEW0001',
        team_id: team.id,
        type: 'modal',
        callback_id: 'shipgate_reject_reason',
        private_metadata: o.approvalId,
        state: { values: { reason: { reason_input: { type: 'plain_text_input', value: o.reason } } } },
        hash: '1700000000.abcd',
        title: { type: 'plain_text', text: 'Reject deploy' },
        blocks: [],
        app_id: 'A0APP00001',
        bot_id: 'B0BOT00000',
      },
      response_urls: [],
    }),
  };
}

/** A slash command as Slack posts it (form fields, not a JSON payload). */
export function slashCommand(o: { user: string; text: string; responseUrl: string }): Record<string, string> {
  return {
    token: 'legacy-verification-token',
    team_id: team.id,
    team_domain: team.domain,
    channel_id: 'C0PROD0001',
    channel_name: 'deploys',
    user_id: o.user,
    user_name: o.user.toLowerCase(),
    command: '/shipgate',
    text: o.text,
    api_app_id: 'A0APP00001',
    response_url: o.responseUrl,
    trigger_id: '1234567890.123456789.cmd',
  };
}

export async function api(appUrl: string, method: string, path: string, bodyValue?: unknown, token: string | null = apiToken): Promise<{ status: number; body: any }> {
  const res = await fetch(`${appUrl}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(bodyValue === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(bodyValue === undefined ? {} : { body: typeof bodyValue === 'string' ? bodyValue : JSON.stringify(bodyValue) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Polls `check` until it returns a truthy value (bounded). */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A pino logger writing JSON lines into `lines` (with the app's redaction). */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: pino({ level: 'debug', redact: { paths: redactedPaths, censor: '[redacted]' } }, stream), lines };
}

/**
 * A migrated store in memory. An `ApprovalStore` (a `Store` that also has the old `getApproval`)
 * because actions/test/bolt-app.test.ts still reads approvals that way.
 */
export async function memoryStore(): Promise<ApprovalStore> {
  const store = new ApprovalStore(await openPglite('memory://'));
  await store.migrate();
  return store;
}

export async function startApp(slack: SlackStandIn, options: Partial<ShipgateAppOptions> & { store: Store }): Promise<ShipgateApp> {
  const app = await createShipgateApp({
    config: testConfig,
    slack: { botToken, signingSecret, apiUrl: slack.apiUrl },
    apiToken,
    port: 0,
    host: '127.0.0.1',
    logger: pino({ level: 'silent' }),
    outbox: { pollMs: 50, retryBaseSeconds: 0.05, ...options.outbox },
    sweepMs: 60_000,
    watchConfig: false,
    ...options,
  });
  await app.start();
  return app;
}

export const approvalBody = (over: Record<string, unknown> = {}) => ({ service: 'orders', environment: 'prod', version: 'v1.4.0', digest: 'sha256:' + 'a'.repeat(64), summary: 'Adds refunds', requester: users.bob, backend: { kind: 'shipgate' }, ...over });

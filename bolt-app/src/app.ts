// The app factory: wires config, store, Bolt (HTTP receiver or Socket Mode), the Slack listeners,
// the outbox worker, the expiry sweeper and one HTTP server for /slack/events, the pipelines' API,
// /metrics and /healthz. Everything it talks to can be passed in, so tests run the real thing
// against loopback stand-ins.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { App, SocketModeReceiver, webApi, type Receiver } from '@slack/bolt';
import { SlackEventsReceiver } from './slack/receiver.js';
import { ShipgateError } from '@shipgate/protocol';
import type { Logger } from 'pino';
import type { Approval } from './approvals/model.js';
import { defaultDecisionBackends, defaultRollbackBackends } from './backends/index.js';
import { pipelinesRollbacks } from './backends/pipelines.js';
import type { CodePipelineClientFactory } from './backends/codepipeline.js';
import type { DecisionBackends, RollbackBackends } from './backends/types.js';
import { ConfigSource, type AppConfig } from './config.js';
import { apiHandler } from './http/api.js';
import { ClientRateLimiter, type RateLimitOptions } from './http/rate-limit.js';
import { trustedOrigins } from './backends/origins.js';
import { AppMetrics } from './http/metrics.js';
import { createLogger, slackLogger } from './log.js';
import { OutboxWorker, type OutboxWorkerOptions } from './outbox/worker.js';
import { ApproverDirectory } from './slack/directory.js';
import { registerHandlers } from './slack/handlers.js';
import { databaseInbox, FileInbox, type DurableInbox } from './store/inbox.js';
import { openDatabase } from './store/sql.js';
import { ApprovalStore } from './store/store.js';

export interface ShipgateAppOptions {
  /** The environments' channels and approvers: a ConfigSource (reloaded from its file) or plain config. */
  config: ConfigSource | AppConfig;
  slack: {
    botToken: string;
    signingSecret?: string | undefined;
    /** Socket Mode (SLACK_APP_TOKEN, xapp-…): no public URL needed; /slack/events is not served. */
    appToken?: string | undefined;
    /** The Web API's base URL (SLACK_API_URL): a proxy, or a stand-in in tests. */
    apiUrl?: string | undefined;
  };
  /** SHIPGATE_API_TOKEN: the bearer token pipelines send. Without it the API answers 503. */
  apiToken?: string | undefined;
  /** An open store (tests, several instances over one database); else opened from databaseUrl / dataDir. */
  store?: ApprovalStore;
  /** DATABASE_URL (postgres://…): a shared Postgres for several replicas. */
  databaseUrl?: string | undefined;
  /** PGlite's data directory when there is no DATABASE_URL. Default ./shipgate-data. */
  dataDir?: string | undefined;
  port?: number;
  host?: string;
  logger?: Logger;
  decisionBackends?: Partial<DecisionBackends>;
  rollbackBackends?: RollbackBackends;
  /** Environment the default backends read (JENKINS_*, GITHUB_*). Default process.env. */
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  codePipelineClient?: CodePipelineClientFactory;
  now?: () => Date;
  outbox?: Partial<Pick<OutboxWorkerOptions, 'leaseSeconds' | 'pollMs' | 'concurrency' | 'maxAttempts' | 'callTimeoutMs' | 'rollbackTimeoutMs' | 'retryBaseSeconds'>> & { autostart?: boolean };
  /** How often pending approvals past their deadline are expired. Default 5 s. */
  sweepMs?: number;
  /** Watch the config file and reload it on change (default true with a file). */
  watchConfig?: boolean;
  /**
   * Durable acks on PGlite: the journal file acknowledged Slack requests wait in. Default
   * `inbox.jsonl` in `dataDir` when the app opens PGlite itself; otherwise the database's `inbox` table.
   */
  inboxFile?: string;
  /** Per-client token bucket of the pipelines' API (SHIPGATE_API_RATE, SHIPGATE_API_BURST). Default 10/s, bursts of 60. */
  rateLimit?: RateLimitOptions;
}

export interface ShipgateApp {
  readonly bolt: App;
  readonly store: ApprovalStore;
  readonly worker: OutboxWorker;
  readonly metrics: AppMetrics;
  readonly config: ConfigSource;
  readonly logger: Logger;
  /** http://host:port once started. */
  readonly url: string;
  start(): Promise<string>;
  /** Stops taking requests and work; closes the store if this app opened it. */
  stop(): Promise<void>;
  /** Expires what is due now (the sweeper calls this on its interval). */
  sweep(): Promise<Approval[]>;
}

export async function createShipgateApp(options: ShipgateAppOptions): Promise<ShipgateApp> {
  const logger = options.logger ?? createLogger();
  const now = options.now ?? (() => new Date());
  const config = options.config instanceof ConfigSource ? options.config : new ConfigSource(options.config);
  const secrets = [options.slack.botToken, options.slack.signingSecret, options.slack.appToken, options.apiToken, options.env?.JENKINS_API_TOKEN ?? process.env.JENKINS_API_TOKEN, options.env?.GITHUB_TOKEN ?? process.env.GITHUB_TOKEN];
  const ownStore = !options.store;
  const dataDir = options.dataDir ?? path.resolve('shipgate-data');
  const store = options.store ?? new ApprovalStore(await openDatabase({ url: options.databaseUrl, dataDir }));
  try {
    const applied = await store.migrate();
    if (applied.length) logger.info({ migrations: applied, engine: store.db.engine }, 'store migrated');
  } catch (error) {
    if (ownStore) await store.close().catch(() => undefined);
    throw error;
  }

  const boltLog = slackLogger(logger, secrets);
  const clientOptions = {
    ...(options.slack.apiUrl ? { slackApiUrl: options.slack.apiUrl.endsWith('/') ? options.slack.apiUrl : `${options.slack.apiUrl}/` } : {}),
    // bounded: 10 s per call, two retries with back-off and jitter (the Web API client's own)
    timeout: 10_000,
    retryConfig: { retries: 2, factor: 2, minTimeout: 250, maxTimeout: 2000, randomize: true },
  };
  const socketMode = Boolean(options.slack.appToken);
  const instance = `i_${randomBytes(5).toString('hex')}`;
  const inboxLease = options.outbox?.leaseSeconds ?? 120;
  const inboxFile = options.inboxFile ?? (ownStore && store.db.engine === 'pglite' && !dataDir.startsWith('memory://') ? path.join(dataDir, 'inbox.jsonl') : undefined);
  const inbox: DurableInbox = inboxFile ? new FileInbox(inboxFile) : await databaseInbox(store, instance, inboxLease);
  let httpReceiver: SlackEventsReceiver | undefined;
  let receiver: Receiver;
  if (socketMode) {
    // Bolt hands installerOptions.clientOptions to the Socket Mode client (apps.connections.open)
    receiver = new SocketModeReceiver({ appToken: options.slack.appToken!, logger: boltLog, installerOptions: { clientOptions } as never });
  } else {
    if (!options.slack.signingSecret) throw new Error('SLACK_SIGNING_SECRET is required in HTTP mode');
    httpReceiver = new SlackEventsReceiver({
      signingSecret: options.slack.signingSecret,
      logger: boltLog,
      // durable acks: a click is written before Slack hears it arrived
      inbox,
    });
    receiver = httpReceiver;
  }
  const identity = await botIdentity(new webApi.WebClient(options.slack.botToken, { ...clientOptions, logger: boltLog }), logger).catch(async (error: unknown) => {
    if (ownStore) await store.close().catch(() => undefined);
    throw error;
  });
  const bolt = new App({ token: options.slack.botToken, ...identity, receiver, logger: boltLog, clientOptions, convoStore: false });

  const metrics = new AppMetrics(() => store.outboxDepth());
  const decisions = new EventEmitter();
  decisions.setMaxListeners(0);
  const decidedOne = (a: Approval) => decisions.emit(a.id, a);
  const worker = new OutboxWorker({
    store,
    slack: bolt.client,
    config: () => config.current,
    decisionBackends: { ...defaultDecisionBackends({ ...(options.env ? { env: options.env } : {}), ...(options.fetch ? { fetch: options.fetch } : {}), ...(options.codePipelineClient ? { codePipelineClient: options.codePipelineClient } : {}) }), ...options.decisionBackends },
    rollbackBackends: { ...pipelinesRollbacks(options.env ? { env: options.env } : {}), ...defaultRollbackBackends({ ...(options.env ? { env: options.env } : {}), ...(options.fetch ? { fetch: options.fetch } : {}) }), ...options.rollbackBackends },
    metrics,
    logger: logger.child({ component: 'outbox' }),
    now,
    secrets,
    ...options.outbox,
  });
  registerHandlers(bolt, {
    store,
    config: () => config.current,
    directory: new ApproverDirectory(bolt.client, logger),
    metrics,
    logger,
    now,
    onWork: () => worker.poke(),
    onDecided: decidedOne,
  });
  bolt.error(async (error) => {
    logger.error({ err: error.message, code: (error as { code?: string }).code }, 'Slack listener failed');
  });

  const api = apiHandler({
    store,
    config: () => config.current,
    apiToken: options.apiToken,
    metrics,
    logger,
    now,
    onWork: () => worker.poke(),
    trusted: trustedOrigins(options.env ?? process.env),
    rateLimiter: new ClientRateLimiter(options.rateLimit ?? { perSecond: 10, burst: 60 }),
    waitForChange: (id, ms, signal) =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          decisions.off(id, done);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, ms));
        decisions.on(id, done);
        signal.addEventListener('abort', done, { once: true });
      }),
  });

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/slack/events' && httpReceiver) return httpReceiver.requestListener(req, res);
    if (url.pathname.startsWith('/api/')) return void api(req, res, url);
    if (url.pathname === '/healthz' && req.method === 'GET') {
      return void store.db
        .query('SELECT 1')
        .then(() => ({ status: 200, body: { ok: true, store: store.db.engine, mode: socketMode ? 'socket' : 'http', environments: Object.keys(config.current.environments) } }))
        .catch((error: unknown) => ({ status: 503, body: { ok: false, error: `store: ${(error as Error).message}` } }))
        .then(({ status, body }) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        });
    }
    if (url.pathname === '/metrics' && req.method === 'GET') {
      return void metrics.registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        })
        .catch((error: unknown) => {
          res.writeHead(500);
          res.end(String((error as Error).message));
        });
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'http.not-found', message: `no such endpoint: ${url.pathname}` } }));
  });
  server.keepAliveTimeout = 65_000;

  /**
   * Works Slack requests that were acknowledged but whose listeners never finished (the process
   * died): at start everything the journal file holds (PGlite: this process alone owns it); with
   * a shared database, at start and on every sweep, the rows whose holder's lease lapsed.
   */
  const replayInbox = async (atStart: boolean) => {
    if (!httpReceiver) return;
    for (let round = 0; round < 100; round += 1) {
      const open = await inbox.takeOver({ atStart });
      if (!open.length) return;
      logger.warn({ requests: open.length, ids: open.map((r) => r.id) }, 'working Slack requests acknowledged before a crash');
      await httpReceiver.replay(open);
    }
  };

  let sweeper: NodeJS.Timeout | undefined;
  let unwatch: (() => void) | undefined;
  let url = '';
  const sweep = async () => {
    const expired = await store.expireDue(now());
    for (const a of expired) {
      metrics.approvals.inc({ outcome: 'expired', environment: a.environment });
      metrics.timeToDecision.observe({ outcome: 'expired' }, (a.expiresAt.getTime() - a.createdAt.getTime()) / 1000);
      decidedOne(a);
    }
    if (expired.length) worker.poke();
    return expired;
  };

  return {
    bolt,
    store,
    worker,
    metrics,
    config,
    logger,
    get url() {
      return url;
    },
    async start() {
      // before new clicks are taken: what was acknowledged before a crash is decided first
      await replayInbox(true);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port ?? 3000, options.host ?? '0.0.0.0', () => resolve());
      });
      const address = server.address() as AddressInfo;
      url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
      if (socketMode) await bolt.start();
      if (options.outbox?.autostart !== false) worker.start();
      sweeper = setInterval(() => {
        void sweep().catch((error: unknown) => logger.error({ err: (error as Error).message }, 'expiry sweep failed'));
        void replayInbox(false).catch((error: unknown) => logger.error({ err: (error as Error).message }, 'inbox takeover failed'));
      }, options.sweepMs ?? 5000);
      sweeper.unref();
      if (options.watchConfig !== false) {
        unwatch = config.watch((result) => {
          if (result.ok) logger.info({ environments: Object.keys(result.config.environments) }, 'config reloaded');
          else logger.error({ err: (result.error as Error).message }, 'config change ignored: the file is not valid; the last good config stays');
        });
      }
      // where it listens, in so many words: 0.0.0.0 (the default, for containers) is every interface
      logger.info({ url, host: address.address, port: address.port, mode: socketMode ? 'socket' : 'http', store: store.db.engine }, `listening on ${url}`);
      return url;
    },
    async stop() {
      if (sweeper) clearInterval(sweeper);
      unwatch?.();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (socketMode) await bolt.stop().catch(() => undefined);
      // clicks already acked finish their listeners (and their transactions) before the store closes
      await httpReceiver?.settle();
      inbox.close();
      await worker.stop();
      if (ownStore) await store.close();
    },
    sweep,
  };
}

/**
 * Who the bot is (auth.test), asked once here rather than by Bolt: Bolt's own eager call has no
 * error handler, so an unreachable Slack at start would crash the process. A token Slack refuses
 * is a configuration mistake; an unreachable Slack is not — the app starts, and its Slack calls
 * are retried from the outbox.
 */
async function botIdentity(client: webApi.WebClient, logger: Logger): Promise<{ botId: string; botUserId: string }> {
  try {
    const res = await client.auth.test();
    return { botId: String(res.bot_id ?? 'unknown'), botUserId: String(res.user_id ?? 'unknown') };
  } catch (error) {
    const code = (error as { data?: { error?: string } }).data?.error;
    if (code === 'invalid_auth' || code === 'not_authed' || code === 'account_inactive' || code === 'token_revoked') {
      throw new ShipgateError('bolt.slack-auth', `Slack refused SLACK_BOT_TOKEN: ${code}`, { hint: 'copy the Bot User OAuth Token (xoxb-…) from the Slack app’s OAuth & Permissions page' });
    }
    logger.warn({ err: (error as Error).message }, 'Slack did not answer auth.test; starting anyway (Slack calls are retried)');
    return { botId: 'unknown', botUserId: 'unknown' };
  }
}

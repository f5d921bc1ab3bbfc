// The app factory: composes the subsystems in app/ — the store and the inbox (app/store.ts), Bolt
// over its receiver (app/slack.ts), the Slack listeners, the outbox worker and its backends
// (app/backends.ts), the pipelines' API and the one HTTP server (http/), then hands them to the
// running app's life cycle (app/lifecycle.ts). Everything it talks to can be passed in, so tests
// run the real thing against loopback stand-ins.
import { randomBytes } from 'node:crypto';
import { defaultDoraWindowMs } from '@shipgate/core';
import type { Logger } from 'pino';
import { decisionBackendsFor, rollbackBackendsFor } from './app/backends.js';
import { DecisionSignal } from './app/decisions.js';
import { RunningApp } from './app/lifecycle.js';
import type { ShipgateApp, ShipgateAppOptions } from './app/options.js';
import { createSlackSide, type SlackSide } from './app/slack.js';
import { openAppStore, openInbox } from './app/store.js';
import { trustedOrigins } from './backends/origins.js';
import { ConfigSource } from './config.js';
import { doraReport } from './dora/history.js';
import { apiHandler } from './http/api.js';
import { AppMetrics } from './http/metrics.js';
import { ClientRateLimiter } from './http/rate-limit.js';
import { createHttpServer } from './http/server.js';
import { createLogger } from './log.js';
import { OutboxWorker } from './outbox/worker.js';
import { ApproverDirectory } from './slack/directory.js';
import { registerHandlers } from './slack/handlers.js';
import type { DurableInbox } from './store/inbox.js';
import type { Store } from './store/store.js';

export type { ShipgateApp, ShipgateAppOptions } from './app/options.js';

/** What the parts built here share. */
interface Shared {
  options: ShipgateAppOptions;
  config: ConfigSource;
  logger: Logger;
  now: () => Date;
  store: Store;
  metrics: AppMetrics;
  decisions: DecisionSignal;
}

export async function createShipgateApp(options: ShipgateAppOptions): Promise<ShipgateApp> {
  const logger = options.logger ?? createLogger();
  const config = options.config instanceof ConfigSource ? options.config : new ConfigSource(options.config);
  const secrets = [options.slack.botToken, options.slack.signingSecret, options.slack.appToken, options.apiToken, options.env?.JENKINS_API_TOKEN ?? process.env.JENKINS_API_TOKEN, options.env?.GITHUB_TOKEN ?? process.env.GITHUB_TOKEN];
  const opened = await openAppStore(options, logger);
  const { store } = opened;
  let inbox: DurableInbox | undefined;
  let slack: SlackSide;
  try {
    inbox = await openInbox(opened, { inboxFile: options.inboxFile, leaseSeconds: options.outbox?.leaseSeconds ?? 120, instance: `i_${randomBytes(5).toString('hex')}` });
    slack = await createSlackSide(options.slack, { inbox, logger, secrets });
  } catch (error) {
    inbox?.close();
    if (opened.own) await store.close().catch(() => undefined);
    throw error;
  }
  const now = options.now ?? (() => new Date());
  const dora = () => doraReport(store, { now: now(), windowMs: options.doraWindowMs ?? defaultDoraWindowMs });
  const shared: Shared = { options, config, logger, now, store, metrics: new AppMetrics(() => store.outbox.depth(), { dora }), decisions: new DecisionSignal() };
  const worker = new OutboxWorker({
    store,
    slack: slack.bolt.client,
    config: () => config.current,
    decisionBackends: decisionBackendsFor(options),
    rollbackBackends: rollbackBackendsFor(options),
    metrics: shared.metrics,
    logger: logger.child({ component: 'outbox' }),
    now: shared.now,
    secrets,
    ...options.outbox,
  });
  listenToSlack(slack, shared, worker);
  const server = createHttpServer({ httpReceiver: slack.httpReceiver, api: pipelinesApi(shared, worker), store, metrics: shared.metrics, config: () => config.current, mode: slack.socketMode ? 'socket' : 'http' });
  return new RunningApp({ ...slack, ...shared, ownStore: opened.own, worker, server, inbox, options });
}

/** The Slack listeners (buttons, the modal, `/shipgate`) and the handler of their failures. */
function listenToSlack({ bolt }: SlackSide, shared: Shared, worker: OutboxWorker): void {
  const { logger } = shared;
  registerHandlers(bolt, {
    store: shared.store,
    config: () => shared.config.current,
    directory: new ApproverDirectory(bolt.client, logger),
    metrics: shared.metrics,
    logger,
    now: shared.now,
    doraWindowMs: shared.options.doraWindowMs ?? defaultDoraWindowMs,
    onWork: () => worker.poke(),
    onDecided: (approval) => shared.decisions.decided(approval),
  });
  bolt.error(async (error) => {
    logger.error({ err: error.message, code: (error as { code?: string }).code }, 'Slack listener failed');
  });
}

/** The pipelines' REST API (/api/…): bearer token, per-client rate limit, trusted origins, long-polls. */
function pipelinesApi(shared: Shared, worker: OutboxWorker): ReturnType<typeof apiHandler> {
  const { options } = shared;
  return apiHandler({
    store: shared.store,
    config: () => shared.config.current,
    apiToken: options.apiToken,
    metrics: shared.metrics,
    logger: shared.logger,
    now: shared.now,
    onWork: () => worker.poke(),
    trusted: trustedOrigins(options.env ?? process.env),
    rateLimiter: new ClientRateLimiter(options.rateLimit ?? { perSecond: 10, burst: 60 }),
    waitForChange: (id, ms, signal) => shared.decisions.waitForChange(id, ms, signal),
  });
}

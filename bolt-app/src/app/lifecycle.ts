// A built app's life: start (replay what was acked before a crash, listen, start the outbox
// worker, the expiry sweeper and the config watch), sweep, and stop in the reverse order, so the
// listeners of clicks already acked finish before the store closes.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Approval } from '../approvals/model.js';
import type { ConfigSource } from '../config.js';
import type { AppMetrics } from '../http/metrics.js';
import type { OutboxWorker } from '../outbox/worker.js';
import type { SlackEventsReceiver } from '../slack/receiver.js';
import type { DurableInbox } from '../store/inbox.js';
import type { Store } from '../store/store.js';
import type { DecisionSignal } from './decisions.js';
import type { ShipgateApp, ShipgateAppOptions } from './options.js';

export interface AppParts {
  bolt: App;
  store: Store;
  /** The app opened the store, so `stop()` closes it. */
  ownStore: boolean;
  worker: OutboxWorker;
  metrics: AppMetrics;
  config: ConfigSource;
  logger: Logger;
  server: Server;
  httpReceiver: SlackEventsReceiver | undefined;
  socketMode: boolean;
  inbox: DurableInbox;
  decisions: DecisionSignal;
  now: () => Date;
  options: Pick<ShipgateAppOptions, 'port' | 'host' | 'outbox' | 'sweepMs' | 'watchConfig'>;
}

/** Bounds one inbox replay: 100 rounds (of up to 100 requests each); the next sweep goes on. */
const replayRounds = 100;

export class RunningApp implements ShipgateApp {
  readonly bolt: App;
  readonly store: Store;
  readonly worker: OutboxWorker;
  readonly metrics: AppMetrics;
  readonly config: ConfigSource;
  readonly logger: Logger;
  #url = '';
  #sweeper: NodeJS.Timeout | undefined;
  #unwatch: (() => void) | undefined;

  constructor(private readonly parts: AppParts) {
    ({ bolt: this.bolt, store: this.store, worker: this.worker, metrics: this.metrics, config: this.config, logger: this.logger } = parts);
  }

  get url(): string {
    return this.#url;
  }

  async start(): Promise<string> {
    const { server, options, logger } = this.parts;
    // before new clicks are taken: what was acknowledged before a crash is decided first
    await this.#replayInbox(true);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 3000, options.host ?? '0.0.0.0', () => resolve());
    });
    const address = server.address() as AddressInfo;
    this.#url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    if (this.parts.socketMode) await this.bolt.start();
    if (options.outbox?.autostart !== false) this.worker.start();
    this.#sweeper = setInterval(() => {
      void this.sweep().catch((error: unknown) => logger.error({ err: (error as Error).message }, 'expiry sweep failed'));
      void this.#replayInbox(false).catch((error: unknown) => logger.error({ err: (error as Error).message }, 'inbox takeover failed'));
    }, options.sweepMs ?? 5000);
    this.#sweeper.unref();
    if (options.watchConfig !== false) this.#unwatch = this.#watchConfig();
    // where it listens, in so many words: 0.0.0.0 (the default, for containers) is every interface
    logger.info({ url: this.#url, host: address.address, port: address.port, mode: this.parts.socketMode ? 'socket' : 'http', store: this.store.db.engine }, `listening on ${this.#url}`);
    return this.#url;
  }

  async stop(): Promise<void> {
    const { server, httpReceiver, inbox } = this.parts;
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#unwatch?.();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    if (this.parts.socketMode) await this.bolt.stop().catch(() => undefined);
    // clicks already acked finish their listeners (and their transactions) before the store closes
    await httpReceiver?.settle();
    inbox.close();
    await this.worker.stop();
    if (this.parts.ownStore) await this.store.close();
  }

  /** Expires what is due now (the sweeper calls this on its interval). */
  async sweep(): Promise<Approval[]> {
    const expired = await this.store.approvals.expireDue(this.parts.now());
    for (const a of expired) {
      this.metrics.approvals.inc({ outcome: 'expired', environment: a.environment });
      this.metrics.timeToDecision.observe({ outcome: 'expired' }, (a.expiresAt.getTime() - a.createdAt.getTime()) / 1000);
      this.parts.decisions.decided(a);
    }
    if (expired.length) this.worker.poke();
    return expired;
  }

  /**
   * Works Slack requests that were acknowledged but whose listeners never finished (the process
   * died): at start everything the journal file holds (PGlite: this process alone owns it); with
   * a shared database, at start and on every sweep, the rows whose holder's lease lapsed.
   */
  async #replayInbox(atStart: boolean): Promise<void> {
    const { httpReceiver, inbox, logger } = this.parts;
    if (!httpReceiver) return;
    for (let round = 0; round < replayRounds; round += 1) {
      const open = await inbox.takeOver({ atStart });
      if (!open.length) return;
      logger.warn({ requests: open.length, ids: open.map((r) => r.id) }, 'working Slack requests acknowledged before a crash');
      await httpReceiver.replay(open);
    }
  }

  /** Reloads the config file when it changes; a broken edit is logged and the last good config stays. */
  #watchConfig(): () => void {
    const { logger } = this;
    return this.config.watch((result) => {
      if (result.ok) logger.info({ environments: Object.keys(result.config.environments) }, 'config reloaded');
      else logger.error({ err: (result.error as Error).message }, 'config change ignored: the file is not valid; the last good config stays');
    });
  }
}

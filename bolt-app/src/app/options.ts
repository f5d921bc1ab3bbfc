// What `createShipgateApp` takes and what it gives back. In a file of their own so the app's
// subsystems (app/*.ts) can name them without importing the factory that imports them.
import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Approval } from '../approvals/model.js';
import type { CodePipelineClientFactory } from '../backends/codepipeline.js';
import type { DecisionBackends, RollbackBackends } from '../backends/types.js';
import type { AppConfig, ConfigSource } from '../config.js';
import type { AppMetrics } from '../http/metrics.js';
import type { RateLimitOptions } from '../http/rate-limit.js';
import type { OutboxWorker, OutboxWorkerOptions } from '../outbox/worker.js';
import type { Store } from '../store/store.js';

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
  store?: Store;
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
  /** The window of the DORA metrics (/metrics, `/shipgate dora`): SHIPGATE_DORA_WINDOW. Default 30 days. */
  doraWindowMs?: number;
}

export interface ShipgateApp {
  readonly bolt: App;
  readonly store: Store;
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

// What `shipgate-bolt` does: read the environment and the config file, start the app, stop it on
// SIGTERM / SIGINT (or `signal`). Exit codes: 0 stopped, 2 a configuration mistake (one line and
// a hint, no stack trace), 3 a dependency failed at start (the database, the port), 70 a bug.
import { parseDoraWindow } from '@shipgate/core';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import type { Logger } from 'pino';
import { createShipgateApp, type ShipgateApp } from './app.js';
import { ConfigSource } from './config.js';
import { createLogger } from './log.js';

function required(env: NodeJS.ProcessEnv, name: string, hint: string): string {
  const v = env[name];
  if (!v) throw new ShipgateError('bolt.env', `${name} is not set`, { hint });
  return v;
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, hint: string): number {
  const raw = env[name];
  if (!raw) return fallback;
  const value = Number(raw);
  if (!(Number.isFinite(value) && value > 0)) throw new ShipgateError('bolt.env', `${name} "${raw}" is not a positive number`, { hint });
  return value;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Stops the app when aborted (the CLI aborts it on SIGTERM / SIGINT). */
  signal: AbortSignal;
  stderr?: NodeJS.WritableStream;
  logger?: Logger;
  /** Called once the app is listening. */
  onStarted?: (app: ShipgateApp) => void;
}

export async function runShipgateBolt(options: RunOptions): Promise<number> {
  const env = options.env ?? process.env;
  const stderr = options.stderr ?? process.stderr;
  const logger = options.logger ?? createLogger();
  try {
    const config = ConfigSource.fromFile(env.SHIPGATE_CONFIG || 'shipgate-bolt.yml');
    const appToken = env.SLACK_APP_TOKEN || undefined;
    const port = env.PORT ? Number(env.PORT) : 3000;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ShipgateError('bolt.env', `PORT "${env.PORT}" is not a port number`, { hint: 'PORT=3000' });
    const lease = env.SHIPGATE_OUTBOX_LEASE_SECONDS ? Number(env.SHIPGATE_OUTBOX_LEASE_SECONDS) : undefined;
    if (lease !== undefined && !(Number.isInteger(lease) && lease >= 1)) throw new ShipgateError('bolt.env', `SHIPGATE_OUTBOX_LEASE_SECONDS "${env.SHIPGATE_OUTBOX_LEASE_SECONDS}" is not a whole number of seconds`, { hint: 'default 120; a backend call times out at half of it' });
    const rate = positiveNumber(env, 'SHIPGATE_API_RATE', 10, 'requests per second per client, default 10');
    const burst = positiveNumber(env, 'SHIPGATE_API_BURST', 60, 'requests a client may send at once, default 60');
    const doraWindowMs = doraWindow(env);
    const app = await createShipgateApp({
      config,
      slack: {
        botToken: required(env, 'SLACK_BOT_TOKEN', 'the bot token (xoxb-…) from the Slack app’s OAuth & Permissions page'),
        signingSecret: appToken ? env.SLACK_SIGNING_SECRET : required(env, 'SLACK_SIGNING_SECRET', 'the signing secret from the Slack app’s Basic Information page (or set SLACK_APP_TOKEN for Socket Mode)'),
        appToken,
        apiUrl: env.SLACK_API_URL || undefined,
      },
      apiToken: env.SHIPGATE_API_TOKEN || undefined,
      databaseUrl: env.DATABASE_URL || undefined,
      dataDir: env.SHIPGATE_DATA_DIR || undefined,
      port,
      host: env.HOST || '0.0.0.0',
      logger,
      env,
      ...(lease ? { outbox: { leaseSeconds: lease } } : {}),
      rateLimit: { perSecond: rate, burst: Math.max(1, Math.floor(burst)) },
      ...(doraWindowMs ? { doraWindowMs } : {}),
    });
    if (!env.SHIPGATE_API_TOKEN) logger.warn('SHIPGATE_API_TOKEN is not set: the pipelines API answers 503 until it is');
    try {
      await app.start();
    } catch (error) {
      await app.stop().catch(() => undefined);
      throw error;
    }
    options.onStarted?.(app);
    if (!options.signal.aborted) await new Promise((resolve) => options.signal.addEventListener('abort', resolve, { once: true }));
    logger.info('stopping');
    await app.stop();
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof ShipgateError) {
      stderr.write(`shipgate-bolt: ${error.format()}\n`);
      return error.exitCode;
    }
    const code = String((error as NodeJS.ErrnoException).code ?? '');
    if (['EADDRINUSE', 'EACCES', 'ECONNREFUSED', 'ENOTFOUND', '28P01', '3D000', '28000'].includes(code)) {
      stderr.write(`shipgate-bolt: could not start: ${(error as Error).message} [bolt.start]\n  hint: check PORT and DATABASE_URL\n`);
      return ExitCode.external;
    }
    stderr.write(`shipgate-bolt: internal error, please report it: ${(error as Error).stack ?? String(error)}\n`);
    return ExitCode.internal;
  } finally {
    logger.flush();
  }
}

/** SHIPGATE_DORA_WINDOW: the DORA metrics' window (`30d`, `2w`, `12h`); unset is the default, 30 days. */
function doraWindow(env: NodeJS.ProcessEnv): number | undefined {
  const text = env.SHIPGATE_DORA_WINDOW?.trim();
  if (!text) return undefined;
  try {
    return parseDoraWindow(text);
  } catch (error) {
    throw new ShipgateError('bolt.env', `SHIPGATE_DORA_WINDOW: ${(error as Error).message}`, { hint: 'e.g. 30d, 2w or 12h; default 30d' });
  }
}

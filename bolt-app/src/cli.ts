// `shipgate-bolt`: runs the Slack app from environment variables and a config file. Exit codes:
// 0 stopped by a signal, 2 a configuration mistake (message and hint, no stack trace), 3 a
// dependency failed at start (the database, the port), 70 a bug.
import { ExitCode, ShipgateError } from '@shipgate/pipelines/errors';
import { createShipgateApp } from './app.js';
import { ConfigSource } from './config.js';
import { createLogger } from './log.js';

function required(env: NodeJS.ProcessEnv, name: string, hint: string): string {
  const v = env[name];
  if (!v) throw new ShipgateError('bolt.env', `${name} is not set`, { hint });
  return v;
}

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const logger = createLogger();
  try {
    const configFile = env.SHIPGATE_CONFIG ?? 'shipgate-bolt.yml';
    const config = ConfigSource.fromFile(configFile);
    const appToken = env.SLACK_APP_TOKEN || undefined;
    const port = env.PORT ? Number(env.PORT) : 3000;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ShipgateError('bolt.env', `PORT "${env.PORT}" is not a port number`, { hint: 'PORT=3000' });
    const app = await createShipgateApp({
      config,
      slack: {
        botToken: required(env, 'SLACK_BOT_TOKEN', 'the bot token (xoxb-…) from the Slack app’s OAuth & Permissions page'),
        signingSecret: appToken ? env.SLACK_SIGNING_SECRET : required(env, 'SLACK_SIGNING_SECRET', 'the signing secret from the Slack app’s Basic Information page (or set SLACK_APP_TOKEN for Socket Mode)'),
        appToken,
        apiUrl: env.SLACK_API_URL,
      },
      apiToken: env.SHIPGATE_API_TOKEN,
      databaseUrl: env.DATABASE_URL || undefined,
      dataDir: env.SHIPGATE_DATA_DIR,
      port,
      host: env.HOST ?? '0.0.0.0',
      logger,
    });
    if (!env.SHIPGATE_API_TOKEN) logger.warn('SHIPGATE_API_TOKEN is not set: the pipelines API answers 503 until it is');
    await app.start();
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info({ signal }, 'stopping');
        resolve();
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    await app.stop();
    logger.flush();
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof ShipgateError) {
      process.stderr.write(`shipgate-bolt: ${error.format()}\n`);
      return error.exitCode;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === '28P01' || code === '3D000') {
      process.stderr.write(`shipgate-bolt: could not start: ${(error as Error).message} [bolt.start]\n`);
      return ExitCode.external;
    }
    process.stderr.write(`shipgate-bolt: internal error: ${(error as Error).stack ?? String(error)}\n`);
    return ExitCode.internal;
  }
}

// run when executed (bin/shipgate-bolt.js imports this file)
process.exitCode = await main();

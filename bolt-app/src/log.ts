// JSON logs (pino) with secrets redacted wherever they could appear, and an adapter that sends
// Bolt's and the Web API client's own log lines through the same logger.
import { LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import { pino, type Logger } from 'pino';

/** Field paths that never reach a log line (tokens, signing secrets, auth headers, request bodies with tokens). */
export const redactedPaths = [
  'token',
  '*.token',
  'botToken',
  'appToken',
  'signingSecret',
  'apiToken',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-slack-signature"]',
  'headers["x-slack-signature"]',
  'crumb',
  '*.crumb',
  'databaseUrl',
  'DATABASE_URL',
  'env',
];

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { app: 'shipgate-bolt' },
      redact: { paths: redactedPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}

/** Tokens that can show up inside free text (an error message quoting a header): masked before logging. */
export function maskSecrets(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text.replace(/xox[abposr]-[A-Za-z0-9-]+/g, 'xox?-[redacted]').replace(/xapp-[A-Za-z0-9-]+/g, 'xapp-[redacted]');
  for (const s of secrets) if (s && s.length >= 6) out = out.split(s).join('[redacted]');
  return out;
}

/** Bolt's Logger interface over pino (Bolt logs strings; they are masked too). */
export function slackLogger(logger: Logger, secrets: ReadonlyArray<string | undefined>): SlackLogger {
  let level: LogLevel = LogLevel.INFO;
  const child = logger.child({ component: 'bolt' });
  const line = (args: unknown[]) => maskSecrets(args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? a.message : JSON.stringify(a))).join(' '), secrets);
  return {
    // formatted only when the level is on: Bolt logs a line per request
    debug: (...args) => child.isLevelEnabled('debug') && child.debug(line(args)),
    info: (...args) => child.isLevelEnabled('info') && child.info(line(args)),
    warn: (...args) => child.isLevelEnabled('warn') && child.warn(line(args)),
    error: (...args) => child.isLevelEnabled('error') && child.error(line(args)),
    // the pino logger's level (LOG_LEVEL) rules; Bolt's own setting is only remembered
    setLevel(l: LogLevel) {
      level = l;
    },
    getLevel: () => level,
    setName() {},
  };
}

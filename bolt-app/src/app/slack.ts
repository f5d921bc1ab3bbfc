// The Slack side of the app: the receiver (signed HTTP requests with durable acks, or Socket
// Mode), the bot's identity, and Bolt's App over them. Web API calls are bounded: 10 s each, two
// retries with back-off and jitter.
import { App, SocketModeReceiver, webApi, type Receiver } from '@slack/bolt';
import { ShipgateError } from '@shipgate/protocol';
import type { Logger } from 'pino';
import { slackLogger } from '../log.js';
import { SlackEventsReceiver } from '../slack/receiver.js';
import type { DurableInbox } from '../store/inbox.js';
import type { ShipgateAppOptions } from './options.js';

export interface SlackSide {
  bolt: App;
  /** The HTTP receiver (absent in Socket Mode, where /slack/events is not served). */
  httpReceiver: SlackEventsReceiver | undefined;
  socketMode: boolean;
}

/** The Web API client's options: the base URL (SLACK_API_URL) and its bounds. */
function clientOptions(apiUrl: string | undefined) {
  return {
    ...(apiUrl ? { slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` } : {}),
    // bounded: 10 s per call, two retries with back-off and jitter (the Web API client's own)
    timeout: 10_000,
    retryConfig: { retries: 2, factor: 2, minTimeout: 250, maxTimeout: 2000, randomize: true },
  };
}

/** Bolt's App over the receiver the options ask for; the bot's identity is asked for first. */
export async function createSlackSide(slack: ShipgateAppOptions['slack'], context: { inbox: DurableInbox; logger: Logger; secrets: ReadonlyArray<string | undefined> }): Promise<SlackSide> {
  const boltLog = slackLogger(context.logger, context.secrets);
  const client = clientOptions(slack.apiUrl);
  let httpReceiver: SlackEventsReceiver | undefined;
  let receiver: Receiver;
  if (slack.appToken) {
    // Bolt hands installerOptions.clientOptions to the Socket Mode client (apps.connections.open)
    receiver = new SocketModeReceiver({ appToken: slack.appToken, logger: boltLog, installerOptions: { clientOptions: client } as never });
  } else {
    if (!slack.signingSecret) throw new Error('SLACK_SIGNING_SECRET is required in HTTP mode');
    // durable acks: a click is written before Slack hears it arrived
    httpReceiver = new SlackEventsReceiver({ signingSecret: slack.signingSecret, logger: boltLog, inbox: context.inbox });
    receiver = httpReceiver;
  }
  const identity = await botIdentity(new webApi.WebClient(slack.botToken, { ...client, logger: boltLog }), context.logger);
  const bolt = new App({ token: slack.botToken, ...identity, receiver, logger: boltLog, clientOptions: client, convoStore: false });
  return { bolt, httpReceiver, socketMode: Boolean(slack.appToken) };
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

// `uses: slack-notify` — posts a message to Slack: through an incoming webhook (`webhook-url`), or
// with a bot token through chat.postMessage (`channel`). Text, plus optional Block Kit blocks.
// Bounded: a timeout per attempt; retries only when Slack asks (429 Retry-After) or is down (5xx,
// network), never after Slack said `ok: false`.
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import { defineStep } from '@shipgate/protocol';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { slackError } from './slack-errors.js';

export const defaultSlackApiUrl = 'https://slack.com/api/';

/** Block Kit blocks: an array, or its JSON text (what a GitHub action input can carry). */
const blocks = z
  .union([z.array(z.record(z.string(), z.unknown())), z.string()])
  .transform((value, ctx) => {
    if (typeof value !== 'string') return value;
    try {
      const parsed = JSON.parse(value) as unknown;
      const list = Array.isArray(parsed) ? parsed : (parsed as { blocks?: unknown })?.blocks;
      if (Array.isArray(list) && list.every((b) => typeof b === 'object' && b !== null)) return list as Record<string, unknown>[];
    } catch {
      // reported below
    }
    ctx.addIssue({ code: 'custom', message: 'must be a JSON array of Block Kit blocks (or {"blocks": [...]})' });
    return z.NEVER;
  });

export const slackNotifyInputs = z.strictObject({
  text: z.string().min(1).describe('The message (mrkdwn); also the notification text when blocks are given.'),
  blocks: blocks.optional().describe('Block Kit blocks: a list, or its JSON.'),
  'webhook-url': z.url().optional().describe('An incoming webhook URL (masked). Without it, chat.postMessage with a bot token is used.'),
  channel: z.string().min(1).optional().describe('Channel id or name for chat.postMessage (required without webhook-url).'),
  'thread-ts': z.string().optional().describe('Reply in this thread (chat.postMessage).'),
  token: z.string().min(1).optional().describe('Bot token (default $SLACK_BOT_TOKEN); masked.'),
  'api-url': z.url().optional().describe('Slack Web API base (default $SLACK_API_URL, else https://slack.com/api/).'),
});

class Transient extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface SlackNotifyOptions {
  fetch?: typeof fetch;
  retryBaseDelayMs?: number;
  /** Attempts in all. Default 3. */
  maxAttempts?: number;
  attemptTimeoutMs?: number;
}

export function createSlackNotifyStep(options: SlackNotifyOptions = {}) {
  // Looked up per call, not here: reading globalThis.fetch loads Node's HTTP client (undici), and this
  // step is defined when the CLI starts, so every `shipgate` command would pay for it.
  const doFetch: typeof fetch = (input, init) => (options.fetch ?? globalThis.fetch)(input, init);
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 10_000;
  const maxAttempts = options.maxAttempts ?? 3;
  return defineStep({
    name: 'slack-notify',
    description: 'Posts a message (text and optional Block Kit) to Slack through an incoming webhook or chat.postMessage.',
    inputs: slackNotifyInputs,
    outputs: { ts: 'the message timestamp (chat.postMessage; use as thread-ts to reply)', channel: 'the channel id it went to (chat.postMessage)' },
    async run(ctx) {
      const { inputs, env } = ctx;
      const webhook = inputs['webhook-url'];
      const token = inputs.token ?? env.SLACK_BOT_TOKEN;
      if (webhook) ctx.setSecret(webhook);
      if (token) ctx.setSecret(token);
      if (!webhook && !token) {
        throw new ShipgateError('slack-notify.no-destination', 'slack-notify needs webhook-url, or a bot token (SLACK_BOT_TOKEN or the token input) with channel', { hint: 'create an incoming webhook in the Slack app settings and pass it as a secret' });
      }
      if (!webhook && !inputs.channel) {
        throw new ShipgateError('slack-notify.no-channel', 'slack-notify with a bot token needs the channel input', { hint: 'e.g. channel: C0123456789 (the channel id) or channel: "#deploys"' });
      }
      const message = { text: inputs.text, ...(inputs.blocks ? { blocks: inputs.blocks } : {}) };

      const policy = retry(handleWhen((e) => e instanceof Transient), {
        maxAttempts: maxAttempts - 1,
        backoff: new ExponentialBackoff({ initialDelay: options.retryBaseDelayMs ?? 1000, maxDelay: 20_000 }),
      });
      const post = async (url: string, body: unknown, headers: Record<string, string>) => {
        try {
          return await policy.execute(async ({ attempt }) => {
            let response: Response;
            try {
              response = await doFetch(url, {
                method: 'POST',
                headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
                body: JSON.stringify(body),
                signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(attemptTimeoutMs)]),
              });
            } catch (error) {
              if (ctx.signal.aborted) throw error;
              throw new Transient(`Slack did not answer: ${(error as Error).message}`);
            }
            const text = await response.text().catch(() => '');
            if (response.status === 429 || response.status >= 500) {
              // Slack says how long to wait; honour it (bounded) before cockatiel's own back-off.
              const retryAfter = Math.min(Number(response.headers.get('retry-after')) || 0, 30) * 1000;
              // (`attempt` counts from 0; the last one has nothing left to wait for)
              if (attempt < maxAttempts - 1 && retryAfter > 0) await sleep(retryAfter, undefined, { signal: ctx.signal });
              throw new Transient(`Slack answered ${response.status}${retryAfter ? ` (retry after ${retryAfter / 1000} s)` : ''}`);
            }
            return { status: response.status, text };
          }, ctx.signal);
        } catch (error) {
          if (error instanceof Transient) throw new ShipgateError('slack-notify.unreachable', `could not post to Slack: ${error.message}`, { exitCode: ExitCode.external, hint: 'Slack may be down (status.slack.com); the step gave up after its retries' });
          throw error;
        }
      };

      if (webhook) {
        // Incoming webhooks answer 200 "ok", or 4xx with the error as plain text.
        const { status, text } = await post(webhook, message, {});
        if (status !== 200) throw slackError(text.trim() || `http_${status}`, 'webhook');
        ctx.logger.info('posted to Slack through the incoming webhook');
        return;
      }
      const base = inputs['api-url'] ?? env.SLACK_API_URL ?? defaultSlackApiUrl;
      const url = new URL('chat.postMessage', base.endsWith('/') ? base : `${base}/`).href;
      const { status, text } = await post(url, { channel: inputs.channel, ...message, ...(inputs['thread-ts'] ? { thread_ts: inputs['thread-ts'] } : {}) }, { authorization: `Bearer ${token}` });
      let answer: { ok?: boolean; error?: string; ts?: string; channel?: string };
      try {
        answer = JSON.parse(text) as typeof answer;
      } catch {
        throw new ShipgateError('slack-notify.bad-response', `Slack chat.postMessage answered ${status} with a body that is not JSON`, { exitCode: ExitCode.external, hint: 'check SLACK_API_URL / api-url: it must be the Slack Web API base, e.g. https://slack.com/api/' });
      }
      if (!answer.ok) throw slackError(answer.error ?? `http_${status}`, 'chat.postMessage');
      if (answer.ts) ctx.setOutput('ts', answer.ts);
      if (answer.channel) ctx.setOutput('channel', answer.channel);
      ctx.logger.info(`posted to Slack ${answer.channel ?? inputs.channel} (ts ${answer.ts ?? '?'})`);
    },
  });
}

export const slackNotifyStep = createSlackNotifyStep();

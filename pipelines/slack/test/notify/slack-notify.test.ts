// The slack-notify step against a loopback stand-in speaking Slack's Web API and webhook formats.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runStepInProcess } from '../../../core/src/executors/local.js';
import type { StepDefinition } from '../../../protocol/src/step.js';
import { createSlackNotifyStep } from '../../src/notify/index.js';
import { slackError } from '../../src/notify/slack-errors.js';
import { startSlack, type SlackStandIn } from './stand-in.js';

const token = 'xoxb-11-sec';
const step = createSlackNotifyStep({ retryBaseDelayMs: 20 }) as unknown as StepDefinition;
let slack: SlackStandIn;
let archived: SlackStandIn;

beforeAll(async () => {
  slack = await startSlack({ token, channels: { '#deploys': 'C0DEPLOYS', C0DEPLOYS: 'C0DEPLOYS' }, webhookPath: '/services/T000/B000/XXXXsecret' });
  archived = await startSlack({ token, channels: {}, webhookPath: '/services/T000/B001/YYYYsecret', webhookChannelArchived: true });
});
afterAll(async () => {
  await slack.close();
  await archived.close();
});

const botEnv = () => ({ SLACK_BOT_TOKEN: token, SLACK_API_URL: slack.apiUrl });
const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*orders* 1.4.2 is live' } }];

describe('slack-notify step', () => {
  it('posts text and blocks with chat.postMessage and outputs ts and channel', async () => {
    const result = await runStepInProcess(step, { text: 'orders 1.4.2 is live', blocks: JSON.stringify(blocks), channel: '#deploys' }, { env: botEnv() });
    expect(result.status).toBe('success');
    expect(result.outputs.channel).toBe('C0DEPLOYS');
    expect(result.outputs.ts).toMatch(/^\d+\.000100$/);
    const post = slack.posts.at(-1)!;
    expect(post).toEqual({ path: '/api/chat.postMessage', authorization: `Bearer ${token}`, body: { channel: '#deploys', text: 'orders 1.4.2 is live', blocks } });
    expect(result.logs.join('\n')).not.toContain(token);
  });

  it('replies in a thread', async () => {
    const result = await runStepInProcess(step, { text: 'rolled back', channel: 'C0DEPLOYS', 'thread-ts': '1733040001.000100' }, { env: botEnv() });
    expect(result.status).toBe('success');
    expect(slack.posts.at(-1)!.body.thread_ts).toBe('1733040001.000100');
  });

  it('turns ok:false into a clear error', async () => {
    const notFound = await runStepInProcess(step, { text: 'hi', channel: '#nowhere' }, { env: botEnv() });
    expect(notFound.error).toMatchObject({ code: 'slack-notify.channel_not_found', message: 'Slack chat.postMessage failed: channel_not_found', hint: expect.stringContaining('/invite') });
    const badAuth = await runStepInProcess(step, { text: 'hi', channel: '#deploys' }, { env: { ...botEnv(), SLACK_BOT_TOKEN: 'xoxb-wrong' } });
    expect(badAuth.error?.code).toBe('slack-notify.invalid_auth');
    expect(JSON.stringify(badAuth)).not.toContain('xoxb-wrong');
  });

  it('posts through an incoming webhook', async () => {
    const seen = slack.posts.length;
    const result = await runStepInProcess(step, { text: 'build green', blocks, 'webhook-url': slack.webhookUrl }, { env: {} });
    expect(result.status).toBe('success');
    expect(slack.posts.slice(seen)).toEqual([{ path: '/services/T000/B000/XXXXsecret', authorization: undefined, body: { text: 'build green', blocks } }]);
    expect(result.logs.join('\n')).not.toContain('XXXXsecret');
  });

  it('reports a webhook\'s plain-text error', async () => {
    const result = await runStepInProcess(step, { text: 'x', 'webhook-url': archived.webhookUrl }, { env: {} });
    expect(result.error).toMatchObject({ code: 'slack-notify.channel_is_archived', message: 'Slack webhook failed: channel_is_archived' });
    expect(JSON.stringify(result)).not.toContain('YYYYsecret');
  });

  it('waits out a 429 Retry-After and a 503, then posts once', async () => {
    slack.throttleNext(1, 1);
    const seen = slack.posts.length;
    const started = Date.now();
    const result = await runStepInProcess(step, { text: 'after throttle', channel: '#deploys' }, { env: botEnv() });
    expect(result.status).toBe('success');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(slack.posts.length - seen).toBe(2);
    slack.throttleNext(5, 0);
    const down = await runStepInProcess(step, { text: 'never', channel: '#deploys' }, { env: botEnv() });
    expect(down.error?.code).toBe('slack-notify.unreachable');
    // a Retry-After on the last attempt is not waited for: two waits of 1 s for three attempts
    slack.throttleNext(5, 1);
    const throttledFrom = Date.now();
    const throttled = await runStepInProcess(step, { text: 'never', channel: '#deploys' }, { env: botEnv() });
    slack.throttleNext(0);
    expect(throttled.error?.message).toContain('retry after 1 s');
    expect(Date.now() - throttledFrom).toBeLessThan(2900);
  });

  it('explains missing destinations and bad blocks before calling Slack', async () => {
    const seen = slack.posts.length;
    expect((await runStepInProcess(step, { text: 'x' }, { env: {} })).error?.code).toBe('slack-notify.no-destination');
    expect((await runStepInProcess(step, { text: 'x' }, { env: botEnv() })).error?.code).toBe('slack-notify.no-channel');
    const bad = await runStepInProcess(step, { text: 'x', channel: '#deploys', blocks: '{not json' }, { env: botEnv() });
    expect(bad.error).toMatchObject({ code: 'step.inputs', message: expect.stringContaining('blocks: must be a JSON array of Block Kit blocks') });
    expect(slack.posts.length).toBe(seen);
  });
});

describe('slackError', () => {
  it.each([
    ['channel_not_found', 'chat.postMessage', 'slack-notify.channel_not_found', /invite/],
    ['missing_scope', 'chat.postMessage', 'slack-notify.missing_scope', /chat:write/],
    ['no_service', 'webhook', 'slack-notify.no_service', /new incoming webhook/],
    ['something_new', 'chat.postMessage', 'slack-notify.something_new', /api\.slack\.com/],
    ['', 'webhook', 'slack-notify.unknown_error', /api\.slack\.com/],
  ] as const)('%s via %s', (error, via, code, hint) => {
    const e = slackError(error, via);
    expect(e.code).toBe(code);
    expect(e.hint).toMatch(hint);
    expect(e.exitCode).toBe(3);
  });
});

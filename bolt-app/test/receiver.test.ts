// The app's Slack receiver with a real Bolt App behind it, on a real node:http server on 127.0.0.1,
// fed requests signed the way Slack signs them: early acks for empty-200 payloads, the listener's
// ack for the rest, the signature and timestamp checks, and that nothing acked is dropped at stop.
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { App, LogLevel, type Logger } from '@slack/bolt';
import { SlackEventsReceiver, type RequestInbox, type SlackEventsReceiverOptions } from '../src/slack/receiver.js';
import { FileInbox } from '../src/store/inbox.js';
import { blockActions, sign, signingSecret, slashCommand, users, viewSubmission } from './helpers.js';

const quiet: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

interface Harness {
  app: App;
  receiver: SlackEventsReceiver;
  url: string;
  close(): Promise<void>;
}

let open: Harness | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

async function harness(options: Partial<SlackEventsReceiverOptions> = {}): Promise<Harness> {
  const receiver = new SlackEventsReceiver({ signingSecret, logger: quiet, ...options });
  // botId / botUserId given: Bolt asks Slack nothing (no auth.test) before running a listener
  const app = new App({ token: 'bot-token-for-receiver-tests', botId: 'B0BOT00001', botUserId: 'U0BOT00001', receiver, logger: quiet });
  const server: Server = createServer((req, res) => receiver.requestListener(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/slack/events`;
  open = {
    app,
    receiver,
    url,
    async close() {
      await receiver.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return open;
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

const formHeaders = (text: string, options: Parameters<typeof sign>[1] = {}) => ({ 'content-type': 'application/x-www-form-urlencoded', ...sign(text, options) });
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const click = (value = 'apr_1') => form(blockActions({ user: users.ada, actionId: 'go', value }));

describe('SlackEventsReceiver', () => {
  it('answers a button click with 200 before its listener has run, even one that never calls ack()', async () => {
    const { app, url } = await harness({ quietMs: 1 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: string[] = [];
    app.action('go', async ({ action }) => {
      seen.push((action as { value: string }).value);
      await gate;
    });
    const text = click('apr_early');
    const answer = await post(url, text, formHeaders(text));
    expect(answer).toMatchObject({ status: 200, text: '' });
    // Bolt's HTTPReceiver would have held this response until ack() or its 3 s timeout
    for (let i = 0; i < 100 && !seen.length; i += 1) await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual(['apr_early']);
    release();
  });

  it('acks a whole burst before any listener starts, then runs every listener', async () => {
    const { app, url } = await harness({ quietMs: 300, maxDelayMs: 5000 });
    const ran: string[] = [];
    app.action('go', async ({ ack, action }) => {
      await ack();
      ran.push((action as { value: string }).value);
    });
    const bodies = Array.from({ length: 20 }, (_, i) => click(`apr_${i}`));
    const answers = await Promise.all(bodies.map((text) => post(url, text, formHeaders(text))));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(ran).toEqual([]);
    for (let i = 0; i < 200 && ran.length < 20; i += 1) await new Promise((r) => setTimeout(r, 10));
    expect(ran.sort()).toEqual(bodies.map((_, i) => `apr_${i}`).sort());
  });

  it('never holds listener work longer than maxDelayMs, however busy it is', async () => {
    const { app, url } = await harness({ quietMs: 60_000, maxDelayMs: 30 });
    let ranAt = 0;
    app.action('go', async () => {
      ranAt = performance.now();
    });
    const text = click();
    const sent = performance.now();
    await post(url, text, formHeaders(text));
    for (let i = 0; i < 100 && !ranAt; i += 1) await new Promise((r) => setTimeout(r, 10));
    expect(ranAt).toBeGreaterThan(0);
    expect(ranAt - sent).toBeLessThan(1000);
  });

  it('a view submission is answered with what its listener acks (response_action errors)', async () => {
    const { app, url } = await harness();
    app.view('shipgate_reject_reason', async ({ ack }) => {
      await ack({ response_action: 'errors', errors: { reason: 'Say why' } });
    });
    const text = form(viewSubmission({ user: users.ada, approvalId: 'apr_1', reason: '' }));
    const answer = await post(url, text, formHeaders(text));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ response_action: 'errors', errors: { reason: 'Say why' } });
  });

  it('a slash command is answered with the text its listener acks', async () => {
    const { app, url } = await harness();
    app.command('/shipgate', async ({ ack, command }) => {
      await ack(`status of ${command.text}`);
    });
    const text = form(slashCommand({ user: users.ada, text: 'orders', responseUrl: 'https://hooks.slack.invalid/commands/1' }));
    const answer = await post(url, text, formHeaders(text));
    expect(answer).toMatchObject({ status: 200, text: 'status of orders' });
  });

  it('passes Slack’s retry headers to the listener', async () => {
    const { app, url } = await harness({ quietMs: 1 });
    const retries: Array<number | undefined> = [];
    app.action('go', async ({ context }) => {
      retries.push(context.retryNum);
    });
    const text = click();
    await post(url, text, { ...formHeaders(text), 'x-slack-retry-num': '2', 'x-slack-retry-reason': 'http_timeout' });
    for (let i = 0; i < 100 && !retries.length; i += 1) await new Promise((r) => setTimeout(r, 10));
    expect(retries).toEqual([2]);
  });

  it('refuses with 401, and runs nothing, when the signature or timestamp is wrong', async () => {
    const { app, url } = await harness({ quietMs: 1 });
    let ran = 0;
    app.action('go', async () => {
      ran += 1;
    });
    const text = click();
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, Record<string, string>]> = [
      ['another secret', formHeaders(text, { secret: 'not-the-secret' })],
      ['6 minutes old', formHeaders(text, { timestamp: now - 6 * 60 })],
      ['6 minutes ahead', formHeaders(text, { timestamp: now + 6 * 60 })],
      ['no signature', { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(now) }],
      ['no timestamp', { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-signature': sign(text)['x-slack-signature']! }],
      ['a v1 signature', { ...formHeaders(text), 'x-slack-signature': sign(text)['x-slack-signature']!.replace('v0=', 'v1=') }],
      ['a truncated signature', { ...formHeaders(text), 'x-slack-signature': sign(text)['x-slack-signature']!.slice(0, -2) }],
      ['another body', formHeaders(click('apr_other'))],
    ];
    for (const [what, headers] of cases) {
      const answer = await post(url, text, headers);
      expect([what, answer.status]).toEqual([what, 401]);
    }
    // a correctly signed request 4 minutes old still passes
    const ok = await post(url, text, formHeaders(text, { timestamp: now - 4 * 60 }));
    expect(ok.status).toBe(200);
    for (let i = 0; i < 100 && !ran; i += 1) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    expect(ran).toBe(1);
  });

  it('ssl_check needs no signature and runs nothing; url_verification returns the challenge; GET is 404', async () => {
    const { app, url } = await harness({ quietMs: 1 });
    let ran = 0;
    app.action('go', async () => {
      ran += 1;
    });
    // a payload smuggled next to ssl_check=1 is not looked at
    const smuggled = `ssl_check=1&${click()}`;
    const check = await post(url, smuggled, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(check.status).toBe(200);
    const challenge = JSON.stringify({ type: 'url_verification', token: 'legacy', challenge: 'c-42' });
    const verified = await post(url, challenge, { 'content-type': 'application/json', ...sign(challenge) });
    expect(verified.status).toBe(200);
    expect(JSON.parse(verified.text)).toEqual({ challenge: 'c-42' });
    const unsigned = await post(url, challenge, { 'content-type': 'application/json' });
    expect(unsigned.status).toBe(401);
    expect((await fetch(url)).status).toBe(404);
    await new Promise((r) => setTimeout(r, 50));
    expect(ran).toBe(0);
  });

  it('a malformed signed payload is 400, a body over the limit 413', async () => {
    const { url } = await harness({ bodyLimit: 1024 });
    const broken = form({ payload: '{"type":"block_actions",' });
    expect((await post(url, broken, formHeaders(broken))).status).toBe(400);
    const big = form({ payload: JSON.stringify({ type: 'block_actions', pad: 'x'.repeat(2048) }) });
    expect((await post(url, big, formHeaders(big))).status).toBe(413);
  });

  it('with an inbox: a click is written before its 200 (one write for a burst), marked done after its listener; one the inbox cannot take is 503 and runs nothing', async () => {
    const events: string[] = [];
    let refuse = false;
    const kept: Array<Record<string, unknown>> = [];
    const inbox: RequestInbox = {
      async record(bodies) {
        if (refuse) throw new Error('database unavailable');
        events.push(`record ${bodies.length}`);
        kept.push(...bodies);
        return bodies.map((_, i) => events.length * 100 + i);
      },
      async finished(ids) {
        events.push(`finished ${ids.length}`);
      },
    };
    const { app, url } = await harness({ inbox, quietMs: 1 });
    app.action('go', async ({ ack, action, body }) => {
      await ack();
      events.push(`ran ${(action as { value: string }).value} ${body.type}`);
    });
    const bodies = Array.from({ length: 5 }, (_, i) => click(`apr_${i}`));
    const answers = await Promise.all(bodies.map((text) => post(url, text, formHeaders(text))));
    expect(answers.map((a) => a.status)).toEqual(Array(5).fill(200));
    // each 200 came after its write
    expect(events.filter((e) => e.startsWith('record')).reduce((n, e) => n + Number(e.split(' ')[1]), 0)).toBe(5);
    expect(events.some((e) => e.startsWith('ran'))).toBe(false);
    for (let i = 0; i < 100 && !events.some((e) => e.startsWith('finished')); i += 1) await new Promise((r) => setTimeout(r, 10));
    expect(events.filter((e) => e.startsWith('ran')).sort()).toEqual(bodies.map((_, i) => `ran apr_${i} block_actions`).sort());
    // what is kept is the payload without Slack's legacy verification token
    expect(kept.map((b) => [b.type, 'token' in b])).toEqual(Array(5).fill(['block_actions', false]));
    expect(events.at(-1)).toMatch(/^finished /);
    refuse = true;
    const ran = events.length;
    const text = click('apr_refused');
    expect((await post(url, text, formHeaders(text))).status).toBe(503);
    await new Promise((r) => setTimeout(r, 50));
    expect(events.length).toBe(ran);
  });

  it('journals a click from inside a modal and a modal submission as Slack sends them, not a view_closed, and never the legacy token', async () => {
    // shaped like requests Slack sent to a real app (a button in a modal has a view container and
    // no channel or message; view_closed carries is_cleared), with values of our own
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-receiver-'));
    try {
      const journal = new FileInbox(path.join(dir, 'inbox.jsonl'));
      const written: Array<Record<string, unknown>> = [];
      const inbox: RequestInbox = { recordNow: (b) => (written.push(b), journal.recordNow(b)), record: (b) => journal.record(b), finished: (ids) => journal.finished(ids) };
      const { app, url } = await harness({ inbox, quietMs: 1 });
      const ran: string[] = [];
      app.action('edit_steps', async ({ ack }) => {
        await ack();
        ran.push('click');
      });
      app.view('steps_modal', async ({ ack }) => {
        await ack();
        ran.push('submission');
      });
      app.view({ type: 'view_closed', callback_id: 'steps_modal' }, async ({ ack }) => {
        await ack();
        ran.push('closed');
      });
      const team = { id: 'T0TEAM0000', domain: 'example' };
      const user = { id: users.ada, username: 'ada', name: 'ada', team_id: team.id };
      const view = { id: 'V0MODAL0001', team_id: team.id, type: 'modal', callback_id: 'steps_modal', private_metadata: '{"channel_id":"C0PROD0001"}', state: { values: { step: { name: { type: 'plain_text_input', value: 'Customer questions?' } } } }, hash: '1600000000.AbCd', blocks: [] };
      const requests = [
        { type: 'block_actions', user, api_app_id: 'A0APP00001', token: 'legacy-verification-token', container: { type: 'view', view_id: view.id }, trigger_id: '1.2.3', team, view, actions: [{ type: 'button', action_id: 'edit_steps', block_id: 'b1', value: 'edit_steps', action_ts: '1600000001.000100' }] },
        { type: 'view_submission', team, user, api_app_id: 'A0APP00001', token: 'legacy-verification-token', trigger_id: '1.2.4', view, response_urls: [] },
        { type: 'view_closed', team, user, api_app_id: 'A0APP00001', token: 'legacy-verification-token', view, is_cleared: false },
      ];
      for (const payload of requests) {
        const text = form({ payload: JSON.stringify(payload) });
        expect((await post(url, text, formHeaders(text))).status).toBe(200);
      }
      for (let i = 0; i < 100 && ran.length < 3; i += 1) await new Promise((r) => setTimeout(r, 10));
      expect(ran.sort()).toEqual(['click', 'closed', 'submission']);
      expect(written.map((b) => [b.type, 'token' in b])).toEqual([
        ['block_actions', false],
        ['view_submission', false],
      ]);
      await new Promise((r) => setTimeout(r, 20));
      expect(journal.openCount).toBe(0);
      journal.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stop() waits for the listeners of every request it acked, queued ones included', async () => {
    const h = await harness({ quietMs: 60_000, maxDelayMs: 60_000 });
    const finished: string[] = [];
    h.app.action('go', async ({ action }) => {
      await new Promise((r) => setTimeout(r, 100));
      finished.push((action as { value: string }).value);
    });
    const text = click('apr_at_stop');
    expect((await post(h.url, text, formHeaders(text))).status).toBe(200);
    expect(finished).toEqual([]);
    await h.receiver.stop();
    expect(finished).toEqual(['apr_at_stop']);
  });
});

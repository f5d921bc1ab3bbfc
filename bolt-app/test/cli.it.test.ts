// `shipgate-bolt` as it runs: from environment variables and a config file, on PGlite in a data
// directory; the config reloads when the file changes (a broken edit keeps the last good one);
// mistakes end with one line, a hint and exit code 2.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import type { ShipgateApp } from '../src/app.js';
import { runShipgateBolt } from '../src/run.js';
import { api, apiToken, approvalBody, blockActions, botToken, postSlack, signingSecret, slackStandIn, users, waitFor, type SlackStandIn } from './helpers.js';

let dir: string;
let slack: SlackStandIn;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sg-bolt-cli-'));
  slack = await slackStandIn();
});
afterAll(async () => {
  await slack?.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(env: Record<string, string>) {
  const stop = new AbortController();
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  let app: ShipgateApp | undefined;
  const done = runShipgateBolt({ env: { PORT: '0', HOST: '127.0.0.1', ...env }, signal: stop.signal, stderr, logger: pino({ level: 'silent' }), onStarted: (a) => (app = a) });
  return { stop, done, err: () => err, app: () => app };
}

const config = (approvers: string) => `environments:\n  prod:\n    channel: C0PROD0001\n    approvers: [${approvers}]\n    self-approve: false\n`;

describe('shipgate-bolt', () => {
  it('runs from the environment, keeps its data on disk, and reloads the config file on change', async () => {
    const file = path.join(dir, 'bolt.yml');
    writeFileSync(file, config(users.ada));
    const env = { SHIPGATE_CONFIG: file, SLACK_BOT_TOKEN: botToken, SLACK_SIGNING_SECRET: signingSecret, SLACK_API_URL: slack.apiUrl, SHIPGATE_API_TOKEN: apiToken, SHIPGATE_DATA_DIR: path.join(dir, 'data') };
    const first = run(env);
    try {
      const app = await waitFor(() => first.app(), 'the app to start', 30_000);
      const { id } = (await api(app.url, 'POST', '/api/approvals', approvalBody({ requester: users.eve }))).body;
      // bob is not an approver yet
      await postSlack(app.url, blockActions({ user: users.bob, actionId: 'shipgate_approve', value: id }));
      await waitFor(() => slack.of('chat.postEphemeral').find((c) => c.args.user === users.bob), 'the refusal');
      expect((await api(app.url, 'GET', `/api/approvals/${id}`)).body.state).toBe('pending');
      // a broken edit is ignored; a good one takes effect without a restart
      writeFileSync(file, 'environments:\n  prod:\n    channel: nope\n');
      await new Promise((r) => setTimeout(r, 1500));
      expect(app.config.current.environments.prod?.approvers).toEqual([users.ada]);
      writeFileSync(file, config(`${users.ada}, ${users.bob}`));
      await waitFor(() => app.config.current.environments.prod?.approvers.includes(users.bob), 'the reload', 10_000);
      await postSlack(app.url, blockActions({ user: users.bob, actionId: 'shipgate_approve', value: id }));
      expect((await api(app.url, 'GET', `/api/approvals/${id}?wait=5`)).body).toMatchObject({ state: 'approved', decidedBy: users.bob });
      first.stop.abort();
      expect(await first.done).toBe(0);

      // the data is still there after a restart
      const second = run(env);
      try {
        const again = await waitFor(() => second.app(), 'the restart', 30_000);
        expect((await api(again.url, 'GET', `/api/approvals/${id}`)).body.state).toBe('approved');
      } finally {
        second.stop.abort();
        expect(await second.done).toBe(0);
      }
    } finally {
      first.stop.abort();
      await first.done;
    }
  });

  it.each([
    ['no config file', { SHIPGATE_CONFIG: '/nonexistent/bolt.yml' }, /cannot read the config file \/nonexistent\/bolt\.yml: ENOENT \[bolt\.config-missing\]\n {2}hint: set SHIPGATE_CONFIG/],
    ['no bot token', { SLACK_SIGNING_SECRET: 's' }, /SLACK_BOT_TOKEN is not set \[bolt\.env\]\n {2}hint: the bot token/],
    ['no signing secret in HTTP mode', { SLACK_BOT_TOKEN: 'xoxb-1' }, /SLACK_SIGNING_SECRET is not set \[bolt\.env\]/],
    ['a bad port', { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', PORT: 'http' }, /PORT "http" is not a port number \[bolt\.env\]/],
    ['a bad config', { CONFIG_TEXT: 'environments:\n  prod:\n    channel: C0PROD0001\n    approvers: [ada]\n' }, /bolt\.yml:4:17: environments\.prod\.approvers\.0: a Slack user ID/],
  ])('%s: one line, a hint, exit code 2', async (_name, extra, message) => {
    const file = path.join(dir, 'bolt.yml');
    writeFileSync(file, (extra as Record<string, string>).CONFIG_TEXT ?? config(users.ada));
    const r = run({ SHIPGATE_CONFIG: file, ...(extra as Record<string, string>) });
    expect(await r.done).toBe(2);
    expect(r.err()).toMatch(message);
    expect(r.err()).not.toMatch(/\n\s+at /);
  });
});

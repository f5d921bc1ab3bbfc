// A pipeline's own rollback (a verify step's `rolled-back` record) answers in the Slack thread of
// the deployment it rolled back, with the failing check as `reason`: the real app on PGlite, its API
// over HTTP on 127.0.0.1, and the loopback stand-in for Slack's Web API recording what it sends.
// Migration 5 (deployments.reason) is checked on a real Postgres holding a row from before it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findPostgresBinaries, openHarness, prepareHarness } from '@shipgate/test-harness';
import { rolledBackParent } from '../src/approvals/rollback.js';
import type { ShipgateApp } from '../src/app.js';
import { migrate, migrations } from '../src/store/migrations.js';
import { openPostgres } from '../src/store/sql.js';
import { Store } from '../src/store/store.js';
import { api, approvalBody, blockActions, memoryStore, postSlack, slackStandIn, startApp, users, waitFor, type SlackStandIn } from './helpers.js';

let slack: SlackStandIn;
let store: Store;
let app: ShipgateApp;

beforeAll(async () => {
  slack = await slackStandIn();
  store = await memoryStore();
  app = await startApp(slack, { store });
});
afterAll(async () => {
  await app?.stop();
  await store?.close();
  await slack?.close();
});

/** Records a deployment and waits for its Slack message; returns the app's id and the message's ts. */
async function deploy(body: Record<string, unknown>) {
  const res = await api(app.url, 'POST', '/api/deployments', { environment: 'prod', outcome: 'succeeded', ...body });
  expect(res.status).toBe(201);
  const ts = await waitFor(async () => (await store.deployments.get(res.body.id))?.messageTs, 'the deployment message');
  return { id: res.body.id as string, ts };
}

const postsAfter = (since: number) => slack.calls.slice(since).filter((c) => c.method === 'chat.postMessage');

describe('a rolled-back record from the pipeline', () => {
  it('is posted in the thread of the deployment of that version, with its reason', async () => {
    await deploy({ service: 'orders', version: '1.1.0' });
    const bad = await deploy({ service: 'orders', version: '1.2.0' });
    const since = slack.calls.length;
    const reason = 'verify: check "error-rate" failed at evaluation 2: 0.4 > 0.05';
    const res = await api(app.url, 'POST', '/api/deployments', { service: 'orders', environment: 'prod', version: '1.2.0', outcome: 'rolled-back', reason });
    expect(res.status).toBe(201);
    await waitFor(async () => (await store.deployments.get(res.body.id))?.messageTs, 'the rollback notice');
    const posts = postsAfter(since);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.args).toMatchObject({ channel: 'C0PROD0001', thread_ts: bad.ts });
    expect(posts[0]!.args.text).toContain('Rolled back by the pipeline: orders 1.2.0 in prod — verify: check "error-rate" failed at evaluation 2: 0.4 &gt; 0.05');
    expect(JSON.stringify(posts[0]!.args.blocks)).toContain('*Why:* verify: check \\"error-rate\\" failed at evaluation 2: 0.4 &gt; 0.05');
    // stored with the deployment, and in the history the CLI reads
    expect((await store.deployments.get(res.body.id))?.reason).toBe(reason);
    const listed = await api(app.url, 'GET', '/api/deployments?service=orders&environment=prod');
    expect(listed.body.deployments.at(-1)).toMatchObject({ outcome: 'rolled-back', reason });
  });

  it('answers the latest deployment of the service when none of that version has a message', async () => {
    const latest = await deploy({ service: 'billing', version: '3.0.0' });
    const since = slack.calls.length;
    const res = await api(app.url, 'POST', '/api/deployments', { service: 'billing', environment: 'prod', version: '3.0.1', outcome: 'rolled-back', reason: 'latency over 0.3 s' });
    await waitFor(async () => (await store.deployments.get(res.body.id))?.messageTs, 'the rollback notice');
    expect(postsAfter(since).map((c) => c.args.thread_ts)).toEqual([latest.ts]);
  });

  it('is posted in the channel, as before, when the service has no deployment message there', async () => {
    const since = slack.calls.length;
    const res = await api(app.url, 'POST', '/api/deployments', { service: 'search', environment: 'prod', version: '2.0.0', outcome: 'rolled-back', reason: 'error rate 0.2 > 0.05' });
    await waitFor(async () => (await store.deployments.get(res.body.id))?.messageTs, 'the rollback notice');
    const posts = postsAfter(since);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.args.channel).toBe('C0PROD0001');
    expect(posts[0]!.args.thread_ts).toBeUndefined();
  });

  it('escapes a reason carrying a mention or a link: it stays text', async () => {
    const bad = await deploy({ service: 'carts', version: '5.0.0' });
    const since = slack.calls.length;
    const res = await api(app.url, 'POST', '/api/deployments', { service: 'carts', environment: 'prod', version: '5.0.0', outcome: 'rolled-back', reason: 'x <!channel> <https://evil.example|y> & <@U0ADA00001>' });
    expect(res.status).toBe(201);
    await waitFor(async () => (await store.deployments.get(res.body.id))?.messageTs, 'the rollback notice');
    const [post] = postsAfter(since);
    expect(post!.args.thread_ts).toBe(bad.ts);
    const sent = JSON.stringify(post!.args);
    expect(sent).not.toMatch(/<!channel>|<https:\/\/evil|<@U0ADA/);
    expect(post!.args.text).toContain('x &lt;!channel&gt; &lt;https://evil.example|y&gt; &amp; &lt;@U0ADA00001&gt;');
  });

  it('answers in the approval\'s thread when the deployment was posted there (a thread\'s parent, never a reply)', async () => {
    const requested = await api(app.url, 'POST', '/api/approvals', approvalBody({ service: 'ledger', version: '7.0.0' }));
    expect(requested.status).toBe(201);
    const approvalTs = await waitFor(async () => (await store.approvals.get(requested.body.id))?.messageTs, 'the approval message');
    await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: requested.body.id }));
    await waitFor(async () => (await store.approvals.get(requested.body.id))?.state === 'approved', 'the approval');
    const deployed = await deploy({ service: 'ledger', version: '7.0.0' });
    expect(slack.of('chat.postMessage').find((c) => c.args.thread_ts === approvalTs && String(c.args.text).startsWith('Deployed: ledger'))).toBeDefined();
    expect(deployed.ts).not.toBe(approvalTs);
    const since = slack.calls.length;
    const res = await api(app.url, 'POST', '/api/deployments', { service: 'ledger', environment: 'prod', version: '7.0.0', outcome: 'rolled-back', reason: 'error rate 0.2 > 0.05' });
    await waitFor(async () => (await store.deployments.get(res.body.id))?.messageTs, 'the rollback notice');
    expect(postsAfter(since).map((c) => c.args.thread_ts)).toEqual([approvalTs]);
  });

  it.each([
    ['over 1000 characters', 'x'.repeat(1001), 'reason: Too big: expected string to have <=1000 characters'],
    ['empty', '   ', 'reason: Too small: expected string to have >=1 characters'],
    ['not text', 42, 'reason: Invalid input: expected string, received number'],
  ])('refuses a reason %s with 400, naming the field', async (_name, reason, message) => {
    const res = await api(app.url, 'POST', '/api/deployments', { service: 'orders', environment: 'prod', version: '1.2.1', outcome: 'rolled-back', reason });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'api.invalid', message });
  });
});

describe('rolledBackParent', () => {
  const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));
  const d = (id: string, version: string, minute: number, over: Record<string, unknown> = {}) => ({ id, seq: minute, version, outcome: 'succeeded' as const, createdAt: at(minute), channel: 'C1', messageTs: `${minute}.1`, ...over });
  const record = d('r', '2', 9, { outcome: 'rolled-back' as const, messageTs: null });
  it.each([
    ['the deployment of that version', [d('a', '1', 1), d('b', '2', 2), d('c', '3', 3), record], 'b'],
    ['the newest of that version', [d('a', '2', 1), d('b', '2', 2), record], 'b'],
    ['the latest deployment when no deployment of that version has a message', [d('a', '1', 1), d('b', '2', 2, { messageTs: null }), d('c', '3', 3), record], 'c'],
    ['never another rolled-back record (a reply itself)', [d('a', '1', 1), d('b', '2', 2, { outcome: 'rolled-back' }), record], 'a'],
    ['never a later deployment', [d('a', '1', 1), record, d('z', '2', 20)], 'a'],
    ['nothing when no deployment has a message', [d('a', '2', 1, { channel: null, messageTs: null }), record], undefined],
  ])('%s', (_name, history, expected) => {
    expect(rolledBackParent(history, record)?.id).toBe(expected);
  });
});

const hasPostgres = findPostgresBinaries() !== undefined;
if (!hasPostgres && process.env.CI === 'true') throw new Error('CI must provide Postgres server binaries (.ci/run installs postgresql)');
if (!hasPostgres) console.warn('skipping migration 5 on Postgres: no Postgres server binaries on this machine (apt-get install postgresql)');

(hasPostgres ? describe : describe.skip)('migration 5 (deployments.reason) on Postgres', () => {
  it('upgrades a database at version 4: the old row has no reason, and a rollback notice after it is threaded with one', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-reason-'));
    const prepared = await prepareHarness({ provider: 'postgres', cwd: dir });
    const harness = openHarness(prepared.state);
    const database = await harness.acquire();
    const db = await openPostgres(database.url!, { max: 3 });
    const own = await slackStandIn();
    let pgApp: ShipgateApp | undefined;
    try {
      // the database as the app left it before migration 5, with a posted deployment in it
      const later = migrations.splice(migrations.findIndex((m) => m.version === 5));
      try {
        expect(await migrate(db)).toEqual([1, 2, 3, 4]);
      } finally {
        migrations.push(...later);
      }
      await db.query(`INSERT INTO deployments (id, service, environment, version, outcome, created_at, channel, message_ts) VALUES ('dep_old', 'orders', 'prod', '1.2.0', 'succeeded', now() - interval '1 hour', 'C0PROD0001', '1699999999.000100')`);
      expect(await migrate(db)).toEqual([5]);
      const upgraded = new Store(db);
      expect(await upgraded.deployments.get('dep_old')).toMatchObject({ version: '1.2.0', reason: null });
      pgApp = await startApp(own, { store: upgraded });
      const res = await api(pgApp.url, 'POST', '/api/deployments', { service: 'orders', environment: 'prod', version: '1.2.0', outcome: 'rolled-back', reason: 'p99 latency 0.9 > 0.3' });
      expect(res.status).toBe(201);
      await waitFor(async () => (await upgraded.deployments.get(res.body.id))?.messageTs, 'the rollback notice');
      expect(await upgraded.deployments.get(res.body.id)).toMatchObject({ reason: 'p99 latency 0.9 > 0.3' });
      expect(own.of('chat.postMessage').map((c) => [c.args.thread_ts, c.args.text])).toEqual([['1699999999.000100', 'Rolled back by the pipeline: orders 1.2.0 in prod — p99 latency 0.9 &gt; 0.3']]);
    } finally {
      await pgApp?.stop().catch(() => undefined);
      await db.close().catch(() => undefined);
      await own.close();
      await database.release();
      await harness.close();
      await prepared.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

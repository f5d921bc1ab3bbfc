// actions/approval from its bundle against the real shipgate Slack app (bolt-app on PGlite, its
// HTTP API on loopback, its Slack receiver (a real Bolt App) taking a signed Approve click; Slack's Web API is
// the bolt-app tests' loopback stand-in).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ApprovalStore, ShipgateApp } from '@shipgate/bolt-app';
import { apiToken, blockActions, memoryStore, postSlack, slackStandIn, startApp, users, waitFor, type SlackStandIn } from '../../bolt-app/test/helpers.js';
import { bundledJob, removeJob, runBundledAction, type BundledJob } from './runner.js';

let job: BundledJob;
let slack: SlackStandIn;
let store: ApprovalStore;
let app: ShipgateApp;

beforeAll(async () => {
  job = bundledJob();
  slack = await slackStandIn();
  store = await memoryStore();
  app = await startApp(slack, { store });
}, 60_000);
afterAll(async () => {
  await app?.stop();
  await store?.close();
  await slack?.close();
  removeJob(job);
});

describe('actions/approval with the shipgate Slack app', () => {
  it('the app posts Approve / Reject to the channel; a click approves; the action ends with who approved', async () => {
    const running = runBundledAction('approval', {
      ...job,
      event: 'tag-push',
      inputs: { service: 'orders', environment: 'prod', version: 'v1.4.2', 'poll-seconds': '10', token: apiToken },
      env: { SHIPGATE_APP_URL: app.url },
    });
    const post = await waitFor(() => slack.of('chat.postMessage').find((c) => JSON.stringify(c.args.blocks).includes('v1.4.2')), 'the approval message', 20_000);
    expect(post.args.channel).toBe('C0PROD0001');
    const id = String(post.args.blocks.find((b: any) => b.type === 'actions').elements[0].value);
    await waitFor(async () => (await store.getApproval(id))?.messageTs, 'the message ts recorded');
    const click = await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: id }));
    expect(click.status).toBe(200);
    const run = await running;
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({ 'approval-id': id, 'decided-by': users.ada });
    expect(Date.parse(run.outputs['decided-at']!)).toBeGreaterThan(0);
    expect((await store.getApproval(id))?.state).toBe('approved');
  }, 60_000);
});

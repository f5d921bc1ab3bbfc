// actions/approval from its bundle against the real shipgate Slack app (bolt-app on PGlite, its
// HTTP API on loopback, the real Bolt receiver taking a signed Approve click; Slack's Web API is
// the bolt-app tests' loopback stand-in).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ApprovalStore, ShipgateApp } from '@shipgate/bolt-app';
import { apiToken, blockActions, memoryStore, postSlack, slackStandIn, startApp, users, waitFor, type SlackStandIn } from '../../bolt-app/test/helpers.js';
import { copyBundle, runBundledAction } from './runner.js';

let bundle: ReturnType<typeof copyBundle>;
let workspace: string;
let slack: SlackStandIn;
let store: ApprovalStore;
let app: ShipgateApp;

beforeAll(async () => {
  bundle = copyBundle();
  workspace = mkdtempSync(path.join(os.tmpdir(), 'shipgate-ws-'));
  slack = await slackStandIn();
  store = await memoryStore();
  app = await startApp(slack, { store });
}, 60_000);
afterAll(async () => {
  await app?.stop();
  await store?.close();
  await slack?.close();
  bundle.remove();
  rmSync(workspace, { recursive: true, force: true });
});

describe('actions/approval with the shipgate Slack app', () => {
  it('the app posts Approve / Reject to the channel; a click approves; the action ends with who approved', async () => {
    const running = runBundledAction('approval', {
      bundleDir: bundle.dir,
      workspace,
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

// actions/approval and actions/slack-notify from their bundles, against loopback stand-ins of the
// shipgate Slack app and of Slack itself (the same ones the steps' own tests use).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { startApprovalApp, type ApprovalAppStandIn } from '../../pipelines/slack/test/approval/stand-in.js';
import { startSlack, type SlackStandIn } from '../../pipelines/slack/test/notify/stand-in.js';
import { bundledJob, removeJob, runBundledAction, type BundledJob } from './runner.js';

let job: BundledJob;
let app: ApprovalAppStandIn;
let slack: SlackStandIn;
const botToken = 'xoxb-4242-sec';

beforeAll(async () => {
  job = bundledJob();
  app = await startApprovalApp('sg-action-token-77aa');
  slack = await startSlack({ token: botToken, channels: { '#deploys': 'C0DEPLOYS' }, webhookPath: '/services/T1/B1/hooksecret' });
});
afterAll(async () => {
  removeJob(job);
  await app.close();
  await slack.close();
});

async function newApproval(count: number) {
  for (let i = 0; i < 500; i += 1) {
    if (app.approvals.size >= count) return [...app.approvals.values()].at(-1)!;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the action never asked for an approval');
}

describe('actions/approval', () => {
  it('asks with the run\'s context, waits, and outputs who approved; the token is masked', async () => {
    const before = app.approvals.size;
    const running = runBundledAction('approval', {
      ...job,
      event: 'tag-push',
      inputs: { service: 'orders', environment: 'production', version: 'v1.4.2', digest: 'sha256:' + 'ab'.repeat(32), 'poll-seconds': '5', token: app.token },
      env: { SHIPGATE_APP_URL: app.url },
    });
    const asked = await newApproval(before + 1);
    expect(asked.request).toMatchObject({ service: 'orders', environment: 'production', version: 'v1.4.2', requester: 'monalisa', idempotencyKey: 'acme/orders-service:12345678901:1:approval:production:v1.4.2', backend: { kind: 'shipgate' } });
    app.decide(asked.id, 'approved', 'U0ALICE');
    const run = await running;
    expect(run.code).toBe(0);
    expect(run.masks).toContain(app.token);
    expect(run.stdout.replace(`::add-mask::${app.token}`, '')).not.toContain(app.token);
    expect(run.outputs).toEqual({ 'approval-id': asked.id, 'decided-by': 'U0ALICE', 'decided-at': app.approvals.get(asked.id)!.decidedAt });
    expect(run.summary).toMatch(/\| orders \| production \| v1\.4\.2 \| ✅ approved \| U0ALICE \|/);
  });

  it('a rejection fails the job with the reason as the annotation', async () => {
    const before = app.approvals.size;
    const running = runBundledAction('approval', {
      ...job,
      inputs: { service: 'orders', environment: 'production', version: '1.5.0', backend: '{"kind":"shipgate"}', 'poll-seconds': '5' },
      env: { SHIPGATE_APP_URL: app.url, SHIPGATE_API_TOKEN: app.token },
    });
    const asked = await newApproval(before + 1);
    app.decide(asked.id, 'rejected', 'U0BOB', 'freeze until Monday');
    const run = await running;
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([{ title: 'shipgate approval: approval.rejected', message: 'orders 1.5.0 to production was rejected by U0BOB: freeze until Monday\nhint: address the reason, then run the pipeline again for a new approval' }]);
    expect(run.summary).toContain('❌ rejected');
  });

  it('a cancelled job (SIGINT, as the runner sends) stops waiting at once and fails', async () => {
    const before = app.approvals.size;
    let child: ChildProcess | undefined;
    const running = runBundledAction('approval', {
      ...job,
      inputs: { service: 'orders', environment: 'production', version: '1.6.0', 'poll-seconds': '30' },
      env: { SHIPGATE_APP_URL: app.url, SHIPGATE_API_TOKEN: app.token },
      started: (c) => (child = c),
    });
    await newApproval(before + 1);
    await new Promise((r) => setTimeout(r, 200)); // the long-poll is under way
    const sent = Date.now();
    child!.kill('SIGINT');
    const run = await running;
    expect(Date.now() - sent).toBeLessThan(3000);
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([{ title: 'shipgate approval: step.cancelled', message: 'approval was cancelled' }]);
  });

  it('bad inputs are annotated before anything is asked', async () => {
    const before = app.approvals.size;
    const run = await runBundledAction('approval', { ...job, inputs: { service: 'orders', environment: 'production', version: '1', 'poll-seconds': 'soon' }, env: { SHIPGATE_APP_URL: app.url, SHIPGATE_API_TOKEN: app.token } });
    expect(run.code).toBe(1);
    expect(run.errors[0]).toEqual({ title: 'shipgate approval: action.input', message: 'input poll-seconds must be a number, got "soon"\nhint: e.g. poll-seconds: 30' });
    const noVersion = await runBundledAction('approval', { ...job, inputs: { service: 'orders', environment: 'production' }, env: { SHIPGATE_APP_URL: app.url, SHIPGATE_API_TOKEN: app.token } });
    expect(noVersion.errors[0]?.title).toBe('shipgate approval: step.inputs');
    expect(noVersion.errors[0]?.message).toContain('version');
    expect(app.approvals.size).toBe(before);
  });
});

describe('actions/slack-notify', () => {
  it('posts with the bot token from the environment and outputs ts and channel', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*orders* v1.4.2 is live in production' } }];
    const run = await runBundledAction('slack-notify', {
      ...job,
      inputs: { text: 'orders v1.4.2 is live', blocks: JSON.stringify(blocks), channel: '#deploys' },
      env: { SLACK_BOT_TOKEN: botToken, SLACK_API_URL: slack.apiUrl },
    });
    expect(run.code).toBe(0);
    expect(run.outputs.channel).toBe('C0DEPLOYS');
    expect(run.outputs.ts).toMatch(/^\d+\.\d+$/);
    expect(slack.posts.at(-1)).toEqual({ path: '/api/chat.postMessage', authorization: `Bearer ${botToken}`, body: { channel: '#deploys', text: 'orders v1.4.2 is live', blocks } });
    expect(run.masks).toContain(botToken);
  });

  it('posts through a webhook input, which is masked', async () => {
    const run = await runBundledAction('slack-notify', { ...job, inputs: { text: 'tests green', 'webhook-url': slack.webhookUrl } });
    expect(run.code).toBe(0);
    expect(run.masks).toContain(slack.webhookUrl);
    expect(slack.posts.at(-1)?.path).toBe('/services/T1/B1/hooksecret');
  });

  it('turns Slack\'s channel_not_found into an annotation with a hint', async () => {
    const run = await runBundledAction('slack-notify', { ...job, inputs: { text: 'x', channel: '#gone', 'api-url': slack.apiUrl, token: botToken } });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]?.title).toBe('shipgate slack-notify: slack-notify.channel_not_found');
    expect(run.errors[0]?.message).toMatch(/^Slack chat.postMessage failed: channel_not_found\nhint: .*invite/);
  });
});

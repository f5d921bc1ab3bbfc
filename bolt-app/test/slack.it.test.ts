// The app end to end on PGlite: its HTTP server on 127.0.0.1 (the Slack receiver, a real Bolt App) gets signed requests
// shaped like Slack's payloads; a loopback stand-in for Slack's Web API records what the app sends.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ShipgateApp } from '../src/app.js';
import type { Store } from '../src/store/store.js';
import { api, approvalBody, listen, blockActions, captureLogger, memoryStore, postSlack, slashCommand, slackStandIn, startApp, users, viewSubmission, waitFor, botToken, signingSecret, apiToken, type SlackStandIn } from './helpers.js';

let slack: SlackStandIn;
let store: Store;
let app: ShipgateApp;
let offset = 0;
const logs = captureLogger();
// the operator's Jenkins (JENKINS_URL): the rollback job
let jenkins: Awaited<ReturnType<typeof listen>>;
const jenkinsCalls: string[] = [];

beforeAll(async () => {
  slack = await slackStandIn({ emails: { [users.ada]: 'Ada@Example.com' } });
  jenkins = await listen((req, res) => {
    jenkinsCalls.push(`${req.method} ${req.url}`);
    if (req.url === '/crumbIssuer/api/json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ _class: 'hudson.security.csrf.DefaultCrumbIssuer', crumb: 'c1', crumbRequestField: 'Jenkins-Crumb' }));
      return;
    }
    res.writeHead(201, { location: `${'http://127.0.0.1'}/queue/item/7/` });
    res.end();
  });
  store = await memoryStore();
  app = await startApp(slack, { store, now: () => new Date(Date.now() + offset), logger: logs.logger, env: { JENKINS_URL: jenkins.url } });
});
afterAll(async () => {
  await jenkins?.close();
  await app?.stop();
  await store?.close();
  await slack?.close();
});

async function request(over: Record<string, unknown> = {}) {
  const res = await api(app.url, 'POST', '/api/approvals', approvalBody(over));
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  const post = await waitFor(() => slack.of('chat.postMessage').find((c) => JSON.stringify(c.args.blocks).includes(id)), 'the approval message');
  return { id, post };
}

const ephemeralsTo = (user: string) => slack.of('chat.postEphemeral').filter((c) => c.args.user === user);

describe('approve', () => {
  it('posts the request to the environment channel with Approve / Reject and mentions its approvers', async () => {
    const { post } = await request();
    expect(post.args.channel).toBe('C0PROD0001');
    expect(post.token).toBe(botToken);
    const blocks = JSON.stringify(post.args.blocks);
    expect(blocks).toContain(`<@${users.ada}>`);
    expect(blocks).toContain('<!subteam^S0OPS00001>');
    const actions = post.args.blocks.find((b: any) => b.type === 'actions');
    expect(actions.elements.map((e: any) => e.action_id)).toEqual(['shipgate_approve', 'shipgate_reject']);
  });

  it('an approver clicks Approve: acked, one transition, the message updated in place with who and when, the long-poll answers', async () => {
    const { id, post } = await request();
    const ts = await waitFor(async () => (await store.approvals.get(id))?.messageTs, 'message ts');
    const poll = api(app.url, 'GET', `/api/approvals/${id}?wait=10`);
    const click = await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: id, ts }));
    expect(click.status).toBe(200);
    const decided = await poll;
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ id, state: 'approved', decidedBy: users.ada });
    expect(Date.parse(decided.body.decidedAt)).toBeGreaterThan(0);
    const update = await waitFor(() => slack.of('chat.update').find((c) => c.args.ts === ts), 'chat.update');
    expect(update.args.channel).toBe(post.args.channel);
    const text = JSON.stringify(update.args.blocks);
    expect(text).toContain(`Approved by <@${users.ada}>`);
    expect(text).toContain('<!date^');
    expect(text).not.toContain('shipgate_approve');
    const trail = await store.audit.trail(id);
    expect(trail.map((a) => `${a.action}:${a.outcome}`)).toEqual(expect.arrayContaining(['approval.requested:created', 'approval.approved:ok']));
  });

  it('a double click and a retry change nothing more: one transition, and the second clicker is told', async () => {
    const { id } = await request();
    // a double click, Slack's redelivery of the same request (X-Slack-Retry-Num), and another approver
    const clicks = await Promise.all(
      [
        [users.ada, {}],
        [users.ada, { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' }],
        [users.gus, {}],
      ].map(([u, headers]) => postSlack(app.url, blockActions({ user: u as string, actionId: 'shipgate_approve', value: id }), { headers: headers as Record<string, string> })),
    );
    expect(clicks.map((c) => c.status)).toEqual([200, 200, 200]);
    await waitFor(async () => (await store.audit.trail(id)).filter((a) => a.action === 'approval.approved').length === 3, 'three audited clicks');
    const trail = await store.audit.trail(id);
    expect(trail.filter((a) => a.action === 'approval.approved' && a.outcome === 'ok')).toHaveLength(1);
    expect(trail.filter((a) => a.action === 'approval.approved' && a.outcome === 'already-decided')).toHaveLength(2);
    const backendRows = (await store.outbox.rows()).filter((r) => r.kind === 'backend.notify' && r.subjectId === id);
    expect(backendRows).toHaveLength(1);
  });

  it('a member of an approver user group may approve (usergroups.users.list)', async () => {
    const { id } = await request();
    await postSlack(app.url, blockActions({ user: users.gus, actionId: 'shipgate_approve', value: id }));
    await waitFor(async () => (await store.approvals.get(id))?.state === 'approved', 'approved by the group member');
    expect(slack.of('usergroups.users.list').some((c) => c.args.usergroup === 'S0OPS00001')).toBe(true);
    expect((await store.approvals.get(id))?.decidedBy).toBe(users.gus);
  });
});

describe('Slack having a bad minute', () => {
  it('the approval message is posted once Slack answers again, and a decision taken meanwhile updates it', async () => {
    slack.outage.postMessage = 5;
    const res = await api(app.url, 'POST', '/api/approvals', approvalBody({ version: 'v5.5.5-outage' }));
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    // Slack is still failing: the approver clicks a message from the channel (a retried post may already show)
    await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: id }));
    await waitFor(async () => (await store.approvals.get(id))?.state === 'approved', 'the decision');
    const ts = await waitFor(async () => (await store.approvals.get(id))?.messageTs, 'the message, once Slack answers', 20_000);
    expect(slack.outage.postMessage).toBe(0);
    const posted = slack.of('chat.postMessage').filter((c) => String(c.args.text).includes('v5.5.5-outage'));
    expect(posted).toHaveLength(6); // 5 refused (the Web API client's own retries, then the outbox's), then the one that went through
    // the message shows the decision, whether it was posted after it or updated in place
    await waitFor(() => [...posted.slice(-1), ...slack.of('chat.update').filter((c) => c.args.ts === ts)].some((c) => JSON.stringify(c.args.blocks).includes(`Approved by <@${users.ada}>`)), 'the decided message', 20_000);
  });
});

describe('refused, and nothing changed', () => {
  it('someone who is not an approver gets an ephemeral "not allowed"; the attempt is audited', async () => {
    const { id } = await request();
    const before = slack.of('chat.update').length;
    const click = await postSlack(app.url, blockActions({ user: users.eve, actionId: 'shipgate_approve', value: id }));
    expect(click.status).toBe(200);
    const eph = await waitFor(() => ephemeralsTo(users.eve).find((c) => c.args.text.includes('not one of its approvers')), 'the ephemeral');
    expect(eph.args.channel).toBe('C0PROD0001');
    expect((await store.approvals.get(id))?.state).toBe('pending');
    expect((await store.audit.trail(id)).find((a) => a.action === 'access.denied')).toMatchObject({ actor: users.eve, outcome: 'not-an-approver' });
    expect(slack.of('chat.update').length).toBe(before);
  });

  it('the requester cannot approve their own production deploy (self-approve: false), but may reject it', async () => {
    const { id } = await request({ requester: users.ada });
    await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: id }));
    await waitFor(() => ephemeralsTo(users.ada).find((c) => c.args.text.includes('needs someone else')), 'the self-approval refusal');
    expect((await store.approvals.get(id))?.state).toBe('pending');
    expect((await store.audit.trail(id)).find((a) => a.action === 'access.denied')?.outcome).toBe('self-approval');
  });

  it('a requester given by e-mail is recognised (users.lookupByEmail) and cannot approve either', async () => {
    const { id } = await request({ requester: 'ada@example.com' });
    const before = ephemeralsTo(users.ada).length;
    await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: id }));
    await waitFor(() => ephemeralsTo(users.ada).length > before, 'the refusal');
    expect(ephemeralsTo(users.ada).at(-1)!.args.text).toContain('needs someone else');
    expect(slack.of('users.lookupByEmail').some((c) => c.args.email === 'ada@example.com')).toBe(true);
    expect((await store.approvals.get(id))?.state).toBe('pending');
  });

  it('a bad signature is rejected with 401', async () => {
    const { id } = await request();
    const res = await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: id }), { secret: 'not-the-secret' });
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 100));
    expect((await store.approvals.get(id))?.state).toBe('pending');
  });

  it('a stale timestamp (older than 5 minutes) is rejected with 401, even correctly signed', async () => {
    const { id } = await request();
    const res = await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: id }), { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 100));
    expect((await store.approvals.get(id))?.state).toBe('pending');
  });

  it('a malformed payload is rejected (400), and a well-formed one naming no approval changes nothing', async () => {
    const { id } = await request();
    const bad = await postSlack(app.url, { payload: '{"type":"block_actions",' });
    expect(bad.status).toBe(400);
    const unknown = await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: 'apr_nope' }));
    expect(unknown.status).toBe(200);
    await waitFor(() => ephemeralsTo(users.ada).find((c) => c.args.text.includes('not known')), 'the unknown-approval reply');
    expect((await store.approvals.get(id))?.state).toBe('pending');
  });

  it('an expired approval: the sweep says so in Slack, tells the backend no, and a late click changes nothing', async () => {
    const { id } = await request({ expiresInSeconds: 60 });
    const ts = await waitFor(async () => (await store.approvals.get(id))?.messageTs, 'message ts');
    offset += 61_000;
    try {
      const late = await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: id }));
      expect(late.status).toBe(200);
      await waitFor(() => ephemeralsTo(users.ada).find((c) => c.args.text.includes('expired')), 'the expired reply');
      expect((await store.approvals.get(id))?.state).toBe('pending');
      const expired = await app.sweep();
      expect(expired.map((a) => a.id)).toContain(id);
      expect((await store.approvals.get(id))?.state).toBe('expired');
      const update = await waitFor(() => slack.of('chat.update').find((c) => c.args.ts === ts && JSON.stringify(c.args.blocks).includes('Expired')), 'the expired message');
      expect(JSON.stringify(update.args.blocks)).not.toContain('shipgate_approve');
      expect((await api(app.url, 'GET', `/api/approvals/${id}`)).body.state).toBe('expired');
      const again = await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: id }));
      expect(again.status).toBe(200);
      await waitFor(async () => (await store.audit.trail(id)).filter((a) => a.outcome === 'expired').length === 2, 'both late clicks audited');
      expect((await store.approvals.get(id))?.state).toBe('expired');
    } finally {
      offset = 0;
    }
  });
});

describe('reject', () => {
  it('asks for a reason in a modal (views.open), then records it from the view_submission', async () => {
    const { id } = await request();
    const click = await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_reject', value: id }));
    expect(click.status).toBe(200);
    const open = await waitFor(() => slack.of('views.open').find((c) => c.args.view.private_metadata === id), 'views.open');
    expect(open.args.trigger_id).toBe('1234567890.123456789.abcdef0123456789');
    expect(open.args.view.callback_id).toBe('shipgate_reject_reason');
    expect((await store.approvals.get(id))?.state).toBe('pending');

    const empty = await postSlack(app.url, viewSubmission({ user: users.ada, approvalId: id, reason: '  ' }));
    expect(empty.status).toBe(200);
    expect(JSON.parse(empty.text)).toEqual({ response_action: 'errors', errors: { reason: expect.any(String) } });
    expect((await store.approvals.get(id))?.state).toBe('pending');

    const submit = await postSlack(app.url, viewSubmission({ user: users.ada, approvalId: id, reason: 'migrations not reviewed' }));
    expect(submit.status).toBe(200);
    const decided = await api(app.url, 'GET', `/api/approvals/${id}?wait=5`);
    expect(decided.body).toMatchObject({ state: 'rejected', decidedBy: users.ada, reason: 'migrations not reviewed' });
    await waitFor(() => slack.of('chat.update').find((c) => JSON.stringify(c.args.blocks).includes('migrations not reviewed')), 'the rejected message');
  });

  it('a non-approver never gets the modal', async () => {
    const { id } = await request();
    const opens = slack.of('views.open').length;
    await postSlack(app.url, blockActions({ user: users.eve, actionId: 'shipgate_reject', value: id }));
    await waitFor(() => ephemeralsTo(users.eve).filter((c) => c.args.text.includes('cannot reject')).length > 0, 'the refusal');
    expect(slack.of('views.open').length).toBe(opens);
    // and a forged submission from them changes nothing
    await postSlack(app.url, viewSubmission({ user: users.eve, approvalId: id, reason: 'nope' }));
    await waitFor(async () => (await store.audit.trail(id)).filter((a) => a.action === 'access.denied').length === 2, 'both audited');
    expect((await store.approvals.get(id))?.state).toBe('pending');
  });
});

describe('API', () => {
  it('answers 401 without the bearer token, and counts it', async () => {
    expect((await api(app.url, 'POST', '/api/approvals', approvalBody(), null)).status).toBe(401);
    const wrong = await api(app.url, 'POST', '/api/approvals', approvalBody(), 'wrong');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('api.unauthorized');
    expect(await (await fetch(`${app.url}/metrics`)).text()).toMatch(/shipgate_api_refusals_total\{reason="unauthorized"\} [2-9]/);
  });

  it('names the field that is wrong', async () => {
    const res = await api(app.url, 'POST', '/api/approvals', approvalBody({ backend: { kind: 'jenkins', buildUrl: 'not a url', inputId: 'x' } }));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/^backend\.buildUrl: /);
    const env = await api(app.url, 'POST', '/api/approvals', approvalBody({ environment: 'qa' }));
    expect(env.body.error).toMatchObject({ code: 'api.unknown-environment', hint: 'configured: prod, staging' });
    expect((await api(app.url, 'POST', '/api/approvals', '{oops')).body.error.code).toBe('api.bad-json');
    expect((await api(app.url, 'GET', '/api/approvals/apr_missing')).status).toBe(404);
  });

  it('the same idempotencyKey returns the same approval with 200', async () => {
    const key = `run-42-${Date.now()}`;
    const first = await api(app.url, 'POST', '/api/approvals', approvalBody({ idempotencyKey: key }));
    const second = await api(app.url, 'POST', '/api/approvals', approvalBody({ idempotencyKey: key }));
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
  });

  it('GET with wait returns when the time is up, still pending', async () => {
    const { id } = await request();
    const started = Date.now();
    const res = await api(app.url, 'GET', `/api/approvals/${id}?wait=1`);
    expect(res.body.state).toBe('pending');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});

describe('deployments, rollback and status', () => {
  it('posts a deployment with a Rollback button whose confirm dialog names the version it goes back to, and rolls back once', async () => {
    {
      const rollback = { kind: 'jenkins', jobUrl: `${jenkins.url}/job/orders-rollback/` };
      const old = await api(app.url, 'POST', '/api/deployments', { service: 'billing', environment: 'prod', version: 'v2.0.0', outcome: 'succeeded', deployer: users.bob, rollback });
      expect(old.status).toBe(201);
      const cur = await api(app.url, 'POST', '/api/deployments', { service: 'billing', environment: 'prod', version: 'v2.1.0', outcome: 'succeeded', deployer: users.bob, rollback });
      const post = await waitFor(() => slack.of('chat.postMessage').find((c) => JSON.stringify(c.args.blocks ?? []).includes(`${cur.body.id}>`)), 'the deployment message');
      const button = post.args.blocks.find((b: any) => b.type === 'actions').elements[0];
      expect(button.action_id).toBe('shipgate_rollback');
      expect(button.confirm.text.text).toContain('`v2.0.0`');
      expect(button.confirm.text.text).toContain('`v2.1.0`');

      // not an approver: refused
      await postSlack(app.url, blockActions({ user: users.eve, actionId: 'shipgate_rollback', value: button.value }));
      await waitFor(() => ephemeralsTo(users.eve).find((c) => c.args.text.includes('cannot roll back')), 'the refusal');
      // two approvers click at once: one rollback
      await Promise.all([users.ada, users.gus].map((u) => postSlack(app.url, blockActions({ user: u, actionId: 'shipgate_rollback', value: button.value }))));
      await waitFor(async () => (await store.deployments.get(cur.body.id))?.rollbackState === 'succeeded', 'the rollback');
      const job = jenkinsCalls.filter((c) => c.startsWith('POST /job/orders-rollback/buildWithParameters'));
      expect(job).toHaveLength(1);
      const ts = (await store.deployments.get(cur.body.id))?.messageTs;
      const thread = await waitFor(() => slack.of('chat.postMessage').find((c) => c.args.thread_ts === ts && String(c.args.text).includes('Rolled back')), 'the thread reply');
      expect(thread.args.text).toContain('v2.0.0');
      // (an approver of prod: /shipgate status shows an environment to its approvers and channel members)
      const status = await postSlack(app.url, slashCommand({ user: users.ada, text: 'status billing', responseUrl: `${slack.url}/response/1` }));
      expect(status.status).toBe(200);
      const reply = await waitFor(() => slack.responses.find((r) => r.path === '/response/1'), 'the status reply');
      expect(reply.body.response_type).toBe('ephemeral');
      expect(JSON.stringify(reply.body.blocks)).toContain('*prod*: `v2.0.0`');
    }
  });
});

describe('the run report on the deployment message', () => {
  it('an http(s) reportUrl is linked as Report; any other scheme is a 400 that names the field', async () => {
    const bad = await api(app.url, 'POST', '/api/deployments', { service: 'reports', environment: 'prod', version: 'v1', outcome: 'succeeded', reportUrl: 'javascript:alert(1)' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toBe('reportUrl: an http(s) URL without spaces, "<", ">" or "|"');
    const ok = await api(app.url, 'POST', '/api/deployments', { service: 'reports', environment: 'prod', version: 'v2', outcome: 'succeeded', reportUrl: 'https://ci.example.com/orders/runs/42?tab=report&x=y' });
    expect(ok.status).toBe(201);
    const post = await waitFor(() => slack.of('chat.postMessage').find((c) => String(c.args.text).includes('reports v2 in prod')), 'the deployment message');
    const fields = JSON.stringify(post.args.blocks);
    expect(fields).toContain('*Report*\\n<https://ci.example.com/orders/runs/42?tab=report&amp;x=y|run report>');
  });
});

describe('the approval step of @shipgate/slack against this app (the API contract)', () => {
  it('asks, waits, and succeeds once an approver clicks; a rejection fails it with the reason', async () => {
    const { createApprovalStep } = await import('@shipgate/slack');
    const { runStepInProcess } = await import('@shipgate/core');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'sg-bolt-step-'));
    const step = createApprovalStep({ retryBaseDelayMs: 10 });
    const inputs = (version: string) => ({ service: 'contract', environment: 'prod', version, requester: users.bob, url: app.url, token: apiToken, 'poll-seconds': 2 });
    const decideWhenPosted = async (version: string, decide: (id: string) => Promise<unknown>) => {
      const post = await waitFor(() => slack.of('chat.postMessage').find((c) => JSON.stringify(c.args.blocks ?? []).includes(`\`${version}\``)), 'the message');
      await decide(post.args.blocks.find((b: any) => b.type === 'actions').elements[0].value);
    };
    try {
      const [approved] = await Promise.all([
        runStepInProcess(step, inputs('v7.0.0'), { cwd, env: {} }),
        decideWhenPosted('v7.0.0', (id) => postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: id }))),
      ]);
      expect(approved.status).toBe('success');
      expect(approved.outputs).toMatchObject({ 'decided-by': users.ada, 'approval-id': expect.stringMatching(/^apr_/) });

      const [rejected] = await Promise.all([
        runStepInProcess(step, inputs('v7.0.1'), { cwd, env: {} }),
        decideWhenPosted('v7.0.1', (id) => postSlack(app.url, viewSubmission({ user: users.ada, approvalId: id, reason: 'error budget spent' }))),
      ]);
      expect(rejected.status).not.toBe('success');
      expect(JSON.stringify(rejected.error)).toContain('error budget spent');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe('operations', () => {
  it('/healthz and /metrics', async () => {
    const health = await fetch(`${app.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, store: 'pglite', mode: 'http' });
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/shipgate_approvals_total\{outcome="approved",environment="prod"\} [1-9]/);
    expect(metrics).toMatch(/shipgate_outbox_depth \d+/);
    expect(metrics).toContain('shipgate_approval_time_to_decision_seconds_bucket');
  });

  it('never logs a secret', () => {
    const all = logs.lines.join('\n');
    expect(logs.lines.length).toBeGreaterThan(5);
    for (const secret of [botToken, signingSecret, apiToken]) expect(all).not.toContain(secret);
  });
});

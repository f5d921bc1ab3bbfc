// The attacks that once got through (as an outsider on 127.0.0.1, and as a careless pipeline), each
// replayed against the whole app: its HTTP server, the real Bolt receiver fed signed requests, and
// loopback stand-ins for Slack's Web API, Jenkins, GitHub and a stranger's listener that must
// never see a credential.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { ShipgateApp } from '../src/app.js';
import type { Store } from '../src/store/store.js';
import { api, apiToken, approvalBody, blockActions, captureLogger, listen, memoryStore, postSlack, slackStandIn, slashCommand, startApp, users, waitFor, type SlackStandIn } from './helpers.js';

let slack: SlackStandIn;
let store: Store;
let app: ShipgateApp;
let jenkins: Awaited<ReturnType<typeof listen>>;
let stranger: Awaited<ReturnType<typeof listen>>;
const jenkinsSeen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
const strangerSeen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
const logs = captureLogger();
const jenkinsToken = 'jenkins-token-attack-77';
const githubToken = 'ghp_attack_token_88';

beforeAll(async () => {
  slack = await slackStandIn({ emails: { [users.ada]: 'Ada@Example.com', [users.bob]: 'bob@example.com' }, members: { C0STAG0001: [users.eve] } });
  // the operator's Jenkins: CSRF off (404 crumb), answers every input
  jenkins = await listen((req, res) => {
    jenkinsSeen.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(req.url?.endsWith('/crumbIssuer/api/json') ? 404 : 200).end();
  });
  // anyone else's server: whatever reaches it was sent to the wrong place
  stranger = await listen((req, res) => {
    strangerSeen.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(req.url?.endsWith('/crumbIssuer/api/json') ? 404 : 200).end();
  });
  store = await memoryStore();
  app = await startApp(slack, {
    store,
    logger: logs.logger,
    env: { JENKINS_USER: 'robot', JENKINS_API_TOKEN: jenkinsToken, JENKINS_URL: `${jenkins.url}/`, GITHUB_TOKEN: githubToken, GITHUB_API_URL: `${jenkins.url}/github/api/v3`, SHIPGATE_REGISTRY_USERNAME: 'robot', SHIPGATE_REGISTRY_PASSWORD: 'registry-secret-99', SHIPGATE_REGISTRY_HOSTS: 'registry.example.com' },
    rateLimit: { perSecond: 1000, burst: 5000 },
  });
});
afterAll(async () => {
  await app?.stop();
  await store?.close();
  await slack?.close();
  await jenkins?.close();
  await stranger?.close();
});

const ephemeralsTo = (user: string) => slack.of('chat.postEphemeral').filter((c) => c.args.user === user);
const jenkinsBackend = (buildUrl = `${jenkins.url}/job/orders/1/`, inputId = 'ShipgateApproval') => ({ kind: 'jenkins', buildUrl, inputId });

describe('1. credentials go only to the origins the operator configured', () => {
  it('refuses a Jenkins build URL or rollback job elsewhere than JENKINS_URL with 400, and the stranger never sees basic auth', async () => {
    const asked = await api(app.url, 'POST', '/api/approvals', approvalBody({ backend: jenkinsBackend(`${stranger.url}/job/x/1/`) }));
    expect(asked.status).toBe(400);
    expect(asked.body.error).toMatchObject({ code: 'api.untrusted-url', message: expect.stringMatching(/^backend\.buildUrl: .*JENKINS_URL/) });
    const deployed = await api(app.url, 'POST', '/api/deployments', { service: 'orders', environment: 'prod', version: 'v1', outcome: 'succeeded', rollback: { kind: 'jenkins', jobUrl: `${stranger.url}/job/rollback/` } });
    expect(deployed.status).toBe(400);
    expect(deployed.body.error).toMatchObject({ code: 'api.untrusted-url', message: expect.stringMatching(/^rollback\.jobUrl: /) });
    // a look-alike: the trusted origin as a user-info prefix of another host
    const lookalike = await api(app.url, 'POST', '/api/approvals', approvalBody({ backend: jenkinsBackend(`${jenkins.url}@127.0.0.2/job/x/1/`) }));
    expect(lookalike.status).toBe(400);

    // a row that got in before the rule (an older version): the backend still refuses to send credentials
    const { approval } = await store.approvals.create({ ...approvalBody({ environment: 'staging', requester: undefined }), expiresInSeconds: 600, backend: { kind: 'jenkins', buildUrl: `${stranger.url}/job/x/2/`, inputId: 'ShipgateApproval' } } as never, { channel: 'C0STAG0001', now: new Date() });
    await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: approval.id, channel: 'C0STAG0001' }));
    await waitFor(async () => (await store.audit.trail(approval.id)).some((e) => e.action === 'backend.called'), 'the refused backend call');
    expect(strangerSeen.filter((s) => s.headers.authorization)).toEqual([]);
    expect(strangerSeen).toEqual([]);
    // the operator's own Jenkins still gets its credentials
    const ok = await api(app.url, 'POST', '/api/approvals', approvalBody({ environment: 'staging', backend: jenkinsBackend(`${jenkins.url}/job/orders/3/`) }));
    expect(ok.status).toBe(201);
    await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: ok.body.id, channel: 'C0STAG0001' }));
    const told = await waitFor(() => jenkinsSeen.find((s) => s.url === '/job/orders/3/input/ShipgateApproval/proceedEmpty'), 'the trusted Jenkins call');
    expect(told.headers.authorization).toBe(`Basic ${Buffer.from(`robot:${jenkinsToken}`).toString('base64')}`);
  });

  it('refuses GitHub repositories that walk out of the API path, and registries outside SHIPGATE_REGISTRY_HOSTS when a registry password is set', async () => {
    const github = await api(app.url, 'POST', '/api/approvals', approvalBody({ backend: { kind: 'github', repository: 'octo/..', runId: 1, environmentIds: [1] } }));
    expect(github.status).toBe(400);
    const registry = await api(app.url, 'POST', '/api/deployments', { service: 'orders', environment: 'prod', version: 'v1', outcome: 'succeeded', rollback: { kind: 'image', repository: `127.0.0.1:${new URL(stranger.url).port}/orders`, environment: 'prod' } });
    expect(registry.status).toBe(400);
    expect(registry.body.error).toMatchObject({ code: 'api.untrusted-url', message: expect.stringContaining('SHIPGATE_REGISTRY_HOSTS') });
    const listed = await api(app.url, 'POST', '/api/deployments', { service: 'orders', environment: 'prod', version: 'v1', outcome: 'succeeded', rollback: { kind: 'image', repository: 'registry.example.com/orders', environment: 'prod' } });
    expect(listed.status).toBe(201);
  });
});

const injection = 'x <!channel> <https://evil.example|y> &';
const unescaped = (value: unknown) => JSON.stringify(value).includes('<!channel>') || JSON.stringify(value).includes('<https://evil.example');

describe('2. nothing a pipeline sends can mention or link in Slack', () => {
  const approvalFields: Array<[string, (v: string) => Record<string, unknown>]> = [
    ['service', (v) => ({ service: v })],
    ['version', (v) => ({ version: v })],
    ['digest', (v) => ({ digest: v })],
    ['summary', (v) => ({ summary: v })],
    ['requester', (v) => ({ requester: v })],
    ['backend.inputId', (v) => ({ environment: 'staging', backend: jenkinsBackend(undefined, v) })],
  ];
  it.each(approvalFields)('approval %s: the message, its update, its thread and every reply stay text', async (_field, over) => {
    const since = slack.calls.length;
    const res = await api(app.url, 'POST', '/api/approvals', approvalBody({ idempotencyKey: undefined, ...over(injection) }));
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    const channel = (await store.approvals.get(id))!.channel!;
    await waitFor(async () => (await store.approvals.get(id))?.messageTs, 'the approval message');
    await postSlack(app.url, blockActions({ user: users.eve, actionId: 'shipgate_approve', value: id, channel }));
    await waitFor(() => ephemeralsTo(users.eve).length > 0 && slack.calls.slice(since).some((c) => c.method === 'chat.postEphemeral'), 'the refusal');
    await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: id, channel }));
    await waitFor(async () => (await store.outbox.depth()) === 0 && (await store.approvals.get(id))?.state !== 'pending', 'the decision told everywhere');
    const sent = slack.calls.slice(since).filter((c) => c.method.startsWith('chat.'));
    expect(sent.length).toBeGreaterThanOrEqual(3);
    for (const call of sent) expect([call.method, unescaped(call.args)]).toEqual([call.method, false]);
  });

  const deploymentFields: Array<[string, (v: string) => Record<string, unknown>]> = [
    ['service', (v) => ({ service: v })],
    ['version', (v) => ({ version: v })],
    ['digest', (v) => ({ digest: v })],
    ['image', (v) => ({ image: v })],
    ['deployer', (v) => ({ deployer: v })],
    ['reason', (v) => ({ reason: v })],
  ];
  it.each(deploymentFields)('deployment %s: the message stays text', async (_field, over) => {
    const since = slack.calls.length;
    const res = await api(app.url, 'POST', '/api/deployments', { service: 'shop', environment: 'prod', version: 'v1', outcome: 'succeeded', ...over(injection) });
    expect(res.status).toBe(201);
    await waitFor(async () => (await store.deployments.get(res.body.id))?.messageTs, 'the deployment message');
    const sent = slack.calls.slice(since).filter((c) => c.method.startsWith('chat.'));
    for (const call of sent) expect([call.method, unescaped(call.args)]).toEqual([call.method, false]);
  });

  it.each([
    'https://ci.example.com/x|click me> <!channel> <https://evil.example',
    'https://ci.example.com/x>y',
    'javascript:alert(1)',
    'ftp://ci.example.com/x',
    'https://ci.example.com/a b',
  ])('a deployment url %j is refused with 400', async (url) => {
    const res = await api(app.url, 'POST', '/api/deployments', { service: 'shop', environment: 'prod', version: 'v1', outcome: 'succeeded', url });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/^url: /);
  });

  it('/shipgate status of a service named like a mention answers in plain text', async () => {
    await postSlack(app.url, slashCommand({ user: users.ada, text: 'status <!channel>', responseUrl: `${slack.url}/response/inj` }));
    const reply = await waitFor(() => slack.responses.find((r) => r.path === '/response/inj'), 'the status reply');
    expect(unescaped(reply.body)).toBe(false);
  });
});

describe('3. self-approval', () => {
  it.each(['u0ada00001', '@U0ADA00001', '<@U0ADA00001>', '<@u0ada00001|ada>', ' @u0ada00001 '])('the requester written %j cannot approve', async (requester) => {
    const res = await api(app.url, 'POST', '/api/approvals', approvalBody({ requester }));
    expect(res.status).toBe(201);
    const before = ephemeralsTo(users.ada).length;
    await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: res.body.id }));
    await waitFor(() => ephemeralsTo(users.ada).length > before, 'the refusal');
    expect(ephemeralsTo(users.ada).at(-1)!.args.text).toContain('needs someone else');
    expect((await store.approvals.get(res.body.id))?.state).toBe('pending');
  });

  it('a requester e-mail is resolved with users.lookupByEmail, so a failing users.info does not let them through', async () => {
    slack.failing.add('users.info');
    try {
      const res = await api(app.url, 'POST', '/api/approvals', approvalBody({ requester: 'ADA@example.com' }));
      const before = ephemeralsTo(users.ada).length;
      await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: res.body.id }));
      await waitFor(() => ephemeralsTo(users.ada).length > before, 'the refusal');
      expect(ephemeralsTo(users.ada).at(-1)!.args.text).toContain('needs someone else');
      expect(slack.of('users.lookupByEmail').some((c) => c.args.email === 'ada@example.com')).toBe(true);
      expect((await store.approvals.get(res.body.id))?.state).toBe('pending');
    } finally {
      slack.failing.delete('users.info');
    }
  });

  it('a requester Slack cannot resolve fails closed: only an approver Slack shows to be someone else may approve', async () => {
    slack.failing.add('users.lookupByEmail');
    slack.failing.add('users.info');
    try {
      const res = await api(app.url, 'POST', '/api/approvals', approvalBody({ requester: 'someone@example.com' }));
      const id = res.body.id as string;
      const before = ephemeralsTo(users.ada).length;
      await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: id }));
      await waitFor(() => ephemeralsTo(users.ada).length > before, 'the refusal');
      expect(ephemeralsTo(users.ada).at(-1)!.args.text).toContain('could not tell');
      expect((await store.audit.trail(id)).find((e) => e.action === 'access.denied')?.outcome).toBe('requester-unresolved');
      expect((await store.approvals.get(id))?.state).toBe('pending');
      // Slack answers again: ada's own address is known and is not the requester's
      slack.failing.delete('users.info');
      await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: id }));
      await waitFor(async () => (await store.approvals.get(id))?.state === 'approved', 'the approval by someone certainly else');
    } finally {
      slack.failing.delete('users.lookupByEmail');
      slack.failing.delete('users.info');
    }
  });
});

describe('4. the disk cannot be filled from outside', () => {
  it('unauthenticated requests are counted and logged at a bounded rate, never one audit row each', async () => {
    const unauthorizedRows = async () => (await store.audit.trail()).filter((e) => e.action.startsWith('api.')).length;
    const rowsBefore = await unauthorizedRows();
    const linesBefore = logs.lines.length;
    const path = `/api/${randomBytes(7 * 1024).toString('hex')}`;
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(Array.from({ length: 30 }, () => fetch(`${app.url}${path}`).then((r) => r.text())));
    }
    expect(await unauthorizedRows()).toBe(rowsBefore);
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(Number(/shipgate_api_refusals_total\{reason="unauthorized"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(300);
    const refusalLines = logs.lines.slice(linesBefore).filter((l) => l.includes('unauthorized'));
    expect(refusalLines.length).toBeGreaterThanOrEqual(1);
    expect(refusalLines.length).toBeLessThanOrEqual(2);
    expect(refusalLines.join('\n').length).toBeLessThan(4000);
  });

  it('long strings in audit details are cut', async () => {
    await store.audit.record({ action: 'test.long', outcome: 'ok', detail: { path: 'p'.repeat(14_000), nested: { note: 'n'.repeat(5000) } } });
    const row = (await store.audit.trail()).find((e) => e.action === 'test.long')!;
    expect(JSON.stringify(row.detail).length).toBeLessThan(1200);
    expect(String(row.detail.path)).toMatch(/^p+… \(14000 characters\)$/);
  });

  it('a client over its rate gets 429 with Retry-After, and its requests pass again after that', async () => {
    const limited = await startApp(slack, { store, rateLimit: { perSecond: 2, burst: 3 } });
    try {
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await fetch(`${limited.url}/api/approvals/apr_none`, { headers: { authorization: `Bearer ${apiToken}` } }));
      expect(answers.map((r) => r.status)).toEqual([404, 404, 404, 429, 429]);
      const refused = answers[3]!;
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await refused.json()).toMatchObject({ error: { code: 'api.rate-limited' } });
      await new Promise((r) => setTimeout(r, Number(refused.headers.get('retry-after')) * 1000));
      expect((await fetch(`${limited.url}/api/approvals/apr_none`, { headers: { authorization: `Bearer ${apiToken}` } })).status).toBe(404);
    } finally {
      await limited.stop();
    }
  });
});

describe('6. an idempotency key is bound to its request', () => {
  it('the same key with another request is 409 naming what differs; with the same request, 200', async () => {
    const key = `orders-run-${Date.now()}`;
    const first = await api(app.url, 'POST', '/api/approvals', approvalBody({ environment: 'staging', version: 'v0.1', idempotencyKey: key }));
    expect(first.status).toBe(201);
    expect((await api(app.url, 'POST', '/api/approvals', approvalBody({ environment: 'staging', version: 'v0.1', idempotencyKey: key }))).status).toBe(200);
    const other = await api(app.url, 'POST', '/api/approvals', approvalBody({ environment: 'prod', version: 'v9.9.9', idempotencyKey: key }));
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ code: 'api.idempotency-conflict', message: expect.stringContaining('environment, version') });
    expect(other.body.id).toBeUndefined();
  });
});

describe('7. odd input', () => {
  it.each([
    ['a NUL byte', '{"service":"orders\\u0000","environment":"prod","version":"v1","backend":{"kind":"shipgate"}}'],
    ['a lone surrogate', '{"service":"orders","environment":"prod","version":"v1\\ud800","backend":{"kind":"shipgate"}}'],
    ['a lone surrogate in a key', '{"service":"orders","environment":"prod","version":"v1","backend":{"kind":"shipgate"},"\\udc00":1}'],
  ])('%s is 400, not 500', async (_what, text) => {
    const res = await api(app.url, 'POST', '/api/approvals', text);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('api.invalid');
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('environment %j is not in the config: 400', async (environment) => {
    const res = await api(app.url, 'POST', '/api/approvals', JSON.stringify({ ...approvalBody(), environment }));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('api.unknown-environment');
  });

  it('a click on an approval for "constructor" is refused, and the app carries on', async () => {
    const { approval } = await store.approvals.create({ ...approvalBody(), environment: 'constructor', expiresInSeconds: 600 } as never, { channel: 'C0PROD0001', now: new Date() });
    const before = ephemeralsTo(users.ada).length;
    await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: approval.id }));
    await waitFor(() => ephemeralsTo(users.ada).length > before, 'the refusal');
    expect(ephemeralsTo(users.ada).at(-1)!.args.text).toContain('not in the Slack app’s config');
    expect((await store.approvals.get(approval.id))?.state).toBe('pending');
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  });

  it('/shipgate status shows an environment only to its channel members and approvers', async () => {
    await api(app.url, 'POST', '/api/approvals', approvalBody({ service: 'secret-svc', environment: 'prod', version: 'v-prod' }));
    await api(app.url, 'POST', '/api/approvals', approvalBody({ service: 'secret-svc', environment: 'staging', version: 'v-staging' }));
    const ask = async (user: string, n: string) => {
      await postSlack(app.url, slashCommand({ user, text: 'status secret-svc', responseUrl: `${slack.url}/response/status-${n}` }));
      return JSON.stringify((await waitFor(() => slack.responses.find((r) => r.path === `/response/status-${n}`), 'the status reply')).body);
    };
    const eve = await ask(users.eve, 'eve');
    expect(eve).toContain('v-staging');
    expect(eve).not.toContain('v-prod');
    expect(eve).toContain('1 environment is not shown');
    const gus = await ask(users.gus, 'gus');
    expect(gus).toContain('v-prod');
    expect(gus).not.toContain('v-staging');
    const ada = await ask(users.ada, 'ada');
    expect(ada).toContain('v-prod');
    expect(ada).toContain('v-staging');
  });

  it('only application/json bodies, and only the exact bearer token', async () => {
    const patch = await fetch(`${app.url}/api/approvals`, { method: 'POST', headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json-patch+json' }, body: JSON.stringify(approvalBody()) });
    expect(patch.status).toBe(415);
    const charset = await fetch(`${app.url}/api/approvals`, { method: 'POST', headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(approvalBody()) });
    expect(charset.status).toBe(201);
    // raw bytes: fetch would trim the header value before it leaves. (HTTP itself drops spaces and
    // tabs at the end of a header value; a no-break space is part of it, and String.trim() ate it)
    const statusWith = (authorization: string) =>
      new Promise<number>((resolve, reject) => {
        const { port } = new URL(app.url);
        const socket = connect(Number(port), '127.0.0.1', () => socket.end(`GET /api/approvals/apr_none HTTP/1.1\r\nhost: x\r\nauthorization: ${authorization}\r\nconnection: close\r\n\r\n`, 'latin1'));
        let text = '';
        socket.on('data', (c: Buffer) => (text += c.toString()));
        socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1])));
        socket.on('error', reject);
      });
    expect(await statusWith(`Bearer ${apiToken}`)).toBe(404);
    for (const authorization of [`Bearer ${apiToken}\u00a0`, `Bearer ${apiToken}\u00a0\u00a0`, `Bearer  ${apiToken}`, `Bearer ${apiToken} x`, `bearer ${apiToken}`]) {
      expect([JSON.stringify(authorization), await statusWith(authorization)]).toEqual([JSON.stringify(authorization), 401]);
    }
  });

  it('says where it listens', () => {
    const line = logs.lines.map((l) => JSON.parse(l) as { msg: string; url?: string }).find((l) => l.msg.startsWith('listening on '));
    expect(line?.msg).toBe(`listening on ${app.url}`);
  });
});

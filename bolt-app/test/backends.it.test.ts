// The backends against stand-ins that speak their wire formats: Jenkins (crumb issuer, session
// cookie, basic auth, input proceed / abort, buildWithParameters) and GitHub's REST API as loopback
// HTTP servers; CodePipeline through the real AWS SDK client with aws-sdk-client-mock. And a
// decision travelling through the whole app to GitHub.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { CodePipelineClient, GetPipelineStateCommand, PutApprovalResultCommand } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import type { Approval, Deployment } from '../src/approvals/model.js';
import { codePipelineDecisionBackend } from '../src/backends/codepipeline.js';
import { githubDecisionBackend } from '../src/backends/github.js';
import { jenkinsDecisionBackend, jenkinsRollbackBackend, jenkinsRoot } from '../src/backends/jenkins.js';
import { BackendError } from '../src/backends/types.js';
import { api, approvalBody, blockActions, listen, memoryStore, postSlack, slackStandIn, startApp, users, waitFor } from './helpers.js';

const approval = { id: 'apr_x', service: 'orders', environment: 'prod', version: 'v1' } as Approval;
const notice = (verdict: 'approved' | 'rejected') => ({ verdict, comment: `${verdict} in Slack by U0ADA00001 (shipgate)`, signal: AbortSignal.timeout(5000) });

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('Jenkins', () => {
  const seen: Seen[] = [];
  let jenkins: Awaited<ReturnType<typeof listen>>;
  let inputStatus = 200;
  beforeAll(async () => {
    jenkins = await listen((req, res, body) => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (req.url === '/ci/crumbIssuer/api/json') {
        res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'JSESSIONID.x=s1; Path=/ci; HttpOnly' });
        res.end(JSON.stringify({ _class: 'hudson.security.csrf.DefaultCrumbIssuer', crumb: 'abc123', crumbRequestField: 'Jenkins-Crumb' }));
        return;
      }
      const ok = req.headers['jenkins-crumb'] === 'abc123' && req.headers.cookie === 'JSESSIONID.x=s1' && req.headers.authorization === `Basic ${Buffer.from('robot:tok-123456').toString('base64')}`;
      if (!ok) return void res.writeHead(403).end();
      if (req.url?.endsWith('/buildWithParameters')) return void res.writeHead(201, { location: `${jenkins.url}/ci/queue/item/42/` }).end();
      res.writeHead(inputStatus === 302 ? 302 : inputStatus, inputStatus === 302 ? { location: '/ci/job/orders/7/' } : {});
      res.end();
    });
  });
  afterAll(() => jenkins.close());
  afterEach(() => {
    seen.length = 0;
    inputStatus = 200;
  });

  it.each([
    ['https://ci.example.com/job/orders/7/', 'https://ci.example.com', 'https://ci.example.com/'],
    ['https://ci.example.com/jenkins/job/team/job/orders/7/', 'https://ci.example.com/jenkins/', 'https://ci.example.com/jenkins/'],
    ['https://ci.example.com/job/orders/7/', 'https://other.example.com/, https://ci.example.com/', 'https://ci.example.com/'],
    ['https://ci.example.com/job/orders/7/', undefined, undefined],
    ['https://ci.example.com/job/orders/7/', 'https://proxy.example.com/ci', undefined],
    ['https://ci.example.com/jenkinsx/job/orders/7/', 'https://ci.example.com/jenkins', undefined],
    ['http://ci.example.com/job/orders/7/', 'https://ci.example.com/', undefined],
    ['https://ci.example.com:8443/job/orders/7/', 'https://ci.example.com/', undefined],
    ['https://ci.example.com@evil.example/job/orders/7/', 'https://ci.example.com/', undefined],
    ['https://robot:pw@ci.example.com/job/orders/7/', 'https://ci.example.com/', undefined],
  ])('the trusted root of %s (JENKINS_URL %s) is %s', (url, root, expected) => {
    expect(jenkinsRoot(url, root)).toBe(expected);
  });

  it('refuses, for good and before any request, a build or job URL outside JENKINS_URL', async () => {
    const call = jenkinsDecisionBackend({ user: 'robot', apiToken: 'tok-123456', rootUrl: 'https://ci.example.com/' });
    const error = await call({ kind: 'jenkins', buildUrl: `${jenkins.url}/ci/job/orders/7/`, inputId: 'ShipgateApproval' }, approval, notice('approved')).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'BackendError', retryable: false, message: expect.stringContaining('not under JENKINS_URL') });
    const rollback = jenkinsRollbackBackend({ user: 'robot', apiToken: 'tok-123456' });
    const refused = await rollback.rollback({ kind: 'jenkins', jobUrl: `${jenkins.url}/ci/job/orders-rollback/` }, { from: {} as Deployment, to: {} as Deployment, requestedBy: 'U0ADA00001', signal: AbortSignal.timeout(5000) }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ retryable: false, message: expect.stringContaining('JENKINS_URL is not set') });
    expect(seen).toEqual([]);
  });

  it('proceeds with a crumb, its session cookie and basic auth', async () => {
    const call = jenkinsDecisionBackend({ user: 'robot', apiToken: 'tok-123456', rootUrl: `${jenkins.url}/ci/` });
    const result = await call({ kind: 'jenkins', buildUrl: `${jenkins.url}/ci/job/orders/7`, inputId: 'ShipgateApproval' }, approval, notice('approved'));
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /ci/crumbIssuer/api/json', 'POST /ci/job/orders/7/input/ShipgateApproval/proceedEmpty']);
    expect(result.detail).toContain('proceeded');
  });

  it('aborts on a rejection; a 302 answer counts as done', async () => {
    inputStatus = 302;
    const call = jenkinsDecisionBackend({ user: 'robot', apiToken: 'tok-123456', rootUrl: `${jenkins.url}/ci/` });
    // (an id written in camel case: Jenkins capitalises it in its URLs)
    await call({ kind: 'jenkins', buildUrl: `${jenkins.url}/ci/job/orders/7/`, inputId: 'shipgateApproval' }, approval, notice('rejected'));
    expect(seen.at(-1)?.url).toBe('/ci/job/orders/7/input/ShipgateApproval/abort');
  });

  it('an input that is no longer waiting (404) is not an error; a 403 is, and is not retried', async () => {
    const call = jenkinsDecisionBackend({ user: 'robot', apiToken: 'tok-123456', rootUrl: `${jenkins.url}/ci/` });
    inputStatus = 404;
    expect((await call({ kind: 'jenkins', buildUrl: `${jenkins.url}/ci/job/orders/7/`, inputId: 'ShipgateApproval' }, approval, notice('approved'))).detail).toContain('no longer waiting');
    const wrong = jenkinsDecisionBackend({ user: 'robot', apiToken: 'wrong', rootUrl: `${jenkins.url}/ci/` });
    const error = await wrong({ kind: 'jenkins', buildUrl: `${jenkins.url}/ci/job/orders/7/`, inputId: 'ShipgateApproval' }, approval, notice('approved')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).retryable).toBe(false);
  });

  it('a Jenkins that does not answer is a retryable error', async () => {
    const call = jenkinsDecisionBackend({ rootUrl: 'http://127.0.0.1:1/' });
    const error = await call({ kind: 'jenkins', buildUrl: 'http://127.0.0.1:1/job/x/1/', inputId: 'I' }, approval, notice('approved')).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'BackendError', retryable: true });
  });

  it('starts the rollback job with the versions as parameters', async () => {
    const rollback = jenkinsRollbackBackend({ user: 'robot', apiToken: 'tok-123456', rootUrl: `${jenkins.url}/ci/` });
    const from = { service: 'orders', environment: 'prod', version: 'v2', digest: 'sha256:b' } as Deployment;
    const to = { service: 'orders', environment: 'prod', version: 'v1', digest: 'sha256:a' } as Deployment;
    const result = await rollback.rollback({ kind: 'jenkins', jobUrl: `${jenkins.url}/ci/job/orders-rollback/` }, { from, to, requestedBy: 'U0ADA00001', signal: AbortSignal.timeout(5000) });
    const post = seen.at(-1)!;
    expect(post.url).toBe('/ci/job/orders-rollback/buildWithParameters');
    expect(Object.fromEntries(new URLSearchParams(post.body))).toEqual({ SERVICE: 'orders', ENVIRONMENT: 'prod', VERSION: 'v1', DIGEST: 'sha256:a', FROM_VERSION: 'v2', REQUESTED_BY: 'U0ADA00001', REASON: 'rollback from v2 requested in Slack by U0ADA00001' });
    expect(result.detail).toContain('/ci/queue/item/42/');
  });
});

describe('retries through the outbox', () => {
  it('a failing backend is retried with back-off until it answers, then told once; one that never answers is given up, and the thread says so', async () => {
    const posts: string[] = [];
    let failuresLeft = 2;
    const jenkins = await listen((req, res) => {
      if (req.url?.endsWith('/crumbIssuer/api/json')) return void res.writeHead(404).end();
      posts.push(req.url ?? '');
      if (req.url?.includes('/job/flaky/') && failuresLeft-- > 0) return void res.writeHead(503).end();
      res.writeHead(req.url?.includes('/job/down/') ? 500 : 200).end();
    });
    const slack = await slackStandIn();
    const store = await memoryStore();
    const app = await startApp(slack, { store, outbox: { pollMs: 20, retryBaseSeconds: 0.05, maxAttempts: 3 }, env: { JENKINS_URL: jenkins.url } });
    try {
      const ask = async (job: string) => {
        const { id } = (await api(app.url, 'POST', '/api/approvals', approvalBody({ environment: 'staging', backend: { kind: 'jenkins', buildUrl: `${jenkins.url}/job/${job}/1/`, inputId: 'ShipgateApproval' } }))).body;
        await postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: id }));
        return id as string;
      };
      const flaky = await ask('flaky');
      const down = await ask('down');
      await waitFor(async () => (await store.audit.trail(flaky)).some((e) => e.action === 'backend.called' && e.outcome === 'ok'), 'the flaky backend to answer', 15_000);
      expect(posts.filter((p) => p.includes('/job/flaky/'))).toHaveLength(3);
      const flakyTrail = (await store.audit.trail(flaky)).filter((e) => e.action === 'backend.called');
      expect(flakyTrail.map((e) => e.outcome)).toEqual(['error', 'error', 'ok']);
      expect(flakyTrail.map((e) => e.detail.attempt)).toEqual([1, 2, 3]);

      const warning = await waitFor(() => slack.of('chat.postMessage').find((c) => c.args.thread_ts && String(c.args.text).startsWith(':warning: Could not tell jenkins')), 'the give-up note', 15_000);
      expect(warning.args.text).toContain('after 3 attempt(s)');
      expect(posts.filter((p) => p.includes('/job/down/'))).toHaveLength(3);
      const dead = (await store.outbox.rows()).find((r) => r.subjectId === down && r.kind === 'backend.notify');
      expect(dead?.deadAt).toBeInstanceOf(Date);
      expect(dead?.lastError).toContain('answered 500');
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      expect(metrics).toMatch(/shipgate_backend_errors_total\{backend="jenkins"\} 5/);
    } finally {
      await app.stop();
      await store.close();
      await slack.close();
      await jenkins.close();
    }
  });
});

describe('GitHub pending deployments', () => {
  const seen: Seen[] = [];
  let github: Awaited<ReturnType<typeof listen>>;
  let status = 200;
  beforeAll(async () => {
    github = await listen((req, res, body) => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.writeHead(req.headers.authorization === 'Bearer ghp_test123456' ? status : 401, { 'content-type': 'application/json' });
      res.end(status === 200 ? '[{"id":1,"state":"approved"}]' : '{"message":"No pending deployment requests to approve or reject"}');
    });
  });
  afterAll(() => github.close());

  it('reviews the run with the environment IDs, the state and a comment', async () => {
    const call = githubDecisionBackend({ token: 'ghp_test123456', apiUrl: github.url });
    const result = await call({ kind: 'github', repository: 'acme/orders', runId: 99, environmentIds: [161171787, 5] }, approval, notice('rejected'));
    const req = seen.at(-1)!;
    expect(`${req.method} ${req.url}`).toBe('POST /repos/acme/orders/actions/runs/99/pending_deployments');
    expect(JSON.parse(req.body)).toEqual({ environment_ids: [161171787, 5], state: 'rejected', comment: 'rejected in Slack by U0ADA00001 (shipgate)' });
    expect(req.headers.accept).toBe('application/vnd.github+json');
    expect(req.headers['x-github-api-version']).toBe('2022-11-28');
    expect(result.detail).toContain('rejected');
  });

  it('nothing pending any more (422) is done, not an error; no token is an error that is not retried', async () => {
    status = 422;
    const call = githubDecisionBackend({ token: 'ghp_test123456', apiUrl: `${github.url}/` });
    expect((await call({ kind: 'github', repository: 'acme/orders', runId: 99, environmentIds: [1] }, approval, notice('approved'))).detail).toContain('no deployment was pending');
    status = 200;
    await expect(githubDecisionBackend({ apiUrl: github.url })({ kind: 'github', repository: 'acme/orders', runId: 1, environmentIds: [1] }, approval, notice('approved'))).rejects.toMatchObject({ retryable: false });
  });

  it('through the app: a Slack click reviews the GitHub run once, and the thread says so', async () => {
    const slack = await slackStandIn();
    const store = await memoryStore();
    const app = await startApp(slack, { store, env: { GITHUB_TOKEN: 'ghp_test123456', GITHUB_API_URL: github.url } });
    try {
      const before = seen.length;
      const res = await api(app.url, 'POST', '/api/approvals', approvalBody({ environment: 'staging', backend: { kind: 'github', repository: 'acme/orders', runId: '1234', environmentIds: [7] } }));
      const id = res.body.id as string;
      await waitFor(async () => (await store.approvals.get(id))?.messageTs, 'the message');
      await Promise.all([postSlack(app.url, blockActions({ user: users.bob, actionId: 'shipgate_approve', value: id })), postSlack(app.url, blockActions({ user: users.bob, actionId: 'shipgate_approve', value: id }))]);
      await waitFor(() => slack.of('chat.postMessage').find((c) => c.args.thread_ts && String(c.args.text).includes('acme/orders#1234')), 'the thread reply');
      const calls = seen.slice(before);
      expect(calls.map((c) => c.url)).toEqual(['/repos/acme/orders/actions/runs/1234/pending_deployments']);
      expect(JSON.parse(calls[0]!.body)).toMatchObject({ environment_ids: [7], state: 'approved', comment: expect.stringContaining(users.bob) });
    } finally {
      await app.stop();
      await store.close();
      await slack.close();
    }
  });
});

describe('CodePipeline', () => {
  const cp = mockClient(CodePipelineClient);
  afterEach(() => {
    cp.reset();
  });
  const backend = { kind: 'codepipeline' as const, pipeline: 'orders', stage: 'Prod', action: 'Approve', region: 'eu-west-1' };
  const call = codePipelineDecisionBackend((region) => new CodePipelineClient({ region: region ?? 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } }), { attempts: 1 });

  it('reads the token from GetPipelineState and answers with PutApprovalResult', async () => {
    cp.on(GetPipelineStateCommand, { name: 'orders' }).resolves({
      pipelineName: 'orders',
      stageStates: [{ stageName: 'Build', actionStates: [] }, { stageName: 'Prod', actionStates: [{ actionName: 'Approve', latestExecution: { status: 'InProgress', token: 'tok-1' } }] }],
    });
    cp.on(PutApprovalResultCommand).resolves({ approvedAt: new Date() });
    const result = await call(backend, approval, notice('approved'));
    const put = cp.commandCalls(PutApprovalResultCommand);
    expect(put).toHaveLength(1);
    expect(put[0]!.args[0].input).toEqual({ pipelineName: 'orders', stageName: 'Prod', actionName: 'Approve', token: 'tok-1', result: { status: 'Approved', summary: 'approved in Slack by U0ADA00001 (shipgate)' } });
    expect(result.detail).toMatch(/^CodePipeline orders\/Prod\/Approve: approved/);
  });

  it('an action no longer in progress, or already answered, is not told again', async () => {
    cp.on(GetPipelineStateCommand).resolves({ stageStates: [{ stageName: 'Prod', actionStates: [{ actionName: 'Approve', latestExecution: { status: 'Succeeded', token: 'old' } }] }] });
    expect((await call(backend, approval, notice('rejected'))).detail).toContain('no longer waiting');
    expect(cp.commandCalls(PutApprovalResultCommand)).toHaveLength(0);
    cp.reset();
    cp.on(GetPipelineStateCommand).resolves({ stageStates: [{ stageName: 'Prod', actionStates: [{ actionName: 'Approve', latestExecution: { status: 'InProgress', token: 't' } }] }] });
    cp.on(PutApprovalResultCommand).rejects(Object.assign(new Error('already completed'), { name: 'ApprovalAlreadyCompletedException', $metadata: { httpStatusCode: 400 } }));
    expect((await call(backend, approval, notice('rejected'))).detail).toContain('already answered');
  });

  it('a missing stage is not retried; throttling is', async () => {
    cp.on(GetPipelineStateCommand).resolves({ stageStates: [] });
    await expect(call(backend, approval, notice('approved'))).rejects.toMatchObject({ retryable: false });
    cp.reset();
    cp.on(GetPipelineStateCommand).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    await expect(call(backend, approval, notice('approved'))).rejects.toMatchObject({ retryable: true });
  });
});

// A real crash: the bundled app runs as its own process over a real Postgres, an approver clicks,
// the app calls Jenkins — and is killed with SIGKILL while the call is in flight, before Jenkins
// answers. Another instance finishes the job once the dead one's lease lapses: Jenkins proceeds
// exactly once, and the audit trail shows one successful call. And a burst of signed clicks and
// rejections, killed with SIGKILL halfway: after a restart, every request that got its 200 is
// decided, and a later click on a rejected approval changes nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findPostgresBinaries, openHarness, prepareHarness, type Harness, type PreparedHarness, type TestDatabase } from '@shipgate/test-harness';
import type { ShipgateApp } from '../src/app.js';
import { openPostgres } from '../src/store/sql.js';
import { Store } from '../src/store/store.js';
import { api, apiToken, approvalBody, blockActions, botToken, postSlack, sign, signingSecret, slackStandIn, startApp, users, viewSubmission, waitFor, type SlackStandIn } from './helpers.js';

const run = promisify(execFile);
const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const hasPostgres = findPostgresBinaries() !== undefined;
if (!hasPostgres && process.env.CI === 'true') throw new Error('CI must provide Postgres server binaries (.ci/run installs postgresql)');
if (!hasPostgres) console.warn('skipping the crash test: no Postgres server binaries on this machine (apt-get install postgresql)');
const describeIf = hasPostgres ? describe : describe.skip;

describeIf('SIGKILL during a backend call', () => {
  let dir: string;
  let prepared: PreparedHarness;
  let harness: Harness;
  let db: TestDatabase;
  let slack: SlackStandIn;
  let child: ChildProcess | undefined;
  const children: ChildProcess[] = [];
  let survivor: ShipgateApp | undefined;
  let store: Store | undefined;
  const jenkins = createServer();
  const held: ServerResponse[] = [];
  let answered = 0;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sg-bolt-crash-'));
    await run(process.execPath, [path.join(appDir, 'scripts', 'bundle.mjs'), '--out', path.join(dir, 'bundle')], { timeout: 120_000 });
    prepared = await prepareHarness({ provider: 'postgres', cwd: dir });
    harness = openHarness(prepared.state);
    db = await harness.acquire();
    slack = await slackStandIn();
    // "Jenkins": the first proceed is received and never answered (the app dies waiting);
    // it acts only on a request it answers
    jenkins.on('request', (req, res) => {
      req.resume();
      if (req.url?.endsWith('/crumbIssuer/api/json')) return void res.writeHead(404).end();
      if (req.url?.endsWith('/proceedEmpty') && held.length === 0) return void held.push(res);
      if (req.url?.endsWith('/proceedEmpty')) answered++;
      res.writeHead(200).end();
    });
    await new Promise<void>((r) => jenkins.listen(0, '127.0.0.1', r));
  }, 180_000);

  afterAll(async () => {
    child?.kill('SIGKILL');
    for (const c of children) c.kill('SIGKILL');
    await survivor?.stop().catch(() => undefined);
    await store?.close().catch(() => undefined);
    jenkins.closeAllConnections();
    await new Promise((r) => jenkins.close(r));
    await slack?.close();
    await db?.release();
    await harness?.close();
    await prepared?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('the call is finished by another instance, once', async () => {
    const config = path.join(dir, 'bolt.yml');
    writeFileSync(config, 'environments:\n  prod:\n    channel: C0PROD0001\n    approvers: [U0ADA00001]\n');
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const free = (s.address() as AddressInfo).port;
        s.close(() => resolve(free));
      });
    });
    let logs = '';
    child = spawn(process.execPath, [path.join(dir, 'bundle', 'shipgate-bolt.mjs')], {
      env: { PATH: process.env.PATH, SHIPGATE_CONFIG: config, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: db.url, SLACK_BOT_TOKEN: botToken, SLACK_SIGNING_SECRET: signingSecret, SHIPGATE_API_TOKEN: apiToken, SLACK_API_URL: slack.apiUrl, JENKINS_USER: 'robot', JENKINS_API_TOKEN: 'jenkins-token-123', JENKINS_URL: `http://127.0.0.1:${(jenkins.address() as AddressInfo).port}/`, SHIPGATE_OUTBOX_LEASE_SECONDS: '3' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c: Buffer) => (logs += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (logs += c.toString()));
    const url = `http://127.0.0.1:${port}`;
    await waitFor(() => fetch(`${url}/healthz`).then((r) => r.ok, () => false), `the app process to start: ${logs}`, 30_000);

    const jenkinsUrl = `http://127.0.0.1:${(jenkins.address() as AddressInfo).port}`;
    const { id } = (await api(url, 'POST', '/api/approvals', approvalBody({ backend: { kind: 'jenkins', buildUrl: `${jenkinsUrl}/job/orders/9/`, inputId: 'ShipgateApproval' } }))).body;
    await postSlack(url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: id }));
    await waitFor(() => held.length === 1, 'the call to reach Jenkins', 20_000);
    child.kill('SIGKILL');
    await new Promise((r) => (child!.exitCode !== null || child!.signalCode !== null ? r(undefined) : child!.once('exit', r)));
    expect(child.signalCode).toBe('SIGKILL');
    expect(answered).toBe(0);

    store = new Store(await openPostgres(db.url!, { max: 3 }));
    expect((await store.approvals.get(id))?.state).toBe('approved');
    survivor = await startApp(slack, { store, env: { JENKINS_USER: 'robot', JENKINS_API_TOKEN: 'jenkins-token-123', JENKINS_URL: jenkinsUrl } });
    await waitFor(() => answered === 1, 'the survivor to tell Jenkins', 20_000);
    await waitFor(async () => (await store!.audit.trail(id)).some((e) => e.action === 'backend.called' && e.outcome === 'ok'), 'the audit row');
    await new Promise((r) => setTimeout(r, 500));
    expect(answered).toBe(1);
    expect((await store.audit.trail(id)).filter((e) => e.action === 'backend.called' && e.outcome === 'ok')).toHaveLength(1);
    expect(logs).not.toContain('jenkins-token-123');
    expect(logs).not.toContain(botToken);
  }, 90_000);

  /** Starts the bundled app as its own process; resolves once it answers /healthz. */
  async function spawnBundle(config: string, extra: Record<string, string> = {}): Promise<{ process: ChildProcess; url: string; logs: () => string }> {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const free = (s.address() as AddressInfo).port;
        s.close(() => resolve(free));
      });
    });
    let logs = '';
    const proc = spawn(process.execPath, [path.join(dir, 'bundle', 'shipgate-bolt.mjs')], {
      env: { PATH: process.env.PATH, SHIPGATE_CONFIG: config, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: db.url, SLACK_BOT_TOKEN: botToken, SLACK_SIGNING_SECRET: signingSecret, SHIPGATE_API_TOKEN: apiToken, SLACK_API_URL: slack.apiUrl, SHIPGATE_OUTBOX_LEASE_SECONDS: '3', ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(proc);
    proc.stdout!.on('data', (c: Buffer) => (logs += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (logs += c.toString()));
    const url = `http://127.0.0.1:${port}`;
    await waitFor(() => fetch(`${url}/healthz`).then((r) => r.ok, () => false), `the app process to start: ${logs}`, 30_000);
    return { process: proc, url, logs: () => logs };
  }

  // Postgres: the inbox table; PGlite (no DATABASE_URL): the journal file in its data directory
  it.each(['postgres', 'pglite'])('SIGKILL in the middle of a burst (%s): every click and rejection that was acked is decided after a restart', async (engine) => {
    const config = path.join(dir, `burst-${engine}.yml`);
    writeFileSync(config, `environments:\n  prod:\n    channel: C0PROD0001\n    approvers: [${users.ada}, ${users.bob}]\n`);
    const storeEnv: Record<string, string> = engine === 'pglite' ? { DATABASE_URL: '', SHIPGATE_DATA_DIR: path.join(dir, 'pglite-data') } : {};
    const first = await spawnBundle(config, { SHIPGATE_API_RATE: '1000', SHIPGATE_API_BURST: '1000', ...storeEnv });
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await api(first.url, 'POST', '/api/approvals', approvalBody({ version: `v-burst-${i}`, requester: undefined }))).body.id);
    // every 4th approval is rejected in the modal, the others approved
    const requests = ids.map((id, i) => ({ id, verdict: i % 4 === 0 ? 'rejected' : 'approved', form: i % 4 === 0 ? viewSubmission({ user: users.ada, approvalId: id, reason: `burst ${i}` }) : blockActions({ user: users.ada, actionId: 'shipgate_approve', value: id }) }));
    const acked: typeof requests = [];
    let killed = false;
    const kill = () => {
      if (killed) return;
      killed = true;
      first.process.kill('SIGKILL');
    };
    await Promise.all(
      requests.map(async (r) => {
        const text = new URLSearchParams(r.form).toString();
        const res = await fetch(`${first.url}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...sign(text) }, body: text }).catch(() => undefined);
        if (res?.status !== 200 || killed) return;
        acked.push(r);
        // halfway through the acks (and once a rejection is among them): no time for the
        // listeners of the clicks just acked. Modal submissions may be acked later than clicks,
        // so the kill waits for one rather than leaving the rejected path untested by chance.
        if (acked.length >= requests.length / 2 && acked.some((a) => a.verdict === 'rejected')) kill();
      }),
    );
    kill();
    await new Promise((r) => (first.process.exitCode !== null || first.process.signalCode !== null ? r(undefined) : first.process.once('exit', r)));
    expect(first.process.signalCode).toBe('SIGKILL');
    expect(acked.length).toBeGreaterThanOrEqual(requests.length / 2);
    expect(acked.some((r) => r.verdict === 'rejected')).toBe(true);

    const second = await spawnBundle(config, { SHIPGATE_API_RATE: '1000', SHIPGATE_API_BURST: '1000', ...storeEnv });
    const state = async (id: string) => (await api(second.url, 'GET', `/api/approvals/${id}`)).body.state as string;
    const decided = async () => (await Promise.all(acked.map(async (r) => (await state(r.id)) === r.verdict))).every(Boolean);
    await waitFor(decided, 'every acked request decided after the restart', 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\nfirst process:\n${first.logs()}\nafter the restart:\n${second.logs()}`);
    });
    // they were decided by the replay, not before the kill
    expect(second.logs()).toContain('working Slack requests acknowledged before a crash');
    // another approver clicks Approve on what was rejected before the crash: it stays rejected
    const rejected = acked.filter((r) => r.verdict === 'rejected');
    for (const r of rejected) await postSlack(second.url, blockActions({ user: users.bob, actionId: 'shipgate_approve', value: r.id }));
    await new Promise((r) => setTimeout(r, 500));
    for (const r of rejected) expect(await state(r.id)).toBe('rejected');
    second.process.kill('SIGTERM');
    await new Promise((r) => (second.process.exitCode !== null || second.process.signalCode !== null ? r(undefined) : second.process.once('exit', r)));
  }, 120_000);
});

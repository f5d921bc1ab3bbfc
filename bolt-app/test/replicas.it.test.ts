// Exactly once across replicas and crashes: two app instances over one real Postgres (a fresh
// database from @shipgate/test-harness), hammered with concurrent clicks — one transition and one
// backend call per approval. A decision committed by an instance that stops before working its
// outbox, or one whose worker died holding the row, is finished by another instance, once.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findPostgresBinaries, openHarness, prepareHarness, type Harness, type PreparedHarness, type TestDatabase } from '@shipgate/test-harness';
import type { ShipgateApp } from '../src/app.js';
import { openPostgres } from '../src/store/sql.js';
import { Store } from '../src/store/store.js';
import { api, approvalBody, blockActions, listen, postSlack, slackStandIn, startApp, users, waitFor, type SlackStandIn } from './helpers.js';

const hasPostgres = findPostgresBinaries() !== undefined;
if (!hasPostgres && process.env.CI === 'true') throw new Error('CI must provide Postgres server binaries (.ci/run installs postgresql)');
if (!hasPostgres) console.warn('skipping the two-replica tests: no Postgres server binaries on this machine (apt-get install postgresql)');
const describeIf = hasPostgres ? describe : describe.skip;

describeIf('two replicas over one Postgres', () => {
  let prepared: PreparedHarness;
  let harness: Harness;
  let db: TestDatabase;
  let dir: string;
  let slack: SlackStandIn;
  let jenkins: Awaited<ReturnType<typeof listen>>;
  const proceeds: string[] = [];
  const stores: Store[] = [];
  const apps: ShipgateApp[] = [];

  async function instance(options: { autostart?: boolean; leaseSeconds?: number } = {}): Promise<ShipgateApp> {
    const store = new Store(await openPostgres(db.url!, { max: 5 }));
    stores.push(store);
    const app = await startApp(slack, {
      store,
      env: { JENKINS_USER: 'shipgate', JENKINS_API_TOKEN: 'jenkins-token-x', JENKINS_URL: jenkins.url },
      outbox: { pollMs: 50, retryBaseSeconds: 0.05, ...(options.leaseSeconds ? { leaseSeconds: options.leaseSeconds } : {}), ...(options.autostart === false ? { autostart: false } : {}) },
    });
    apps.push(app);
    return app;
  }

  /** Stops every instance a test started (also when it failed). */
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.stop().catch(() => undefined);
    for (const store of stores.splice(0)) await store.close().catch(() => undefined);
  });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sg-bolt-'));
    prepared = await prepareHarness({ provider: 'postgres', cwd: dir });
    harness = openHarness(prepared.state);
    db = await harness.acquire();
    slack = await slackStandIn();
    jenkins = await listen((req, res) => {
      if (req.url === '/crumbIssuer/api/json') {
        res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'JSESSIONID.1=abc; Path=/; HttpOnly' });
        res.end(JSON.stringify({ crumb: 'crumb-1', crumbRequestField: 'Jenkins-Crumb' }));
        return;
      }
      if (req.method === 'POST' && req.headers['jenkins-crumb'] === 'crumb-1' && req.headers.cookie === 'JSESSIONID.1=abc') proceeds.push(req.url ?? '');
      res.writeHead(req.headers['jenkins-crumb'] === 'crumb-1' ? 200 : 403);
      res.end();
    });
  }, 120_000);

  afterAll(async () => {
    for (const app of apps) await app.stop().catch(() => undefined);
    for (const store of stores) await store.close().catch(() => undefined);
    await slack?.close();
    await jenkins?.close();
    await db?.release();
    await harness?.close();
    await prepared?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('200 concurrent clicks on 20 approvals across both: one transition and one backend call each', async () => {
    const [a, b] = [await instance(), await instance()];
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await api(i % 2 ? b.url : a.url, 'POST', '/api/approvals', approvalBody({ version: `v9.${i}.0`, backend: { kind: 'jenkins', buildUrl: `${jenkins.url}/job/orders/${i}/`, inputId: 'ShipgateApproval' } }));
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    const clicks = ids.flatMap((id, i) => Array.from({ length: 10 }, (_, k) => ({ app: k % 2 ? a : b, user: k % 3 === 0 ? users.gus : users.ada, id, i })));
    const results = await Promise.all(clicks.map((c) => postSlack(c.app.url, blockActions({ user: c.user, actionId: 'shipgate_approve', value: c.id }))));
    expect(results.every((r) => r.status === 200)).toBe(true);
    await waitFor(async () => proceeds.filter((p) => p.includes('/job/orders/')).length >= 20 && (await a.store.outbox.depth()) === 0, 'every backend call', 30_000);
    // give a duplicate the chance to show up
    await new Promise((r) => setTimeout(r, 500));
    const store = a.store;
    for (const [i, id] of ids.entries()) {
      expect((await store.approvals.get(id))?.state).toBe('approved');
      const trail = await store.audit.trail(id);
      expect(trail.filter((e) => e.action === 'approval.approved' && e.outcome === 'ok')).toHaveLength(1);
      expect(trail.filter((e) => e.action === 'approval.approved')).toHaveLength(10);
      expect(trail.filter((e) => e.action === 'backend.called' && e.outcome === 'ok')).toHaveLength(1);
      expect(proceeds.filter((p) => p === `/job/orders/${i}/input/ShipgateApproval/proceedEmpty`)).toHaveLength(1);
    }
    expect(proceeds.filter((p) => p.includes('/job/orders/'))).toHaveLength(20);
  });

  it('a decision committed by an instance that stops before working its outbox is told once by the next instance', async () => {
    const c = await instance({ autostart: false });
    const res = await api(c.url, 'POST', '/api/approvals', approvalBody({ backend: { kind: 'jenkins', buildUrl: `${jenkins.url}/job/crash/1/`, inputId: 'ShipgateApproval' } }));
    const id = res.body.id as string;
    await postSlack(c.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: id }));
    await waitFor(async () => (await c.store.approvals.get(id))?.state === 'approved', 'the transition');
    expect((await c.store.outbox.rows()).filter((r) => r.subjectId === id && r.kind === 'backend.notify' && !r.doneAt)).toHaveLength(1);
    await c.stop();
    expect(proceeds.filter((p) => p.includes('/job/crash/1/'))).toHaveLength(0);

    const [d, e] = [await instance(), await instance()];
    await waitFor(() => proceeds.some((p) => p.includes('/job/crash/1/')), 'the call after restart', 15_000);
    await waitFor(async () => (await d.store.outbox.depth()) === 0 && (await e.store.outbox.depth()) === 0, 'the outbox drained', 15_000);
    expect(proceeds.filter((p) => p === '/job/crash/1/input/ShipgateApproval/proceedEmpty')).toHaveLength(1);
  });

  it('a row whose worker died holding its lease is picked up once the lease lapses, and called once', async () => {
    const f = await instance({ autostart: false, leaseSeconds: 1 });
    const res = await api(f.url, 'POST', '/api/approvals', approvalBody({ backend: { kind: 'jenkins', buildUrl: `${jenkins.url}/job/crash/2/`, inputId: 'ShipgateApproval' } }));
    const id = res.body.id as string;
    await postSlack(f.url, blockActions({ user: users.ada, actionId: 'shipgate_approve', value: id }));
    await waitFor(async () => (await f.store.approvals.get(id))?.state === 'approved', 'the transition');
    // a worker claims everything and dies without a word: its lease (1 s here) must lapse first
    const claimed = await f.store.outbox.claim('w_dead', 1, 100);
    expect(claimed.some((r) => r.subjectId === id && r.kind === 'backend.notify')).toBe(true);
    const claimedAt = Date.now();
    f.worker.start();
    await waitFor(() => proceeds.some((p) => p.includes('/job/crash/2/')), 'the call after the lease lapsed', 15_000);
    expect(Date.now() - claimedAt).toBeGreaterThanOrEqual(900);
    await waitFor(async () => (await f.store.outbox.depth()) === 0, 'the outbox drained', 15_000);
    expect(proceeds.filter((p) => p.includes('/job/crash/2/'))).toHaveLength(1);
  });
});

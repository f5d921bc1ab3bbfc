// The Rollback button end to end on a real registry: two images pushed with `docker push` and
// promoted to `production` by @shipgate/image; the app records both deployments, an approver
// clicks Rollback, and the registry's `production` tag points at the earlier digest again.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { promoteImage } from '@shipgate/image';
import type { ShipgateApp } from '../src/app.js';
import type { Store } from '../src/store/store.js';
import { buildTinyImage, inspectDigest, pushImage, removeLocalImages, requireDocker, startRegistry, type StartedRegistry } from '../../pipelines/test/support/registry.js';
import { api, blockActions, memoryStore, postSlack, slackStandIn, startApp, users, waitFor, type SlackStandIn } from './helpers.js';

const enabled = await requireDocker('bolt-app image rollback test');
const suite = enabled ? describe : describe.skip;

suite('Rollback of an image deployment', () => {
  let registry: StartedRegistry;
  let slack: SlackStandIn;
  let store: Store;
  let app: ShipgateApp;
  const refs: string[] = [];
  let v1: string;
  let v2: string;

  beforeAll(async () => {
    registry = await startRegistry();
    refs.push(`${registry.host}/shop/bolt:v1`, `${registry.host}/shop/bolt:v2`);
    await Promise.all(refs.map((ref, i) => buildTinyImage(ref, { 'version.txt': `bolt ${i + 1} ${Date.now()}\n` })));
    [v1, v2] = (await Promise.all(refs.map((ref) => pushImage(ref)))) as [string, string];
    slack = await slackStandIn();
    store = await memoryStore();
    app = await startApp(slack, { store });
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    await store?.close();
    await slack?.close();
    await removeLocalImages(...refs);
    await registry?.stop();
  });

  it('re-points the production tag to the previous digest, once, and says so in the thread', async () => {
    const rollback = { kind: 'image', repository: `${registry.host}/shop/bolt`, environment: 'production' };
    for (const [version, digest] of [['v1', v1], ['v2', v2]] as const) {
      await promoteImage({ source: `${registry.host}/shop/bolt@${digest}`, tag: 'production', environment: 'production' });
      expect((await api(app.url, 'POST', '/api/deployments', { service: 'bolt', environment: 'staging', version, digest, outcome: 'succeeded', rollback })).status).toBe(201);
    }
    expect(await inspectDigest(`${registry.host}/shop/bolt:production`)).toBe(v2);
    const current = (await store.deployments.history('bolt', 'staging'))[0]!;
    const post = await waitFor(() => slack.of('chat.postMessage').find((c) => JSON.stringify(c.args.blocks ?? []).includes(`${current.id}>`)), 'the deployment message');
    const button = post.args.blocks.find((b: any) => b.type === 'actions').elements[0];
    expect(button.confirm.text.text).toContain('back from `v2` to `v1`');

    await Promise.all([postSlack(app.url, blockActions({ user: users.ada, actionId: 'shipgate_rollback', value: button.value, channel: 'C0STAG0001' })), postSlack(app.url, blockActions({ user: users.bob, actionId: 'shipgate_rollback', value: button.value, channel: 'C0STAG0001' }))]);
    const done = await waitFor(async () => {
      const d = await store.deployments.get(current.id);
      return d?.rollbackState && d.rollbackState !== 'requested' ? d : undefined;
    }, 'the rollback', 30_000);
    expect(done.rollbackState).toBe('succeeded');
    expect(await inspectDigest(`${registry.host}/shop/bolt:production`)).toBe(v1);
    expect(done.rollbackDetail).toContain(v1);
    const restored = (await store.deployments.history('bolt', 'staging'))[0]!;
    expect(restored).toMatchObject({ version: 'v1', digest: v1, rollbackOf: current.id });
    await waitFor(() => slack.of('chat.postMessage').find((c) => c.args.thread_ts === done.messageTs && String(c.args.text).includes('Rolled back')), 'the thread reply');
    expect((await store.audit.trail(current.id)).filter((e) => e.action === 'rollback.requested' && e.outcome === 'ok')).toHaveLength(1);
  });
});

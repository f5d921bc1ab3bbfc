// `shipgate image promote | rollback | history` run the image step (through the CLI's one way to
// a step) against a real registry (`docker-registry serve` on loopback). The images are written
// with the registry API itself, so no Docker engine is needed: what is checked is the CLI's
// output, JSON and exit codes, and the tags the registry then serves.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from '../../../test/helpers.js';
import { startRegistry, type StartedRegistry } from '../../../test/support/registry.js';
import { manifestMediaTypes, RegistryClient, sha256Digest } from '../../src/oci/client.js';

describe('shipgate image against a real registry', () => {
  let registry: StartedRegistry;
  let client: RegistryClient;
  let workspace = '';
  const digests: Record<string, string> = {};

  /** A one-layer image whose layer holds `text`, tagged `tag` in `repository`. */
  async function writeImage(repository: string, tag: string, text: string): Promise<string> {
    const layer = Buffer.from(text);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256Digest(layer)] }, config: {} }));
    for (const blob of [layer, config]) await client.uploadBlob(repository, sha256Digest(blob), blob, blob.length);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: manifestMediaTypes.ociManifest,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256Digest(layer), size: layer.length }],
      }),
    );
    return client.putManifest(repository, tag, manifest, manifestMediaTypes.ociManifest);
  }

  beforeAll(async () => {
    registry = await startRegistry();
    client = new RegistryClient({ registry: registry.host });
    workspace = mkdtempSync(path.join(os.tmpdir(), 'sg-image-cli-'));
    for (const v of ['v1', 'v2']) digests[v] = await writeImage('shop/orders', v, `orders ${v}\n`);
  }, 60_000);

  afterAll(async () => {
    await registry?.stop();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  const tagAt = async (tag: string) => (await client.headManifest('shop/orders', tag))?.digest;

  it('promotes, says when nothing changed, keeps the history, rolls back — text and JSON', async () => {
    const repo = `${registry.host}/shop/orders`;
    const env = { USER: 'release-bot', SHIPGATE_REGISTRY_USERNAME: 'ci', SHIPGATE_REGISTRY_PASSWORD: 'pw-4d3c2b1a0f' };
    const first = await cli(['image', 'promote', `${repo}:v1`, '--tag', 'production'], workspace, env);
    expect(first).toEqual({ code: 0, out: `${repo}:production → ${digests.v1}\n`, err: '' });
    const second = await cli(['image', 'promote', `${repo}:v2`, '--tag', 'production', '--json'], workspace, env);
    expect(second.err).toBe('');
    expect(JSON.parse(second.out)).toEqual({ repository: repo, tag: 'production', environment: 'production', digest: digests.v2, previous: digests.v1, changed: true, mounted: 0, copied: 0 });
    expect(await cli(['image', 'promote', `${repo}:v2`, '--tag', 'production'], workspace, env)).toEqual({ code: 0, out: `${repo}:production already points at ${digests.v2}\n`, err: '' });

    const history = await cli(['image', 'history', repo, '--env', 'production'], workspace, env);
    expect(history.code).toBe(0);
    const lines = history.out.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^\\S+  promote   production  ${digests.v2}  by release-bot  from shop/orders:v2$`));
    expect(`${history.out}${history.err}`).not.toContain('pw-4d3c2b1a0f');

    const back = await cli(['image', 'rollback', repo, '--env', 'production'], workspace, env);
    expect(back).toEqual({ code: 0, out: `${repo}:production rolled back ${digests.v2} → ${digests.v1}\n`, err: '' });
    expect(await tagAt('production')).toBe(digests.v1);
    const entries = JSON.parse((await cli(['image', 'history', repo, '--env', 'production', '--json'], workspace, env)).out) as Array<{ action: string; digest: string }>;
    expect(entries.map((e) => [e.action, e.digest])).toEqual([
      ['rollback', digests.v1],
      ['promote', digests.v2],
      ['promote', digests.v1],
    ]);
    expect((await cli(['image', 'history', repo, '--env', 'staging'], workspace, env)).out).toBe(`no history for staging in ${repo}\n`);
  }, 60_000);

  it('exit codes: 2 for an immutable tag, 1 with nothing to roll back to, 3 for an unreachable registry; never a stack trace', async () => {
    const repo = `${registry.host}/shop/orders`;
    expect((await cli(['image', 'promote', `${repo}:v1`, '--tag', '3.0.0'], workspace)).code).toBe(0);
    const moved = await cli(['image', 'promote', `${repo}:v2`, '--tag', '3.0.0'], workspace);
    expect(moved.code).toBe(2);
    expect(moved.out).toBe('');
    expect(moved.err).toMatch(/^shipgate: image failure: .*\[image\.immutable-tag\]\n {2}hint: /);
    expect(await tagAt('3.0.0')).toBe(digests.v1);

    await cli(['image', 'promote', `${repo}:v1`, '--tag', 'qa'], workspace);
    const nothing = await cli(['image', 'rollback', repo, '--env', 'qa'], workspace);
    expect(nothing.code).toBe(1);
    expect(nothing.err).toContain('[image.no-rollback-target]');

    const closed = await cli(['image', 'promote', '127.0.0.1:9/shop/orders:v1', '--tag', 'prod', '--timeout', '1'], workspace);
    expect(closed.code).toBe(3);
    expect(closed.err).toContain('[registry.unreachable]');
    for (const r of [moved, nothing, closed]) expect(r.err).not.toMatch(/\n\s+at /);

    const usage = await cli(['image', 'rollback', repo, '--env', 'qa', '--timeout', '0'], workspace);
    expect(usage).toMatchObject({ code: 2, out: '' });
    expect(usage.err).toContain('[cli.usage]');
  }, 60_000);
});

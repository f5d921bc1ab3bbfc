// Promote, rollback and history against a real registry holding real images pushed with `docker
// push`; after every change skopeo (which reads manifests straight from the registry) says which
// digest each tag points at.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { promoteImage, readImageHistory, rollbackImage } from '../../src/image/promote.js';
import { imageStep } from '../../src/image/index.js';
import { runStepInProcess } from '../../../core/src/executors/local.js';
import { RegistryClient, sha256Digest, type FetchFunction } from '../../src/oci/client.js';
import { nodeTransport } from '../../src/oci/transport.js';
import { cli } from '../../../test/helpers.js';
import { buildTinyImage, inspectDigest, pushImage, removeLocalImages, requireDocker, startRegistry, type StartedRegistry } from '../../../test/support/registry.js';
import { startBearerProxy, type BearerProxy } from '../oci/bearer-proxy.js';

const run = promisify(execFile);
const enabled = await requireDocker('image promote / rollback tests');
const suite = enabled ? describe : describe.skip;

suite('image promote and rollback on a real registry', () => {
  let registry: StartedRegistry;
  let v1: string;
  let v2: string;
  let v3: string;
  const local: string[] = [];
  let workspace: string;

  beforeAll(async () => {
    registry = await startRegistry();
    workspace = mkdtempSync(path.join(os.tmpdir(), 'sg-image-it-'));
    const refs = ['v1', 'v2', 'v3'].map((v) => `${registry.host}/shop/orders:${v}`);
    local.push(...refs);
    await Promise.all(refs.map((ref, i) => buildTinyImage(ref, { 'version.txt': `orders ${i + 1} ${Date.now()}\n`, 'data.bin': Buffer.alloc(1000 + i, i) })));
    [v1, v2, v3] = await Promise.all(refs.map((ref) => pushImage(ref))) as [string, string, string];
  });

  afterAll(async () => {
    await removeLocalImages(...local);
    await registry?.stop();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  const at = (tag: string, repo = 'shop/orders') => inspectDigest(`${registry.host}/${repo}:${tag}`);

  it('promotes by digest, records history, rolls back to the previous good one, and refuses when none is left', async () => {
    expect(new Set([v1, v2, v3]).size).toBe(3);
    const first = await promoteImage({ source: `${registry.host}/shop/orders:v1`, tag: 'production', actor: 'ana' });
    expect(first).toMatchObject({ digest: v1, changed: true, environment: 'production', mounted: 0, copied: 0 });
    expect(first.previous).toBeUndefined();
    expect(await at('production')).toBe(v1);

    const second = await promoteImage({ source: `${registry.host}/shop/orders@${v2}`, tag: 'production' });
    expect(second).toMatchObject({ digest: v2, previous: v1, changed: true });
    expect(await at('production')).toBe(v2);
    await promoteImage({ source: `${registry.host}/shop/orders:v3`, tag: 'production' });
    expect(await at('production')).toBe(v3);

    const again = await promoteImage({ source: `${registry.host}/shop/orders:v3`, tag: 'production' });
    expect(again.changed).toBe(false);

    const back = await rollbackImage({ repository: `${registry.host}/shop/orders`, environment: 'production', actor: 'slack:U123' });
    expect(back).toEqual({ from: v3, to: v2, tag: 'production', repository: `${registry.host}/shop/orders`, environment: 'production' });
    expect(await at('production')).toBe(v2);
    // the source tags did not move
    expect([await at('v1'), await at('v2'), await at('v3')]).toEqual([v1, v2, v3]);

    const backAgain = await rollbackImage({ repository: `${registry.host}/shop/orders`, environment: 'production' });
    expect(backAgain).toMatchObject({ from: v2, to: v1 });
    expect(await at('production')).toBe(v1);

    await expect(rollbackImage({ repository: `${registry.host}/shop/orders`, environment: 'production' })).rejects.toMatchObject({ code: 'image.no-rollback-target' });
    expect(await at('production')).toBe(v1);

    // the history is a tag of its own next to the images
    expect((await new RegistryClient({ registry: registry.host }).listTags('shop/orders')).sort()).toEqual(['production', 'shipgate-history.production', 'v1', 'v2', 'v3']);
    const history = await readImageHistory({ repository: `${registry.host}/shop/orders`, environment: 'production' });
    expect(history.entries.map((e) => [e.action, e.digest, e.from])).toEqual([
      ['rollback', v1, v2],
      ['rollback', v2, v3],
      ['promote', v3, v2],
      ['promote', v2, v1],
      ['promote', v1, undefined],
    ]);
    expect(history.entries.at(-1)).toMatchObject({ by: 'ana', source: 'shop/orders:v1', tag: 'production' });
    expect(history.entries[1]).toMatchObject({ by: 'slack:U123' });

    // a fresh promote of a rolled-back digest makes it good again
    await promoteImage({ source: `${registry.host}/shop/orders:v3`, tag: 'production' });
    expect(await rollbackImage({ repository: `${registry.host}/shop/orders`, environment: 'production' })).toMatchObject({ from: v3, to: v1 });
    expect(await at('production')).toBe(v1);
    // the pulled image is the one the digest says
    await run('docker', ['pull', '-q', `${registry.host}/shop/orders:production`]);
    local.push(`${registry.host}/shop/orders:production`);
    const { stdout } = await run('docker', ['image', 'inspect', '--format', '{{index .RepoDigests 0}}', `${registry.host}/shop/orders:production`]);
    expect(stdout.trim()).toBe(`${registry.host}/shop/orders@${v1}`);
  });

  it('refuses to move a release tag without force, and moves it with force', async () => {
    await promoteImage({ source: `${registry.host}/shop/orders:v1`, tag: '1.0.0', environment: 'releases' });
    expect(await at('1.0.0')).toBe(v1);
    await expect(promoteImage({ source: `${registry.host}/shop/orders:v2`, tag: '1.0.0', environment: 'releases' })).rejects.toMatchObject({
      code: 'image.immutable-tag',
      message: expect.stringContaining('"1.0.0"'),
    });
    expect(await at('1.0.0')).toBe(v1);
    await promoteImage({ source: `${registry.host}/shop/orders:v2`, tag: '1.0.0', environment: 'releases', force: true });
    expect(await at('1.0.0')).toBe(v2);
  });

  it('promotes into another repository by mounting blobs (no layer copy) and the image pulls from there', async () => {
    const result = await promoteImage({ source: `${registry.host}/shop/orders:v2`, tag: 'staging', repository: 'shop/orders-staging' });
    expect(result).toMatchObject({ digest: v2, repository: `${registry.host}/shop/orders-staging`, copied: 0 });
    expect(result.mounted).toBeGreaterThanOrEqual(2); // config + layers
    expect(await at('staging', 'shop/orders-staging')).toBe(v2);
    await run('docker', ['pull', '-q', `${registry.host}/shop/orders-staging:staging`]);
    local.push(`${registry.host}/shop/orders-staging:staging`);
  });

  it('promotes a multi-platform index into another repository: child manifests by digest, blobs copied when the registry refuses mounts', async () => {
    let proxy: BearerProxy | undefined;
    try {
      const client = new RegistryClient({ registry: registry.host });
      const [m1, m2] = await Promise.all([client.getManifest('shop/orders', v1), client.getManifest('shop/orders', v2)]);
      const index = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
          manifests: [
            { mediaType: m1.mediaType, digest: m1.digest, size: m1.size, platform: { os: 'linux', architecture: 'amd64' } },
            { mediaType: m2.mediaType, digest: m2.digest, size: m2.size, platform: { os: 'linux', architecture: 'arm64' } },
          ],
        }),
      );
      const indexDigest = await client.putManifest('shop/orders', 'multi', index, 'application/vnd.docker.distribution.manifest.list.v2+json');
      proxy = await startBearerProxy(registry.url, { username: 'ci', password: 'pw' }, { refuseMounts: true });
      const result = await promoteImage({ source: `${proxy.host}/shop/orders:multi`, tag: 'production', repository: 'shop/fleet', credentials: { username: 'ci', password: 'pw' } });
      expect(result).toMatchObject({ digest: indexDigest, mounted: 0 });
      expect(result.copied).toBe(6); // per image: its config and two layers
      const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${registry.host}/shop/fleet:production`]);
      expect(sha256Digest(Buffer.from(stdout))).toBe(indexDigest);
      for (const child of [v1, v2]) expect(await inspectDigest(`${registry.host}/shop/fleet@${child}`)).toBe(child);
      await run('docker', ['pull', '-q', `${registry.host}/shop/fleet@${v1}`]);
      local.push(`${registry.host}/shop/fleet@${v1}`);
    } finally {
      await proxy?.stop();
    }
  });

  it('an environment promote is four requests in two rounds; a promote that changes nothing still puts right a tag moved by hand', async () => {
    const calls: string[] = [];
    const counted: FetchFunction = (input, init) => {
      calls.push(`${init?.method ?? 'GET'} ${new URL(input).pathname.split('/').pop()}`);
      return nodeTransport()(input, init);
    };
    const client = new RegistryClient({ registry: registry.host, fetch: counted });
    await promoteImage({ source: `${registry.host}/shop/orders:v1`, tag: 'uat', client });
    calls.length = 0;
    const moved = await promoteImage({ source: `${registry.host}/shop/orders:v2`, tag: 'uat', client });
    expect(moved).toMatchObject({ digest: v2, previous: v1, changed: true });
    expect(calls.sort()).toEqual(['GET shipgate-history.uat', 'GET v2', 'PUT shipgate-history.uat', 'PUT uat']);
    expect(await at('uat')).toBe(v2);

    // someone moves the tag outside shipgate; promoting v2 again puts it back without a new history entry
    await new RegistryClient({ registry: registry.host }).putManifest('shop/orders', 'uat', (await client.getManifest('shop/orders', v3)).bytes, (await client.getManifest('shop/orders', v3)).mediaType);
    expect(await at('uat')).toBe(v3);
    calls.length = 0;
    const again = await promoteImage({ source: `${registry.host}/shop/orders:v2`, tag: 'uat', client });
    expect(again).toMatchObject({ digest: v2, changed: false });
    expect(calls.sort()).toEqual(['GET shipgate-history.uat', 'GET v2', 'PUT uat']);
    expect(await at('uat')).toBe(v2);
    expect((await readImageHistory({ repository: `${registry.host}/shop/orders`, environment: 'uat' })).entries.map((e) => e.digest)).toEqual([v2, v1]);

    // a release tag is asked of the registry (HEAD) so that it cannot move unless forced
    calls.length = 0;
    await promoteImage({ source: `${registry.host}/shop/orders:v1`, tag: '9.9.9', environment: 'uat-releases', client });
    expect(calls).toContain('HEAD 9.9.9');
  });

  it('a long-lived caller reads unchanged manifests with If-None-Match (304, no body), and a history another machine wrote afresh', async () => {
    const calls: Array<{ what: string; ifNoneMatch: string | null; status: number }> = [];
    const transport = nodeTransport();
    const counted: FetchFunction = async (input, init) => {
      const response = await transport(input, init);
      calls.push({ what: `${init?.method ?? 'GET'} ${new URL(input).pathname.split('/').pop()}`, ifNoneMatch: new Headers(init?.headers).get('if-none-match'), status: response.status });
      return response;
    };
    const client = new RegistryClient({ registry: registry.host, fetch: counted });
    await promoteImage({ source: `${registry.host}/shop/orders:v1`, tag: 'cached', client });
    calls.length = 0;
    await promoteImage({ source: `${registry.host}/shop/orders:v2`, tag: 'cached', client });
    await promoteImage({ source: `${registry.host}/shop/orders:v1`, tag: 'cached', client });
    // the history was last written by this process, v1 read by it: both come back as 304
    const reads = calls.filter((c) => c.what.startsWith('GET')).slice(-2);
    expect(reads.map((c) => [c.what, c.status]).sort()).toEqual([
      ['GET shipgate-history.cached', 304],
      ['GET v1', 304],
    ]);
    expect(reads.every((c) => c.ifNoneMatch?.startsWith('"sha256:'))).toBe(true);
    expect(await at('cached')).toBe(v1);

    // another machine promotes v3 (a client of its own, no shared cache): our next read is a 200
    // with its entry, and our promote keeps it
    const other = await run('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${registry.host}/shop/orders:shipgate-history.cached`]);
    const history = JSON.parse(other.stdout) as { annotations: Record<string, string> };
    const recorded = JSON.parse(history.annotations['io.shipgate.history']!) as { entries: Array<Record<string, unknown>> };
    recorded.entries.unshift({ digest: v3, tag: 'cached', action: 'promote', at: new Date().toISOString(), from: v1, by: 'other-machine' });
    history.annotations['io.shipgate.history'] = JSON.stringify(recorded);
    const written = await transport(`${registry.url}/v2/shop/orders/manifests/shipgate-history.cached`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: Buffer.from(JSON.stringify(history)),
    });
    expect(written.status).toBe(201);
    calls.length = 0;
    const result = await promoteImage({ source: `${registry.host}/shop/orders:v2`, tag: 'cached', client });
    expect(calls.find((c) => c.what === 'GET shipgate-history.cached')).toMatchObject({ status: 200 });
    expect(result).toMatchObject({ previous: v3, digest: v2 });
    const entries = (await readImageHistory({ repository: `${registry.host}/shop/orders`, environment: 'cached' })).entries;
    expect(entries.slice(0, 2).map((e) => [e.digest, e.by])).toEqual([
      [v2, undefined],
      [v3, 'other-machine'],
    ]);
  });

  it('errors: a missing image, an unreachable registry, and a cancelled call', async () => {
    await expect(promoteImage({ source: `${registry.host}/shop/orders:nope`, tag: 'production' })).rejects.toMatchObject({ code: 'registry.not-found', exitCode: 3 });
    await expect(
      promoteImage({ source: '127.0.0.1:1/shop/orders:v1', tag: 'production', maxAttempts: 2, timeoutMs: 2000 }),
    ).rejects.toMatchObject({ code: 'registry.unreachable', message: expect.stringContaining('127.0.0.1:1') });
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(rollbackImage({ repository: `${registry.host}/shop/orders`, environment: 'production', signal: controller.signal })).rejects.toThrow('stop');
    await expect(rollbackImage({ repository: `${registry.host}/shop/orders`, environment: 'qa' })).rejects.toMatchObject({ code: 'image.no-history' });
  });

  it('works through a Docker Hub style Bearer token challenge, with one token for the whole promote', async () => {
    let proxy: BearerProxy | undefined;
    try {
      proxy = await startBearerProxy(registry.url, { username: 'ci', password: 's3cret' });
      const host = proxy.host;
      await expect(promoteImage({ source: `${host}/shop/orders:v1`, tag: 'canary' })).rejects.toMatchObject({ code: 'registry.unauthorized' });
      const before = proxy.tokenRequests.length;
      const result = await promoteImage({ source: `${host}/shop/orders:v1`, tag: 'canary', repository: 'shop/canary', credentials: { username: 'ci', password: 's3cret' } });
      expect(result).toMatchObject({ digest: v1, copied: 0 });
      expect(await at('canary', 'shop/canary')).toBe(v1);
      // one token, asked for every scope the promote needs (the source read by the mounts too)
      expect(proxy.tokenRequests.slice(before)).toEqual([{ service: 'proxy.test', scopes: ['repository:shop/canary:pull,push', 'repository:shop/orders:pull'] }]);
      // a client of our own, without declared scopes, earns tokens as the challenges say
      const client = new RegistryClient({ registry: host, credentials: { username: 'ci', password: 's3cret' } });
      expect((await client.headManifest('shop/orders', 'v2'))?.digest).toBe(v2);
      expect(await client.mountBlob('shop/other', (await client.getManifest('shop/orders', 'v2')).json.config!.digest, 'shop/orders')).toBe(true);
      const back = await rollbackImage({ repository: `${host}/shop/canary`, environment: 'canary', credentials: { username: 'ci', password: 'wrong' } }).catch((e: unknown) => e);
      expect(back).toMatchObject({ code: 'registry.unauthorized' });
    } finally {
      await proxy?.stop();
    }
  });

  it('the image step builds from a Dockerfile (buildx if present, else docker build), labels the image and pushes every tag', async () => {
    const context = path.join(workspace, 'app');
    mkdirSync(context, { recursive: true });
    writeFileSync(path.join(context, 'hello.txt'), `hello ${Date.now()}\n`);
    writeFileSync(path.join(context, 'Dockerfile'), 'FROM scratch\nARG GREETING\nCOPY hello.txt /hello.txt\n');
    const result = await runStepInProcess(
      imageStep,
      { command: 'push', image: `${registry.host}/shop/built`, context: 'app', tags: 'type=semver,pattern={{version}}\ntype=semver,pattern={{major}}.{{minor}}', 'build-args': 'GREETING=hi', labels: 'team=payments' },
      { cwd: workspace, ci: { provider: 'github', tag: 'v4.5.6', sha: 'fedcba9876543210fedcba9876543210fedcba98', repository: 'acme/built' } },
    );
    expect(result.error).toBeUndefined();
    const tags = result.outputs.tags!.split('\n');
    expect(tags).toEqual([`${registry.host}/shop/built:4.5.6`, `${registry.host}/shop/built:4.5`, `${registry.host}/shop/built:latest`]);
    local.push(...tags);
    const digest = result.outputs.digest!;
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    for (const tag of ['4.5.6', '4.5', 'latest']) expect(await at(tag, 'shop/built')).toBe(digest);
    const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.host}/shop/built:4.5.6`]);
    expect((JSON.parse(stdout) as { Labels: Record<string, string> }).Labels).toMatchObject({ team: 'payments', 'org.opencontainers.image.version': '4.5.6', 'org.opencontainers.image.revision': 'fedcba9876543210fedcba9876543210fedcba98', 'org.opencontainers.image.source': 'https://github.com/acme/built' });
    expect(result.summaries.join('\n')).toContain(`| \`${registry.host}/shop/built:4.5\` | \`${digest}\` |`);

    const failed = await runStepInProcess(imageStep, { command: 'push', image: `${registry.host}/shop/built`, context: 'missing-dir', tags: 'type=raw,value=x', builder: 'docker' }, { cwd: workspace });
    expect(failed.error).toMatchObject({ code: 'image.docker-failed' });
  });

  it('push with ecr-login: GetAuthorizationToken, then docker login --password-stdin, then the push; the password never shows', async () => {
    const password = 'ecr-token-9f8e7d6c5b4a';
    const ecr = mockClient(ECRClient);
    const dockerConfig = mkdtempSync(path.join(os.tmpdir(), 'sg-docker-config-'));
    try {
      ecr.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [{ authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'), proxyEndpoint: `http://${registry.host}` }] });
      const result = await runStepInProcess(
        imageStep,
        { command: 'push', image: `${registry.host}/shop/ecr`, 'source-image': `${registry.host}/shop/orders:v1`, tags: 'type=raw,value=prod', 'ecr-login': true, 'aws-region': 'eu-west-1' },
        { cwd: workspace, env: { ...process.env, DOCKER_CONFIG: dockerConfig } },
      );
      expect(result.error).toBeUndefined();
      expect(result.outputs.digest).toBe(v1);
      local.push(`${registry.host}/shop/ecr:prod`);
      const config = JSON.parse(readFileSync(path.join(dockerConfig, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
      expect(Buffer.from(config.auths[registry.host]!.auth, 'base64').toString()).toBe(`AWS:${password}`);
      expect(JSON.stringify(result)).not.toContain(password);
      expect(result.logs).toContain(`logged in to ${registry.host}`);
    } finally {
      ecr.restore();
      rmSync(dockerConfig, { recursive: true, force: true });
    }
  });

  it('the image step pushes a locally built image with computed tags, then promotes and rolls back; the CLI does the same', async () => {
    const sourceImage = `${registry.host}/shop/orders:v3`;
    const pushed = await runStepInProcess(
      imageStep,
      { command: 'push', image: `${registry.host}/shop/api`, 'source-image': sourceImage, builder: 'docker', tags: 'type=ref,event=branch\ntype=sha' },
      { cwd: workspace, ci: { provider: 'github', branch: 'main', defaultBranch: 'main', sha: '0123456789abcdef0123456789abcdef01234567', repository: 'acme/api' } },
    );
    expect(pushed.error).toBeUndefined();
    expect(pushed.status).toBe('success');
    expect(pushed.outputs.tags!.split('\n')).toEqual([`${registry.host}/shop/api:main`, `${registry.host}/shop/api:sha-0123456`, `${registry.host}/shop/api:latest`]);
    expect(pushed.outputs.labels).toContain('org.opencontainers.image.source=https://github.com/acme/api');
    expect(pushed.outputs.digest).toBe(v3);
    local.push(...pushed.outputs.tags!.split('\n'));
    expect(await at('sha-0123456', 'shop/api')).toBe(v3);
    expect(pushed.summaries.join('\n')).toContain(`| \`${registry.host}/shop/api:main\` | \`${v3}\` |`);

    const promoted = await runStepInProcess(imageStep, { command: 'promote', image: `${registry.host}/shop/orders:v2`, tag: 'prod', repository: 'shop/api' }, { cwd: workspace });
    expect(promoted.status).toBe('success');
    expect(promoted.outputs).toMatchObject({ digest: v2, tags: `${registry.host}/shop/api:prod` });
    await runStepInProcess(imageStep, { command: 'promote', image: `${registry.host}/shop/api:main`, tag: 'prod' }, { cwd: workspace });
    expect(await at('prod', 'shop/api')).toBe(v3);

    const cliBack = await cli(['image', 'rollback', `${registry.host}/shop/api`, '--env', 'prod', '--json'], workspace);
    expect(cliBack.err).toBe('');
    expect(cliBack.code).toBe(0);
    expect(JSON.parse(cliBack.out)).toMatchObject({ from: v3, to: v2, tag: 'prod' });
    expect(await at('prod', 'shop/api')).toBe(v2);

    const cliHistory = await cli(['image', 'history', `${registry.host}/shop/api`, '--env', 'prod', '--json'], workspace);
    expect(JSON.parse(cliHistory.out).map((e: { digest: string }) => e.digest)).toEqual([v2, v3, v2]);

    const created = await cli(['image', 'promote', `${registry.host}/shop/orders:v1`, '--tag', '2.0.0'], workspace);
    expect(created).toMatchObject({ code: 0, out: `${registry.host}/shop/orders:2.0.0 → ${v1}\n` });
    const moved = await cli(['image', 'promote', `${registry.host}/shop/orders:v2`, '--tag', '2.0.0'], workspace);
    expect(moved.code).toBe(2);
    expect(moved.err).toContain('[image.immutable-tag]');
    expect(moved.err).not.toMatch(/\n\s+at /);
    expect(await at('2.0.0')).toBe(v1);
  });
});

// The registry client's edges against a loopback HTTP server that answers as registries do:
// references, challenges, Basic auth (the ECR way), retries on 5xx / 429, timeouts, 403 / 404
// as people-readable errors, and the caller's AbortSignal.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mergeScopes, parseAuthChallenge, tokenUrl } from '../../src/oci/auth.js';
import { RegistryClient, sha256Digest } from '../../src/oci/client.js';
import { apiHost, isLoopbackRegistry, parseImageReference } from '../../src/oci/reference.js';

describe('image references', () => {
  it.each([
    ['alpine', { registry: 'docker.io', repository: 'library/alpine' }],
    ['acme/orders:1.2', { registry: 'docker.io', repository: 'acme/orders', tag: '1.2' }],
    ['127.0.0.1:5000/shop/orders:v1', { registry: '127.0.0.1:5000', repository: 'shop/orders', tag: 'v1' }],
    ['localhost/x@sha256:' + 'a'.repeat(64), { registry: 'localhost', repository: 'x', digest: 'sha256:' + 'a'.repeat(64) }],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders', { registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', repository: 'orders' }],
  ])('%s', (text, expected) => {
    expect(parseImageReference(text)).toEqual(expected);
  });

  it.each([['Orders:1'], ['x:bad tag'], ['x@sha256:abc'], ['']])('rejects %j', (text) => {
    expect(() => parseImageReference(text)).toThrow(expect.objectContaining({ code: 'image.bad-reference' }));
  });

  it('requireVersion', () => {
    expect(() => parseImageReference('a.example/x', { requireVersion: true })).toThrow(expect.objectContaining({ message: expect.stringContaining('no tag or digest') }));
  });

  it('loopback and API hosts', () => {
    expect(['127.0.0.1:5000', 'localhost:1', '[::1]:5000', '127.9.9.9'].map(isLoopbackRegistry)).toEqual([true, true, true, true]);
    expect(['10.0.0.1:5000', 'ghcr.io', '127.0.0.1.example.com'].map(isLoopbackRegistry)).toEqual([false, false, false]);
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
  });
});

describe('auth challenges and scopes', () => {
  it('parses Bearer and Basic challenges, quoted commas included', () => {
    expect(parseAuthChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push"')).toEqual({
      scheme: 'bearer',
      realm: 'https://auth.docker.io/token',
      service: 'registry.docker.io',
      scope: 'repository:a/b:pull,push',
    });
    expect(parseAuthChallenge('Basic realm="https://1.dkr.ecr.eu-west-1.amazonaws.com/",service="ecr.amazonaws.com"')).toMatchObject({ scheme: 'basic' });
    expect(parseAuthChallenge(undefined)).toBeUndefined();
  });

  it('merges scopes per repository into one sorted list', () => {
    expect(mergeScopes(['repository:b:pull', 'repository:a:push', 'repository:a:pull', 'repository:b:pull repository:c:pull'])).toEqual(['repository:a:pull,push', 'repository:b:pull', 'repository:c:pull']);
    expect(tokenUrl({ scheme: 'bearer', realm: 'https://auth.example/token', service: 'reg' }, ['repository:a:pull'])).toBe('https://auth.example/token?service=reg&scope=repository%3Aa%3Apull');
  });
});

describe('RegistryClient against a loopback server', () => {
  let server: Server;
  let host = '';
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'x', digest: 'sha256:' + 'c'.repeat(64), size: 2 }, layers: [] }));
  const digest = sha256Digest(manifest);
  const hits: Record<string, number> = {};
  const seen: Array<{ path: string; authorization?: string; ifNoneMatch?: string }> = [];
  let goneNow = false;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = req.url ?? '';
      hits[path] = (hits[path] ?? 0) + 1;
      seen.push({ path, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}), ...(req.headers['if-none-match'] ? { ifNoneMatch: req.headers['if-none-match'] } : {}) });
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (path.startsWith('/v2/ecr/')) {
        // ECR: Basic, user AWS
        if (req.headers.authorization !== `Basic ${Buffer.from('AWS:pw').toString('base64')}`) return json(401, { errors: [{ code: 'DENIED', message: 'Not Authorized' }] }, { 'www-authenticate': 'Basic realm="https://x/",service="ecr.amazonaws.com"' });
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': digest });
        return res.end(req.method === 'HEAD' ? undefined : manifest);
      }
      if (path === '/v2/flaky/manifests/v1') {
        if (hits[path]! < 3) return json(hits[path] === 1 ? 503 : 429, { errors: [{ code: 'UNAVAILABLE', message: 'try later' }] });
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
        return res.end(manifest);
      }
      if (path === '/v2/etag/manifests/v1' || path === '/v2/etag/manifests/gone') {
        // a registry with ETags of its own making; "gone" disappears once goneNow is set
        if (path.endsWith('/gone') && goneNow) return json(404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
        if (req.headers['if-none-match'] === '"their-etag"') {
          res.writeHead(304, { etag: '"their-etag"' });
          return res.end();
        }
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', etag: '"their-etag"' });
        return res.end(manifest);
      }
      if (path === '/v2/bogus304/manifests/v1') {
        res.writeHead(304);
        return res.end();
      }
      if (path === '/v2/down/manifests/v1') return json(500, { errors: [{ code: 'UNKNOWN', message: 'disk full' }] });
      if (path === '/v2/slow/manifests/v1') return void setTimeout(() => json(200, {}), 3000);
      if (path === '/v2/secret/manifests/v1') return json(403, { errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] });
      if (path === '/v2/liar/manifests/' + digest) {
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
        return res.end('{"schemaVersion":2,"layers":[]}');
      }
      json(404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const client = (extra: Partial<ConstructorParameters<typeof RegistryClient>[0]> = {}) => new RegistryClient({ registry: host, initialDelayMs: 10, ...extra });

  it('uses plain HTTP on loopback', () => {
    expect(client().baseUrl).toBe(`http://${host}`);
    expect(new RegistryClient({ registry: 'registry.example.com' }).baseUrl).toBe('https://registry.example.com');
    expect(new RegistryClient({ registry: 'registry.example.com:5000', insecure: true }).baseUrl).toBe('http://registry.example.com:5000');
  });

  it('Basic auth the ECR way: the challenge is learned, the password sent, the digest read', async () => {
    const c = client({ credentials: { username: 'AWS', password: 'pw' } });
    expect(await c.headManifest('ecr', 'v1')).toMatchObject({ digest });
    const got = await c.getManifest('ecr', 'v1');
    expect(got.digest).toBe(digest);
    expect(got.bytes.equals(manifest)).toBe(true);
    await expect(client({ credentials: { username: 'AWS', password: 'nope' } }).getManifest('ecr', 'v1')).rejects.toMatchObject({ code: 'registry.unauthorized', exitCode: 3 });
    await expect(client().getManifest('ecr', 'v1')).rejects.toMatchObject({ code: 'registry.unauthorized', message: expect.stringContaining('Not Authorized') });
  });

  it('retries 503 and 429 with back-off, then succeeds', async () => {
    const got = await client().getManifest('flaky', 'v1');
    expect(got.digest).toBe(digest);
    expect(hits['/v2/flaky/manifests/v1']).toBe(3);
  });

  it('gives up after the attempts with the registry’s message', async () => {
    await expect(client({ maxAttempts: 2 }).getManifest('down', 'v1')).rejects.toMatchObject({ code: 'registry.error', message: expect.stringContaining('disk full') });
    expect(hits['/v2/down/manifests/v1']).toBe(2);
  });

  it('403 and 404 are named', async () => {
    await expect(client().getManifest('secret', 'v1')).rejects.toMatchObject({ code: 'registry.forbidden', hint: expect.stringContaining('permission') });
    await expect(client().getManifest('missing', 'v1')).rejects.toMatchObject({ code: 'registry.not-found', message: expect.stringContaining(`${host}/missing:v1 does not exist`) });
    expect(await client().headManifest('missing', 'v1')).toBeUndefined();
  });

  it('a manifest whose bytes do not match the digest asked for is refused', async () => {
    await expect(client().getManifest('liar', digest)).rejects.toMatchObject({ code: 'registry.digest-mismatch' });
  });

  it('times out each attempt, and reports an unreachable registry', async () => {
    const started = Date.now();
    await expect(client({ timeoutMs: 200, maxAttempts: 2 }).getManifest('slow', 'v1')).rejects.toMatchObject({ code: 'registry.unreachable', message: expect.stringContaining('no answer within 200 ms') });
    expect(Date.now() - started).toBeLessThan(2500);
    await expect(new RegistryClient({ registry: '127.0.0.1:1', maxAttempts: 1 }).getManifest('x', 'v1')).rejects.toMatchObject({ code: 'registry.unreachable', hint: expect.stringContaining('running') });
  });

  it('the caller’s AbortSignal ends a request at once, without retries', async () => {
    const controller = new AbortController();
    const pending = client({ timeoutMs: 10_000 }).getManifest('slow', 'v1', { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('run cancelled')), 50);
    const started = Date.now();
    await expect(pending).rejects.toThrow('run cancelled');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('asks again for a manifest it has seen with the ETag the registry gave; a 304 returns the same bytes, a 404 forgets it', async () => {
    seen.length = 0;
    const first = await client().getManifest('etag', 'v1');
    // another client of the same process: the cache is per process, as the connections are
    const second = await client().getManifest('etag', 'v1');
    expect(second.bytes.equals(manifest)).toBe(true);
    expect(second.digest).toBe(first.digest);
    expect(seen.map((s) => s.ifNoneMatch)).toEqual([undefined, '"their-etag"']);

    seen.length = 0;
    goneNow = false;
    await client().getManifest('etag', 'gone');
    goneNow = true;
    expect(await client().findManifest('etag', 'gone')).toBeUndefined();
    goneNow = false;
    await client().getManifest('etag', 'gone');
    // after the 404 the next read is not conditional: nothing stale is offered back
    expect(seen.map((s) => s.ifNoneMatch)).toEqual([undefined, '"their-etag"', undefined]);
  });

  it('a 304 to a request that was not conditional is a protocol error, not an empty manifest', async () => {
    await expect(client().getManifest('bogus304', 'v1')).rejects.toMatchObject({ code: 'registry.protocol', message: expect.stringContaining('304') });
  });

  it('keeps sending Basic credentials once the registry asked for them (no 401 round trip per request)', async () => {
    seen.length = 0;
    const c = client({ credentials: { username: 'AWS', password: 'pw' } });
    await c.getManifest('ecr', 'v1');
    await c.headManifest('ecr', 'v2');
    expect(seen.map((s) => s.authorization !== undefined)).toEqual([true, true]);
  });
});

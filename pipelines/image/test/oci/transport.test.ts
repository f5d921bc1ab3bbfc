// The registry client's default transport (node:http on keep-alive agents, fetch-shaped) against
// loopback servers: connections are reused after HEAD as after GET, redirects are followed with the
// credentials kept on the registry's origin only, bodies are buffered or streamed, and an aborted
// request rejects with the signal's reason as fetch does.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { nodeTransport } from '../../src/oci/transport.js';
import { RegistryClient, sha256Digest } from '../../src/oci/client.js';
import { closeServer, listenOnLoopback } from '../../../test/helpers.js';

describe('nodeTransport', () => {
  let registry: Server;
  let storage: Server;
  let registryUrl = '';
  let storageUrl = '';
  const connections = { registry: 0, storage: 0 };
  const storageSaw: Array<string | undefined> = [];
  const big = Buffer.alloc(3 * 1024 * 1024, 7);
  const manifest = Buffer.from('{"schemaVersion":2,"layers":[]}');

  beforeAll(async () => {
    registry = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = req.url ?? '';
      if (url === '/v2/app/manifests/v1') {
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': manifest.length, 'docker-content-digest': sha256Digest(manifest) });
        return res.end(req.method === 'HEAD' ? undefined : manifest);
      }
      if (url === '/v2/app/blobs/big') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': big.length });
        return res.end(big);
      }
      if (url === '/v2/app/blobs/elsewhere') {
        res.writeHead(307, { location: `${storageUrl}/bucket/blob` });
        return res.end();
      }
      if (url === '/v2/app/blobs/here') {
        res.writeHead(302, { location: '/v2/app/manifests/v1' });
        return res.end();
      }
      if (url === '/v2/app/blobs/loop') {
        res.writeHead(302, { location: '/v2/app/blobs/loop' });
        return res.end();
      }
      if (url === '/v2/app/manifests/put' && req.method === 'PUT') {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          res.writeHead(201, { 'docker-content-digest': sha256Digest(Buffer.concat(chunks)), 'content-length': 0 });
          res.end();
        });
        return;
      }
      if (url === '/v2/slow') return void setTimeout(() => res.end('late'), 2000);
      if (url === '/v2/nothing') {
        res.writeHead(204);
        return res.end();
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"NOT_FOUND"}]}');
    });
    registry.on('connection', () => (connections.registry += 1));
    storage = createServer((req, res) => {
      storageSaw.push(req.headers.authorization);
      res.end('blob bytes');
    });
    storage.on('connection', () => (connections.storage += 1));
    registryUrl = await listenOnLoopback(registry);
    storageUrl = await listenOnLoopback(storage);
  });
  afterAll(async () => {
    await closeServer(registry);
    await closeServer(storage);
  });

  it('reuses one keep-alive connection across HEAD, GET and PUT', async () => {
    const transport = nodeTransport();
    const before = connections.registry;
    for (let i = 0; i < 5; i += 1) {
      const head = await transport(`${registryUrl}/v2/app/manifests/v1`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.body).toBeNull();
      expect(head.headers.get('docker-content-digest')).toBe(sha256Digest(manifest));
      const get = await transport(`${registryUrl}/v2/app/manifests/v1`, { method: 'GET' });
      expect(Buffer.from(await get.arrayBuffer()).equals(manifest)).toBe(true);
      const put = await transport(`${registryUrl}/v2/app/manifests/put`, { method: 'PUT', body: manifest, headers: { 'content-type': 'application/json' } });
      expect(put.status).toBe(201);
      expect(put.headers.get('docker-content-digest')).toBe(sha256Digest(manifest));
    }
    expect(connections.registry - before).toBe(1);
  });

  it('streams a large body and sends a streamed request body', async () => {
    const transport = nodeTransport();
    const response = await transport(`${registryUrl}/v2/app/blobs/big`, { method: 'GET' });
    let size = 0;
    for await (const chunk of response.body!) size += chunk.length;
    expect(size).toBe(big.length);
    const stream = new Blob([manifest]).stream();
    const put = await transport(`${registryUrl}/v2/app/manifests/put`, { method: 'PUT', body: stream, headers: { 'content-length': String(manifest.length) }, duplex: 'half' } as RequestInit);
    expect(put.headers.get('docker-content-digest')).toBe(sha256Digest(manifest));
  });

  it('follows redirects: credentials go along on the same origin and are dropped for another', async () => {
    const transport = nodeTransport();
    const same = await transport(`${registryUrl}/v2/app/blobs/here`, { method: 'GET', headers: { authorization: 'Bearer registry-token' } });
    expect(Buffer.from(await same.arrayBuffer()).equals(manifest)).toBe(true);
    expect(same.url).toBe(`${registryUrl}/v2/app/manifests/v1`);
    const away = await transport(`${registryUrl}/v2/app/blobs/elsewhere`, { method: 'GET', headers: { authorization: 'Bearer registry-token' } });
    expect(await away.text()).toBe('blob bytes');
    expect(storageSaw).toEqual([undefined]);
    await expect(transport(`${registryUrl}/v2/app/blobs/loop`, { method: 'GET' })).rejects.toThrow(/more than 5 redirects/);
  });

  it('an aborted request rejects with the signal’s reason, a timeout as TimeoutError', async () => {
    const transport = nodeTransport();
    const error = await transport(`${registryUrl}/v2/slow`, { method: 'GET', signal: AbortSignal.timeout(100) }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('TimeoutError');
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stop now')), 50);
    await expect(transport(`${registryUrl}/v2/slow`, { method: 'GET', signal: controller.signal })).rejects.toThrow('stop now');
  });

  it('204 has no body; 404 keeps its error body; an unknown protocol is refused', async () => {
    const transport = nodeTransport();
    expect((await transport(`${registryUrl}/v2/nothing`, { method: 'GET' })).body).toBeNull();
    const missing = await transport(`${registryUrl}/v2/none`, { method: 'GET' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ errors: [{ code: 'NOT_FOUND' }] });
    await expect(transport('ftp://127.0.0.1/x', { method: 'GET' })).rejects.toThrow(/unsupported protocol/);
  });

  it('is what RegistryClient uses by default: HEAD then GET on one connection', async () => {
    const client = new RegistryClient({ registry: registryUrl.replace('http://', '') });
    const before = connections.registry;
    const head = await client.headManifest('app', 'v1');
    const got = await client.getManifest('app', 'v1');
    const again = await client.headManifest('app', 'v1');
    expect(head?.digest).toBe(got.digest);
    expect(again?.digest).toBe(got.digest);
    // the shared default transport may already hold a warm connection from an earlier test
    expect(connections.registry - before).toBeLessThanOrEqual(1);
  });
});

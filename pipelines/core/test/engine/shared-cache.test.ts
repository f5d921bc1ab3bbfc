// The shared cache: a fresh clone (empty .shipgate/) gets the hits of another workspace through a
// folder (file://) or a real S3-compatible server (s3rver on 127.0.0.1, started here), with every
// file verified by sha256; a corrupt pack runs the step; a store that never answers costs one
// warning and a bounded delay, never the run.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import S3rver from 's3rver';
import { parsePipeline } from '../../src/config/index.js';
import { planPipeline } from '../../src/plan/plan.js';
import { runPipeline, type RunResult } from '../../src/scheduler/run-pipeline.js';
import { fillsLocally } from '../../src/cache/step-cache.js';
import type { RunEvent } from '../../src/scheduler/events.js';
import { defaultRegistry } from '../../../cli/src/cli/steps.js';

const dirs: string[] = [];
const tmp = (prefix: string): string => {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const yaml = [
  'name: p',
  'steps:',
  '  build:',
  '    run: |',
  '      echo ran >> build-runs',
  '      mkdir -p dist/bin dist/empty',
  '      cp src/a.txt dist/out.txt',
  '      head -c 300000 /dev/urandom > dist/blob.bin',
  '      printf "#!/bin/sh\\necho hi\\n" > dist/bin/tool && chmod 755 dist/bin/tool',
  '      ln -sf bin/tool dist/tool-link',
  '      : > dist/zero-length',
  '      echo "v=42" >> "$SHIPGATE_OUTPUT"',
  '    outputs: [v]',
  '    cache: { inputs: ["src/**"], outputs: ["dist/**"] }',
  '  check:',
  '    needs: [build]',
  '    run: test "$(cat dist/out.txt)" = alpha && test "${{ steps.build.outputs.v }}" = 42 && dist/tool-link > said',
].join('\n');

/** A checkout of the same sources: nothing under .shipgate/ and no outputs. */
function clone(): string {
  const dir = tmp('sg-clone-');
  mkdirSync(path.join(dir, 'src'));
  writeFileSync(path.join(dir, 'src/a.txt'), 'alpha');
  writeFileSync(path.join(dir, 'shipgate.yml'), yaml);
  return dir;
}

async function run(dir: string, env: Record<string, string>, text = yaml): Promise<RunResult & { logs: string[]; ms: number }> {
  const registry = defaultRegistry();
  const spec = parsePipeline(text, path.join(dir, 'shipgate.yml'), { registry });
  const events: RunEvent[] = [];
  const t0 = performance.now();
  const result = await runPipeline(planPipeline(spec), { registry, stateDir: path.join(dir, '.shipgate'), maxParallel: 2, env: { PATH: process.env.PATH, ...env }, onEvent: (e) => events.push(e) });
  const logs = events.flatMap((e) => (e.type === 'step-log' ? [e.line] : e.type === 'step-end' && e.reason ? [e.reason] : []));
  return { ...result, logs, ms: performance.now() - t0 };
}

const outcome = (r: RunResult, id: string) => r.invocations[id]?.outcome;

function expectRestored(first: string, second: string): void {
  for (const file of ['dist/out.txt', 'dist/blob.bin', 'dist/bin/tool', 'dist/zero-length']) {
    expect(readFileSync(path.join(second, file)).equals(readFileSync(path.join(first, file)))).toBe(true);
  }
  expect(statSync(path.join(second, 'dist/bin/tool')).mode & 0o777).toBe(0o755);
  expect(readlinkSync(path.join(second, 'dist/tool-link'))).toBe('bin/tool');
  expect(statSync(path.join(second, 'dist/empty')).isDirectory()).toBe(true);
  expect(readFileSync(path.join(second, 'said'), 'utf8').trim()).toBe('hi');
}

describe('shared cache: file://', () => {
  it('a fresh clone gets a hit from the shared folder, with every file restored', async () => {
    const store = tmp('sg-store-');
    const env = { SHIPGATE_CACHE_URL: pathToFileURL(store).href };
    const first = clone();
    expect(outcome(await run(first, env), 'build')).toBe('success');
    expect(readdirSync(path.join(store, 'packs'))).toHaveLength(1);

    const second = clone();
    const hit = await run(second, env);
    expect(outcome(hit, 'build')).toBe('cached');
    expect(outcome(hit, 'check')).toBe('success');
    expect(hit.logs.join('\n')).toMatch(/\(shared cache\); 5 output files restored/);
    expect(() => readFileSync(path.join(second, 'build-runs'))).toThrow(); // the step never ran there
    expectRestored(first, second);
  });

  it('on CI a shared hit is not copied into the local store, unless SHIPGATE_CACHE_LOCAL_FILL=always', async () => {
    const store = tmp('sg-store-');
    const env = { SHIPGATE_CACHE_URL: pathToFileURL(store).href };
    await run(clone(), env);
    const onCi = clone();
    expect(outcome(await run(onCi, { ...env, CI: 'true' }), 'build')).toBe('cached');
    expect(existsSync(path.join(onCi, '.shipgate', 'cache', 'build'))).toBe(false); // no local entry
    expect(existsSync(path.join(onCi, '.shipgate', 'objects')) ? readdirSync(path.join(onCi, '.shipgate', 'objects')) : []).toEqual([]);
    const kept = clone();
    expect(outcome(await run(kept, { ...env, CI: 'true', SHIPGATE_CACHE_LOCAL_FILL: 'always' }), 'build')).toBe('cached');
    expect(readdirSync(path.join(kept, '.shipgate', 'cache', 'build'))).toHaveLength(1);
    expect(fillsLocally({})).toBe(true);
    expect(fillsLocally({ CI: 'true' })).toBe(false);
    expect(fillsLocally({ CI: 'true', SHIPGATE_CACHE_LOCAL_FILL: 'always' })).toBe(true);
    expect(fillsLocally({ SHIPGATE_CACHE_LOCAL_FILL: 'never' })).toBe(false);
    expect(() => fillsLocally({ SHIPGATE_CACHE_LOCAL_FILL: 'sometimes' })).toThrow(/SHIPGATE_CACHE_LOCAL_FILL is "sometimes"/);
  });

  it('cache-url: in shipgate.yml names the store; $SHIPGATE_CACHE_URL wins over it', async () => {
    const inFile = tmp('sg-store-');
    const inEnv = tmp('sg-store-');
    const withUrl = yaml.replace('name: p', `name: p\ncache-url: ${pathToFileURL(inFile).href}`);
    await run(clone(), {}, withUrl);
    expect(readdirSync(path.join(inFile, 'entries'))).toEqual(['build']);
    await run(clone(), { SHIPGATE_CACHE_URL: pathToFileURL(inEnv).href }, withUrl.replace('echo ran', 'echo ran again'));
    expect(readdirSync(path.join(inEnv, 'entries'))).toEqual(['build']);
    expect(readdirSync(path.join(inFile, 'entries', 'build'))).toHaveLength(1);
  });

  it('SHIPGATE_CACHE_READONLY=1 reads hits but never uploads', async () => {
    const store = tmp('sg-store-');
    const url = pathToFileURL(store).href;
    await run(clone(), { SHIPGATE_CACHE_URL: url, SHIPGATE_CACHE_READONLY: '1' });
    expect(() => readdirSync(path.join(store, 'entries'))).toThrow(); // nothing written
    await run(clone(), { SHIPGATE_CACHE_URL: url });
    const reader = clone();
    const hit = await run(reader, { SHIPGATE_CACHE_URL: url, SHIPGATE_CACHE_READONLY: '1' });
    expect(outcome(hit, 'build')).toBe('cached');
  });

  it('a remote hit writes the files straight into the workspace, then keeps them in the local store (entry last)', async () => {
    const store = tmp('sg-store-');
    const env = { SHIPGATE_CACHE_URL: pathToFileURL(store).href };
    const first = clone();
    await run(first, env);

    const second = clone();
    const hit = await run(second, env);
    expect(outcome(hit, 'build')).toBe('cached');
    expectRestored(first, second);
    expect(readdirSync(path.join(second, 'dist')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // the fill ran after the step: the local entry is there (without the pack's name), its objects too
    const entries = readdirSync(path.join(second, '.shipgate/cache/build'));
    expect(entries).toHaveLength(1);
    const local = JSON.parse(readFileSync(path.join(second, '.shipgate/cache/build', entries[0]!), 'utf8')) as { pack?: unknown; stored: { type: string; sha256?: string }[] };
    expect(local.pack).toBeUndefined();
    for (const s of local.stored.filter((x) => x.type === 'file')) {
      const object = path.join(second, '.shipgate/objects', s.sha256!.slice(0, 2), s.sha256!);
      expect(statSync(object).mode & 0o777).toBe(0o444);
    }
    // so the next hit needs no shared store at all
    rmSync(path.join(second, 'dist'), { recursive: true });
    const local2 = await run(second, {});
    expect(outcome(local2, 'build')).toBe('cached');
    expect(local2.logs.join('\n')).not.toContain('shared cache');
    expectRestored(first, second);
  });

  it('a remote hit handles large files (streamed), equal contents at several paths, and stale files in the way', async () => {
    const big = yaml.replace(
      "      : > dist/zero-length\n",
      [
        '      : > dist/zero-length',
        '      head -c 5000000 /dev/urandom > dist/large.bin && cp dist/large.bin dist/large-copy.bin && chmod 600 dist/large-copy.bin',
        '      cp dist/out.txt dist/same-as-out.txt && cp dist/zero-length dist/also-empty',
        '',
      ].join('\n'),
    );
    const store = tmp('sg-store-');
    const env = { SHIPGATE_CACHE_URL: pathToFileURL(store).href };
    const first = clone();
    writeFileSync(path.join(first, 'shipgate.yml'), big);
    expect(outcome(await run(first, env, big), 'build')).toBe('success');

    const second = clone();
    writeFileSync(path.join(second, 'shipgate.yml'), big);
    // stale state a restore must replace: a wrong file, a link that leads out, a folder where a file goes
    mkdirSync(path.join(second, 'dist/large.bin'), { recursive: true });
    writeFileSync(path.join(second, 'dist/out.txt'), 'stale');
    const outside = tmp('sg-outside-');
    writeFileSync(path.join(outside, 'victim'), 'keep me');
    symlinkSync(path.join(outside, 'victim'), path.join(second, 'dist/same-as-out.txt'));
    const hit = await run(second, env, big);
    expect(outcome(hit, 'build')).toBe('cached');
    expectRestored(first, second);
    for (const file of ['dist/large.bin', 'dist/large-copy.bin', 'dist/same-as-out.txt', 'dist/also-empty', 'dist/out.txt']) {
      expect(lstatSync(path.join(second, file)).isFile()).toBe(true);
      expect(readFileSync(path.join(second, file)).equals(readFileSync(path.join(first, file)))).toBe(true);
      expect(statSync(path.join(second, file)).mode & 0o777).toBe(statSync(path.join(first, file)).mode & 0o777);
      expect(Math.abs(statSync(path.join(second, file)).mtimeMs - statSync(path.join(first, file)).mtimeMs)).toBeLessThan(1);
    }
    expect(readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('keep me');
    expect(readdirSync(path.join(second, 'dist')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a pack whose bytes do not match their sha256 is not used: the step runs, and the log says why', async () => {
    const store = tmp('sg-store-');
    const env = { SHIPGATE_CACHE_URL: pathToFileURL(store).href };
    await run(clone(), env);
    const pack = path.join(store, 'packs', readdirSync(path.join(store, 'packs'))[0]!);
    const bytes = readFileSync(pack);
    bytes[10] = bytes[10]! ^ 0xff;
    writeFileSync(pack, bytes);

    const second = clone();
    const r = await run(second, env);
    expect(outcome(r, 'build')).toBe('success');
    expect(outcome(r, 'check')).toBe('success');
    expect(r.logs.join('\n')).toMatch(/shared cache entry of build is unusable \(a file of the pack does not match its sha256/);
    // the step's own success is what the local cache keeps, the workspace holds the step's files and no half-written one
    expect(readFileSync(path.join(second, 'build-runs'), 'utf8')).toBe('ran\n');
    expect(readFileSync(path.join(second, 'dist/out.txt'), 'utf8')).toBe('alpha');
    expect(readdirSync(path.join(second, 'dist')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a corrupt large file in the pack (streamed to a temporary file) runs the step and leaves no temporary file', async () => {
    const big = yaml.replace("      : > dist/zero-length\n", "      : > dist/zero-length\n      head -c 6000000 /dev/urandom > dist/a-large.bin\n");
    const store = tmp('sg-store-');
    const env = { SHIPGATE_CACHE_URL: pathToFileURL(store).href };
    await run(clone(), env, big);
    const pack = path.join(store, 'packs', readdirSync(path.join(store, 'packs'))[0]!);
    const bytes = readFileSync(pack);
    bytes[3_000_000] = bytes[3_000_000]! ^ 0xff; // inside the large file, the first in path order
    writeFileSync(pack, bytes);

    const second = clone();
    const r = await run(second, env, big);
    expect(outcome(r, 'build')).toBe('success');
    expect(r.logs.join('\n')).toMatch(/shared cache entry of build is unusable \(a file of the pack does not match its sha256/);
    expect(readdirSync(path.join(second, 'dist')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(statSync(path.join(second, 'dist/a-large.bin')).size).toBe(6_000_000);
  });
});

describe('shared cache: S3 (s3rver on 127.0.0.1)', () => {
  let server: S3rver;
  let endpoint: string;
  let s3Dir: string;
  beforeAll(async () => {
    s3Dir = mkdtempSync(path.join(os.tmpdir(), 'sg-s3rver-'));
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3Dir, configureBuckets: [{ name: 'ci-cache', configs: [] }] });
    const address = await server.run();
    endpoint = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    // the SDK keeps connections alive; close them so the server stops at once
    (server as unknown as { httpServer: HttpServer }).httpServer.closeAllConnections();
    await server.close();
    rmSync(s3Dir, { recursive: true, force: true });
  });

  const s3env = () => ({ SHIPGATE_CACHE_URL: 's3://ci-cache/team/app', AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });

  it('uploads a success under the prefix and a fresh clone restores it from the bucket', async () => {
    const first = clone();
    expect(outcome(await run(first, s3env()), 'build')).toBe('success');
    const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'ci-cache', Prefix: 'team/app/' }));
    client.destroy();
    const keys = (listed.Contents ?? []).map((o) => o.Key);
    expect(keys.some((k) => k?.startsWith('team/app/packs/'))).toBe(true);
    expect(keys.some((k) => k?.startsWith('team/app/entries/build/'))).toBe(true);

    const second = clone();
    const hit = await run(second, s3env());
    expect(outcome(hit, 'build')).toBe('cached');
    expect(outcome(hit, 'check')).toBe('success');
    expectRestored(first, second);
  });
});

describe('shared cache: a dead or stalling store', () => {
  it('degrades to the local cache with one warning, within the time bound', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket)); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const env = { SHIPGATE_CACHE_URL: 's3://ci-cache/x', AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', SHIPGATE_CACHE_TIMEOUT: '0.5' };
      const dir = clone();
      const r = await run(dir, env);
      expect(r.outcome).toBe('success');
      const warnings = r.logs.filter((l) => l.includes('shared cache'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/the shared cache s3:\/\/ci-cache\/x failed \(.*took longer than 500 ms\); using the local cache only for the rest of this run/);
      expect(r.ms).toBeLessThan(4000);
      // the local cache still works in that run's workspace
      const again = await run(dir, env);
      expect(outcome(again, 'build')).toBe('cached');
      expect(again.logs.filter((l) => l.includes('shared cache'))).toHaveLength(0); // a local hit never asks the store
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('a store that answers and then stalls mid-body is cut off at the bound, with one warning', async () => {
    const open = new Set<import('node:net').Socket>();
    const { createServer } = await import('node:http');
    const stalling = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
      res.write('{"key":'); // and nothing more
    });
    stalling.on('connection', (socket) => open.add(socket));
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    const port = (stalling.address() as net.AddressInfo).port;
    try {
      const env = { SHIPGATE_CACHE_URL: 's3://ci-cache/x', AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', SHIPGATE_CACHE_TIMEOUT: '0.5' };
      const r = await run(clone(), env);
      expect(r.outcome).toBe('success');
      expect(outcome(r, 'build')).toBe('success');
      const warnings = r.logs.filter((l) => l.includes('shared cache'));
      expect(warnings).toHaveLength(1);
      expect(r.ms).toBeLessThan(4000);
    } finally {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => stalling.close(() => resolve()));
    }
  });
});

// Image benchmark (npm run bench -w pipelines, after `npm run build`): promote and rollback by
// registry API against the two usual ways to re-tag an image, in the same run, on a real registry:
//   - docker pull && docker tag && docker push (from a runner that does not have the image yet)
//   - skopeo copy docker://…:v1 docker://…:production
// for a 10 MB and a 300 MB image whose layer is random (incompressible) data generated here and
// removed afterwards. Prints medians, ratios, and whether the targets are met: ≥ 50× faster than
// pull + tag + push, and the same time for both sizes (re-pointing a tag must not move layers).
// Needs docker, docker-registry and skopeo.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promoteImage, rollbackImage, RegistryClient } from '@shipgate/image';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...opts }).toString();
const time = (fn) => {
  const t = performance.now();
  fn();
  return performance.now() - t;
};
const timeAsync = async (fn) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

async function startRegistry(dir) {
  const port = await freePort();
  const config = path.join(dir, 'registry.yml');
  // the distribution project's shipped configuration (in-memory blob descriptor cache), on loopback
  writeFileSync(
    config,
    `version: 0.1\nlog: { level: error }\nstorage:\n  cache: { blobdescriptor: inmemory }\n  filesystem: { rootdirectory: ${JSON.stringify(path.join(dir, 'data'))} }\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const child = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  for (let i = 0; i < 200; i += 1) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/v2/`)).ok) return { host: `127.0.0.1:${port}`, child };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('docker-registry did not start');
}

/** Two versions of an image of `mb` MB: v1 = one random layer, v2 = v1 plus a small layer. */
function buildImages(dir, host, name, mb) {
  const ctx = path.join(dir, name);
  sh('mkdir', ['-p', ctx]);
  sh('sh', ['-c', `head -c ${mb * 1024 * 1024} /dev/urandom > ${JSON.stringify(path.join(ctx, 'data.bin'))}`]);
  writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY data.bin /data.bin\n');
  const env = { ...process.env, DOCKER_BUILDKIT: '0' };
  sh('docker', ['build', '-q', '-t', `${host}/bench/${name}:v1`, ctx], { env });
  writeFileSync(path.join(ctx, 'v2.txt'), `v2 ${Date.now()}\n`);
  writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${host}/bench/${name}:v1\nCOPY v2.txt /v2.txt\n`);
  sh('docker', ['build', '-q', '-t', `${host}/bench/${name}:v2`, ctx], { env });
  rmSync(path.join(ctx, 'data.bin'), { force: true });
  localImages.push(`${host}/bench/${name}:v1`, `${host}/bench/${name}:v2`, `${host}/bench/${name}:docker`);
  sh('docker', ['push', '-q', `${host}/bench/${name}:v1`]);
  sh('docker', ['push', '-q', `${host}/bench/${name}:v2`]);
  return [`${host}/bench/${name}:v1`, `${host}/bench/${name}:v2`];
}

// The registry's own floor: requests sent with bare node:http on keep-alive connections, no
// shipgate code at all, so what the registry needs per request shows apart from what shipgate adds.
// Three request sets, to show where the time goes and what any design could reach here:
//   2: GET source manifest → PUT tag                      (a re-tag that records no history)
//   3: GET source manifest → [PUT tag | PUT history]      (a history appended without reading it)
//   4: [GET source | GET history] → [PUT tag | PUT history]   (what a promote sends)
// As in a warm promote, each GET carries If-None-Match with the digest last seen or written (the
// registry answers 304), and every history PUT carries new bytes.
const floorAgent = new http.Agent({ keepAlive: true });
const bare = (method, url, headers, body) =>
  new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers, agent: floorAgent }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, type: response.headers['content-type'], etag: response.headers.etag, body: Buffer.concat(chunks) }));
    });
    request.on('error', reject);
    request.end(body);
  });
const accept = { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' };
const ociType = 'application/vnd.oci.image.manifest.v1+json';

/** The floor's request sets on one repository, keyed by their request count; each takes the source tag. */
async function floorRounds(host, name) {
  const base = `http://${host}/v2/bench/${name}/manifests`;
  const manifests = {};
  for (const tag of ['v1', 'v2']) manifests[tag] = await bare('GET', `${base}/${tag}`, accept);
  const history = (await bare('GET', `${base}/shipgate-history.production`, accept)).body;
  let writes = 0;
  const lastWritten = {};
  /** The history with one annotation changed: new bytes, as every promote writes. */
  const nextHistory = (tag) => {
    const json = JSON.parse(history.toString('utf8'));
    json.annotations = { ...json.annotations, 'io.shipgate.bench.write': String((writes += 1)) };
    const bytes = Buffer.from(JSON.stringify(json));
    lastWritten[tag] = `"sha256:${createHash('sha256').update(bytes).digest('hex')}"`;
    return bytes;
  };
  const getSource = async (source) => {
    const response = await bare('GET', `${base}/${source}`, { ...accept, 'if-none-match': manifests[source].etag });
    return response.status === 304 ? manifests[source] : response;
  };
  const getHistory = (tag) => bare('GET', `${base}/${tag}`, { ...accept, ...(lastWritten[tag] ? { 'if-none-match': lastWritten[tag] } : {}) });
  const putHistory = (tag) => bare('PUT', `${base}/${tag}`, { 'content-type': ociType }, nextHistory(tag));
  return {
    2: async (source) => {
      const manifest = await getSource(source);
      await bare('PUT', `${base}/floor2`, { 'content-type': manifest.type }, manifest.body);
    },
    3: async (source) => {
      const manifest = await getSource(source);
      await Promise.all([bare('PUT', `${base}/floor3`, { 'content-type': manifest.type }, manifest.body), putHistory('shipgate-history.floor3')]);
    },
    4: async (source) => {
      const [manifest] = await Promise.all([getSource(source), getHistory('shipgate-history.floor4')]);
      await Promise.all([bare('PUT', `${base}/floor4`, { 'content-type': manifest.type }, manifest.body), putHistory('shipgate-history.floor4')]);
    },
  };
}

const digestOf = (ref) => sh('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${ref}`]).trim();

async function benchSize(dir, host, mb, rounds) {
  const name = `img${mb}`;
  const [v1, v2] = buildImages(dir, host, name, mb);
  const repo = `${host}/bench/${name}`;
  const [d1, d2] = [digestOf(v1), digestOf(v2)];
  const client = new RegistryClient({ registry: host });
  // warm up the connection and the code path, as a long-lived caller (the Slack app) would be
  await promoteImage({ source: v1, tag: 'production', client });
  for (let i = 0; i < 3; i += 1) {
    await promoteImage({ source: v2, tag: 'production', client });
    await rollbackImage({ repository: repo, environment: 'production', client });
  }
  const floors = await floorRounds(host, name);
  for (let i = 0; i < 3; i += 1) for (const round of Object.values(floors)) await round('v2');
  // let the disk write back what building and pushing the images wrote, so it does not land in
  // whichever method happens to run next
  sh('sync', []);
  await new Promise((r) => setTimeout(r, 1000));

  const promote = [];
  const rollback = [];
  const floor = { 2: [], 3: [], 4: [] };
  // each round: the tag is on v1; promote moves it to v2, rollback moves it back to v1; the floors
  // run in the same round, so that load drifts hit every column alike
  for (let i = 0; i < rounds; i += 1) {
    promote.push(await timeAsync(() => promoteImage({ source: v2, tag: 'production', client })));
    rollback.push(await timeAsync(() => rollbackImage({ repository: repo, environment: 'production', client })));
    for (const [n, round] of Object.entries(floors)) floor[n].push(await timeAsync(() => round(i % 2 ? 'v1' : 'v2')));
  }
  // correctness: promote moves the tag, rollback moves it back
  await promoteImage({ source: v2, tag: 'production', client });
  if (digestOf(`${repo}:production`) !== d2) throw new Error('promote did not move the tag');
  await rollbackImage({ repository: repo, environment: 'production', client });
  if (digestOf(`${repo}:production`) !== d1) throw new Error('rollback did not move the tag back');

  // a fresh process, as `shipgate image promote` in a CI job runs it
  const cli = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../cli/dist/cli/main.js');
  const cliRuns = [];
  for (let i = 0; i < 3; i += 1) cliRuns.push(time(() => sh(process.execPath, [cli, 'image', 'promote', i % 2 ? v1 : v2, '--tag', 'cli'])));

  const pullTagPush = [];
  for (let i = 0; i < 3; i += 1) {
    sh('docker', ['rmi', '-f', v1, v2, `${repo}:docker`]);
    pullTagPush.push(time(() => {
      sh('docker', ['pull', '-q', v1]);
      sh('docker', ['tag', v1, `${repo}:docker`]);
      sh('docker', ['push', '-q', `${repo}:docker`]);
    }));
  }
  const skopeo = [];
  for (let i = 0; i < 3; i += 1) skopeo.push(time(() => sh('skopeo', ['copy', '-q', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${i % 2 ? v1 : v2}`, `docker://${repo}:skopeo`])));
  sh('docker', ['rmi', '-f', v1, v2, `${repo}:docker`]);
  return { mb, promoteMs: median(promote), rollbackMs: median(rollback), floor2Ms: median(floor[2]), floor3Ms: median(floor[3]), floor4Ms: median(floor[4]), cliMs: median(cliRuns), pullTagPushMs: median(pullTagPush), skopeoMs: median(skopeo) };
}

// The registry's filesystem driver fsyncs every manifest it writes (six fsyncs per PUT), so on a
// busy VM disk one tag write alone costs 15–40 ms, for every method alike. By default the registry
// keeps its data on tmpfs (/dev/shm) so the figures show what the client does; `--disk` keeps it on
// the temp disk.
const onDisk = process.argv.includes('--disk') || !existsSync('/dev/shm');
/** Rounds of promote, rollback and the floors (medians of these); `--rounds N` to change. */
const roundsFlag = process.argv.indexOf('--rounds');
const rounds = roundsFlag > 0 ? Number(process.argv[roundsFlag + 1]) : 31;
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 1000) {
  console.error('--rounds takes a whole number from 1 to 1000');
  process.exit(2);
}
const localImages = [];
const dir = mkdtempSync(path.join(onDisk ? os.tmpdir() : '/dev/shm', 'sg-bench-image-'));
let registry;
try {
  registry = await startRegistry(dir);
  const results = [];
  for (const mb of [10, 300]) results.push(await benchSize(dir, registry.host, mb, rounds));
  console.log(`\nshipgate image benchmark — node ${process.version}, ${os.availableParallelism()} CPUs, local docker-registry on 127.0.0.1 with its storage on ${onDisk ? 'disk' : 'tmpfs'}; medians (promote, rollback and floors of ${rounds}, others of 3)\n`);
  console.log('| image | promote | rollback | registry floor (same 4 requests, bare node:http) | `shipgate image promote` (new process) | pull + tag + push | skopeo copy | pull+tag+push / promote | pull+tag+push / floor | skopeo / promote |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    console.log(
      `| ${r.mb} MB | ${fmt(r.promoteMs)} | ${fmt(r.rollbackMs)} | ${fmt(r.floor4Ms)} | ${fmt(r.cliMs)} | ${fmt(r.pullTagPushMs)} | ${fmt(r.skopeoMs)} | ${(r.pullTagPushMs / r.promoteMs).toFixed(0)}× | ${(r.pullTagPushMs / r.floor4Ms).toFixed(0)}× | ${(r.skopeoMs / r.promoteMs).toFixed(0)}× |`,
    );
  }
  console.log('\nThe registry alone (bare node:http, no shipgate code), and the best ratio each request set allows:\n');
  console.log('| image | 2 requests: GET source → PUT tag (no history) | 3 requests: GET source → PUT tag ∥ PUT history (history appended unread) | 4 requests: GET source ∥ GET history → PUT tag ∥ PUT history (promote) |');
  console.log('| --- | --- | --- | --- |');
  for (const r of results) {
    const cell = (ms) => `${fmt(ms)} (${(r.pullTagPushMs / ms).toFixed(0)}×)`;
    console.log(`| ${r.mb} MB | ${cell(r.floor2Ms)} | ${cell(r.floor3Ms)} | ${cell(r.floor4Ms)} |`);
  }
  const [small, large] = results;
  const sizeRatio = Math.max(large.promoteMs, small.promoteMs) / Math.min(large.promoteMs, small.promoteMs);
  const checks = [
    [`promote ≥ 50× faster than pull + tag + push (10 MB)`, small.pullTagPushMs / small.promoteMs >= 50],
    [`promote ≥ 50× faster than pull + tag + push (300 MB)`, large.pullTagPushMs / large.promoteMs >= 50],
    [`rollback ≥ 50× faster than pull + tag + push (10 MB)`, small.pullTagPushMs / small.rollbackMs >= 50],
    [`same promote time for 10 MB and 300 MB (ratio ${sizeRatio.toFixed(2)}, target ≤ 1.5)`, sizeRatio <= 1.5],
  ];
  console.log('');
  for (const [what, ok] of checks) console.log(`${ok ? 'met' : 'NOT MET'}: ${what}`);
} finally {
  if (localImages.length) {
    try {
      sh('docker', ['rmi', '-f', ...localImages]);
    } catch {
      // already gone
    }
  }
  floorAgent.destroy();
  registry?.child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}

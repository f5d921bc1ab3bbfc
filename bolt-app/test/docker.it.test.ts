// The container image: the esbuild bundle (scripts/bundle.mjs) in the Dockerfile, built on a local
// base (the Debian Postgres image CI builds, plus this Node binary) because no registry can be
// pulled from. The container answers /healthz, takes an approval over the API and posts it to
// Slack (a loopback stand-in), all on PGlite from the bundle's own WASM files.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { api, apiToken, approvalBody, botToken, signingSecret, slackStandIn, waitFor, type SlackStandIn } from './helpers.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const appDir = path.resolve(here, '..');
const baseImage = process.env.SHIPGATE_TEST_PG_IMAGE ?? 'shipgate/postgres:15-bookworm';

function dockerReady(): boolean {
  const engine = spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 }).status === 0;
  const found = engine && spawnSync('docker', ['image', 'inspect', baseImage], { stdio: 'ignore', timeout: 20_000 }).status === 0;
  if (!found && process.env.CI === 'true') throw new Error(`CI must provide a Docker engine and the ${baseImage} image (test-harness/scripts/build-postgres-image.sh)`);
  if (!found) console.warn(`skipping the container image test: ${engine ? `no ${baseImage} image (bash test-harness/scripts/build-postgres-image.sh)` : 'no Docker engine answers'}`);
  return found;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const suite = dockerReady() ? describe : describe.skip;

suite('the container image', () => {
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const base = `shipgate/bolt-node-base:test-${tag}`;
  const image = `shipgate/bolt-app:test-${tag}`;
  const container = `shipgate-bolt-test-${tag}`;
  let dir: string;
  let slack: SlackStandIn;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sg-bolt-docker-'));
    chmodSync(dir, 0o755);
    // the app's build context as the README builds it (Dockerfile + build/bundle/), in a directory of this test's own
    const context = path.join(dir, 'context');
    await run(process.execPath, [path.join(appDir, 'scripts', 'bundle.mjs'), '--out', path.join(context, 'build', 'bundle')], { timeout: 120_000 });
    copyFileSync(path.join(appDir, 'Dockerfile'), path.join(context, 'Dockerfile'));
    copyFileSync(path.join(appDir, '.dockerignore'), path.join(context, '.dockerignore'));
    const baseContext = path.join(dir, 'base');
    mkdirSync(baseContext);
    copyFileSync(process.execPath, path.join(baseContext, 'node'));
    writeFileSync(path.join(baseContext, 'Dockerfile'), `FROM ${baseImage}\nCOPY node /usr/local/bin/node\nENTRYPOINT []\n`);
    await run('docker', ['build', '-q', '-t', base, baseContext], { timeout: 120_000 });
    await run('docker', ['build', '-q', '--build-arg', `NODE_IMAGE=${base}`, '-t', image, context], { timeout: 120_000 });
    slack = await slackStandIn();
  }, 300_000);

  afterAll(async () => {
    await run('docker', ['rm', '-f', container]).catch(() => undefined);
    await run('docker', ['rmi', '-f', image, base]).catch(() => undefined);
    await slack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('starts from the bundle, answers /healthz and posts an approval to Slack', async () => {
    const port = await freePort();
    writeFileSync(path.join(dir, 'bolt.yml'), 'environments:\n  prod:\n    channel: C0PROD0001\n    approvers: [U0ADA00001]\n', { mode: 0o644 });
    // host networking on loopback: the container reaches the Slack stand-in and the test reaches it
    await run('docker', ['run', '-d', '--name', container, '--network', 'host', '-v', `${path.join(dir, 'bolt.yml')}:/etc/shipgate/bolt.yml:ro`,
      '-e', `PORT=${port}`, '-e', 'HOST=127.0.0.1', '-e', `SLACK_BOT_TOKEN=${botToken}`, '-e', `SLACK_SIGNING_SECRET=${signingSecret}`, '-e', `SHIPGATE_API_TOKEN=${apiToken}`, '-e', `SLACK_API_URL=${slack.apiUrl}`, image], { timeout: 60_000 });
    const url = `http://127.0.0.1:${port}`;
    const health = await waitFor(() => fetch(`${url}/healthz`).then((r) => (r.ok ? r.json() : undefined), () => undefined), 'the container to answer', 60_000);
    expect(health).toMatchObject({ ok: true, store: 'pglite', mode: 'http', environments: ['prod'] });
    const res = await api(url, 'POST', '/api/approvals', approvalBody());
    expect(res.status).toBe(201);
    await waitFor(() => slack.of('chat.postMessage').find((c) => JSON.stringify(c.args.blocks).includes(res.body.id)), 'the approval message', 20_000);
    const { stdout } = await run('docker', ['inspect', '-f', '{{.Config.User}}', container]);
    expect(stdout.trim()).toBe('1000:1000');
    await run('docker', ['stop', '-t', '10', container], { timeout: 30_000 });
    const { stdout: exit } = await run('docker', ['inspect', '-f', '{{.State.ExitCode}}', container]);
    expect(exit.trim()).toBe('0');
  }, 120_000);
});

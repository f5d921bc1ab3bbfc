// A real OCI registry for tests: `docker-registry serve` (CNCF distribution) on a free 127.0.0.1
// port, storing blobs in a temp dir that is removed on stop(). Docker and skopeo talk plain HTTP to
// it because it is on loopback. Shared by every test that pushes, retags or rolls back images.
//
//   const registry = await startRegistry();
//   try { await buildTinyImage(`${registry.host}/demo:v1`, { 'a.txt': 'hello' }); ... }
//   finally { await registry.stop(); }
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../../test-harness/src/providers/local.js';

const run = promisify(execFile);

export interface StartedRegistry {
  /** `127.0.0.1:PORT`, the registry part of image references. */
  readonly host: string;
  readonly port: number;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Where the registry stores its data (removed by stop()). */
  readonly storageDir: string;
  /** Stops the registry process and removes its storage. Safe to call twice. */
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** How long to wait for `GET /v2/` to answer. Default 10 s. */
  startupTimeoutMs?: number;
}

/** Why Docker-based tests cannot run here, or undefined when they can (docker, docker-registry, skopeo). */
export async function dockerUnavailableReason(): Promise<string | undefined> {
  for (const [bin, args] of [
    ['docker', ['info', '--format', '{{.ServerVersion}}']],
    ['docker-registry', ['--version']],
    ['skopeo', ['--version']],
  ] as const) {
    try {
      await run(bin, [...args], { timeout: 15_000 });
    } catch (error) {
      return `${bin} is not usable: ${(error as Error).message.split('\n')[0]}`;
    }
  }
  return undefined;
}

/**
 * Whether Docker-dependent tests should run. Outside CI a missing Docker skips them (with the reason
 * printed); in CI (`CI=true`) a missing prerequisite is an error, so nothing passes by being skipped.
 */
export async function requireDocker(suite: string): Promise<boolean> {
  const reason = await dockerUnavailableReason();
  if (!reason) return true;
  if (process.env.CI === 'true') throw new Error(`${suite} needs Docker in CI: ${reason}`);
  console.warn(`skipping ${suite}: ${reason} (these tests run in CI)`);
  return false;
}

/** A free TCP port on 127.0.0.1 (the harness's own probe). */
export const freeLoopbackPort = freePort;

async function waitForRegistry(url: string, child: ChildProcess, timeoutMs: number, logs: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${logs()}`);
    try {
      const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not answer ${url}/v2/ within ${timeoutMs} ms: ${logs()}`);
}

/** Starts `docker-registry serve` on a free loopback port with filesystem storage in a temp dir. */
export async function startRegistry(options: RegistryOptions = {}): Promise<StartedRegistry> {
  const storageDir = mkdtempSync(path.join(os.tmpdir(), 'sg-registry-'));
  // Another process may take the port between freeLoopbackPort() and the bind: try a few.
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const port = await freeLoopbackPort();
    const config = path.join(storageDir, 'config.yml');
    writeFileSync(
      config,
      [
        'version: 0.1',
        'log: { level: error }',
        'storage:',
        `  filesystem: { rootdirectory: ${JSON.stringify(path.join(storageDir, 'data'))} }`,
        '  delete: { enabled: true }',
        'http:',
        `  addr: 127.0.0.1:${port}`,
        '',
      ].join('\n'),
    );
    const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    const url = `http://127.0.0.1:${port}`;
    const stopChild = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    };
    try {
      await waitForRegistry(url, child, options.startupTimeoutMs ?? 10_000, () => stderr);
    } catch (error) {
      await stopChild();
      if (/address already in use/.test(stderr) && attempt < 4) continue;
      rmSync(storageDir, { recursive: true, force: true });
      throw error;
    }
    let stopped = false;
    return {
      host: `127.0.0.1:${port}`,
      port,
      url,
      storageDir,
      async stop() {
        if (stopped) return;
        stopped = true;
        await stopChild();
        rmSync(storageDir, { recursive: true, force: true });
      },
    };
  }
  throw new Error('could not find a free port for docker-registry');
}

/**
 * Builds a tiny image from `scratch` holding `files` (name → content) and tags it `reference`.
 * Nothing is pulled. Returns the image id.
 */
export async function buildTinyImage(reference: string, files: Record<string, string | Buffer>): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-image-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
    writeFileSync(path.join(dir, 'Dockerfile'), `FROM scratch\n${Object.keys(files).map((f) => `COPY ${f} /${f}`).join('\n')}\n`);
    await run('docker', ['build', '-q', '-t', reference, dir], { timeout: 120_000, env: { ...process.env, DOCKER_BUILDKIT: '0' } });
    const { stdout } = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', reference], { timeout: 15_000 });
    return stdout.trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `docker push` and the digest the registry now holds for the reference. */
export async function pushImage(reference: string): Promise<string> {
  await run('docker', ['push', '-q', reference], { timeout: 300_000 });
  return inspectDigest(reference);
}

/** The manifest digest a tag points at, read with skopeo (no pull). */
export async function inspectDigest(reference: string): Promise<string> {
  const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${reference}`], { timeout: 30_000 });
  return stdout.trim();
}

/** Removes local images (ignores ones that do not exist). */
export async function removeLocalImages(...references: string[]): Promise<void> {
  if (references.length) await run('docker', ['rmi', '-f', ...references], { timeout: 60_000 }).catch(() => undefined);
}

// A real Prometheus for tests: Debian's `prometheus` binary on a free 127.0.0.1 port, with a
// generated config that scrapes the given loopback targets every second and a TSDB in a temp dir
// removed on stop(). Start waits for /-/ready; stop() kills it (SIGTERM, then SIGKILL) and is safe
// to call twice. Shared by the verify tests and the verify bench.
//
//   const prom = await startPrometheus({ targets: [service.hostPort] });
//   try { ... prom.url ... } finally { await prom.stop(); }
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../../test-harness/src/providers/local.js';

export interface StartedPrometheus {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** Stops the server and removes its data. Safe to call twice. */
  stop(): Promise<void>;
  /** Resolves once every target has been scraped (`up == 1`); bounded by 20 s. */
  scraped(): Promise<void>;
  /** Its log so far (for a failing test's message). */
  log(): string;
}

export interface PrometheusOptions {
  /** `127.0.0.1:PORT` of each service to scrape (job `app`). */
  targets: readonly string[];
  /** Scrape (and rule evaluation) interval. Default 1s. */
  scrapeInterval?: string;
  /** Extra lines under `rule_files:` (absolute paths). */
  ruleFiles?: readonly string[];
  /** How long to wait for /-/ready. Default 20 s. */
  startupTimeoutMs?: number;
}

/** Why Prometheus tests cannot run here, or undefined when they can. */
export function prometheusUnavailableReason(): string | undefined {
  const probe = spawnSync('prometheus', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return probe.status === 0 ? undefined : `the prometheus binary is not usable (${probe.error?.message ?? probe.stderr.split('\n')[0]}); apt-get install prometheus`;
}

/** Outside CI a missing Prometheus skips the suite (saying why); in CI it is an error. */
export function requirePrometheus(suite: string): boolean {
  const reason = prometheusUnavailableReason();
  if (!reason) return true;
  if (process.env.CI === 'true') throw new Error(`${suite} needs Prometheus in CI: ${reason}`);
  console.warn(`skipping ${suite}: ${reason} (these tests run in CI)`);
  return false;
}

function configText(options: PrometheusOptions): string {
  const every = options.scrapeInterval ?? '1s';
  return [
    'global:',
    `  scrape_interval: ${every}`,
    `  evaluation_interval: ${every}`,
    ...(options.ruleFiles?.length ? ['rule_files:', ...options.ruleFiles.map((f) => `  - ${JSON.stringify(f)}`)] : []),
    'scrape_configs:',
    '  - job_name: app',
    '    static_configs:',
    `      - targets: [${options.targets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '',
  ].join('\n');
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`prometheus was not ready within ${timeoutMs} ms:\n${log()}`);
}

async function waitScraped(url: string, targets: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent('count(up == 1)')}`, { signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
    const body = (await res?.json().catch(() => undefined)) as { data?: { result?: { value: [number, string] }[] } } | undefined;
    if (Number(body?.data?.result?.[0]?.value[1] ?? 0) >= targets) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`prometheus at ${url} did not scrape its ${targets} target(s) within 20 s`);
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startPrometheus(options: PrometheusOptions): Promise<StartedPrometheus> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-prometheus-'));
  const config = path.join(dir, 'prometheus.yml');
  writeFileSync(config, configText(options));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--web.enable-lifecycle', '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
  child.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, child, options.startupTimeoutMs ?? 20_000, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, stop, scraped: () => waitScraped(url, options.targets.length), log: () => output };
}

// Real jest runs of a user's project, each in its own process group so a test can SIGKILL the whole
// run (the jest process and its workers) as a CI machine does; and what Postgres servers are left.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive } from '../src/lifecycle/processes.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');
const dirs: string[] = [];
const mounts: string[] = [];

/** A temp folder removed by `cleanupRuns`. */
export function tempDir(prefix = 'sg-th-run-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** A copy of the fixture project that resolves the workspace's packages, plus `extra` files. */
export function userProject(extra: Record<string, string> = {}): string {
  const dir = tempDir('sg-th-proj-');
  cpSync(path.join(here, 'fixtures/project'), dir, { recursive: true, filter: (src) => !src.includes('node_modules') });
  symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  for (const [name, text] of Object.entries(extra)) writeFileSync(path.join(dir, name), text);
  return dir;
}

/** A test that records that it started, then holds its database for HOLD_MS (a run to kill mid-tests). */
export const holdTest = {
  'tests/hold.test.mjs': [
    "import { appendFileSync } from 'node:fs';",
    "import { expect, test } from '@jest/globals';",
    "import { useTestDatabase } from '@shipgate/test-harness/jest';",
    'const db = useTestDatabase();',
    "test('hold: keeps its database while HOLD_MS says', async () => {",
    "  const { rows } = await db.client.query('SELECT count(*)::int AS n FROM customers');",
    '  expect(rows[0].n).toBe(2);',
    "  appendFileSync(process.env.RECORD_FILE, JSON.stringify({ test: 'hold', db: db.name, pid: process.pid }) + '\\n');",
    '  await new Promise((r) => setTimeout(r, Number(process.env.HOLD_MS ?? 0)));',
    '}, 120000);',
    '',
  ].join('\n'),
};

export interface JestRun {
  child: ChildProcess;
  /** Everything the run printed so far. */
  output(): string;
  /** Resolves when the run ends (killed or not). */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;
  /** SIGKILL to the run's whole process group: the jest process and its workers. */
  killGroup(): void;
}

/** Starts `jest` in `dir` (two workers) in a new process group. Killed after `timeoutMs` at the latest. */
export function startJest(dir: string, env: Record<string, string>, timeoutMs = 240_000): JestRun {
  const child = spawn(process.execPath, ['--experimental-vm-modules', '--no-warnings', path.join(repo, 'node_modules/jest/bin/jest.js'), '--maxWorkers=2', '--ci'], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  };
  const timer = setTimeout(killGroup, timeoutMs);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
  return { child, output: () => output, done, killGroup };
}

/** Polls `check` every 50 ms until it returns a value, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** JSON lines of a file (none when it does not exist). */
export function jsonLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
}

/** Postmasters (pid and data directory) whose data directory is under `root`. */
export function serversUnder(root: string): Array<{ pid: number; dataDir: string }> {
  const found: Array<{ pid: number; dataDir: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    const d = args.indexOf('-D');
    if (d < 0 || !path.basename(args[0] ?? '').startsWith('postgres')) continue;
    const dataDir = args[d + 1] ?? '';
    if (dataDir.startsWith(root + path.sep)) found.push({ pid: Number(entry), dataDir });
  }
  return found;
}

/** Stops every Postgres server under `root` (what a failed test may have left), bounded. */
export async function stopServersUnder(root: string): Promise<void> {
  const servers = serversUnder(root);
  for (const s of servers) process.kill(s.pid, 'SIGQUIT'); // immediate shutdown: its children exit too
  for (let i = 0; i < 100 && servers.some((s) => alive(s.pid)); i += 1) await new Promise((r) => setTimeout(r, 50));
  for (const s of servers) if (alive(s.pid)) process.kill(s.pid, 'SIGKILL');
}

/** Whether this process may mount a tmpfs (root: CI machines and containers). */
export function canMount(): boolean {
  const root = process.getuid?.() === 0;
  if (!root && process.env.CI === 'true') throw new Error('CI runs as root: the tests of full and read-only disks mount a small tmpfs');
  if (!root) console.warn('skipping the full / read-only disk tests: mounting a tmpfs needs root');
  return root;
}

/** A fresh tmpfs of `size` (`1m`), read-only when asked; unmounted by `cleanupRuns`. */
export function tmpfs(size: string, options: { readOnly?: boolean } = {}): string {
  const dir = tempDir('sg-th-tmpfs-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `${options.readOnly ? 'ro,' : ''}size=${size},mode=0755`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

/** Stops servers left under the temp folders, unmounts, then removes them. */
export async function cleanupRuns(): Promise<void> {
  for (const d of dirs.splice(0).reverse()) {
    await stopServersUnder(d);
    if (mounts.includes(d)) {
      spawnSync('umount', ['-l', d], { stdio: 'ignore', timeout: 20_000 });
      mounts.splice(mounts.indexOf(d), 1);
    }
    rmSync(d, { recursive: true, force: true });
  }
}

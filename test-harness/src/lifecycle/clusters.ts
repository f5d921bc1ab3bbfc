// Who owns a cluster folder of the postgres provider, and what a killed owner left in one.
//
// The kept cluster `<base>/pg<major>` is claimed with an exclusive lock on its `claim.lock`, taken
// without waiting and held for the whole run: across stopping a server a killed run left, starting
// this run's own, and until it is stopped. A run that finds the lock held takes a throw-away cluster
// `<base>/pg<major>-run-<pid>` instead (locked the same way). Nobody ever stops a server or touches
// the files of a cluster whose lock a live process holds. Throw-away clusters whose owner is dead
// are reaped by the next start: their server stopped, their folder removed.
import { readFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { alive } from './processes.js';
import { tryLock, type HeldLock } from './lock.js';

export const lockName = 'claim.lock';
const throwAway = /^pg\d+-run-(\d+)$/;

/** The throw-away cluster folder of this process. */
export function throwAwayName(major: string): string {
  return `pg${major}-run-${process.pid}`;
}

/** Whether `pid` is a postmaster of `dataDir` (false for a pid reused by something else). */
export function isServerOf(pid: number, dataDir: string): boolean {
  if (!alive(pid)) return false;
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.includes(dataDir) || args.includes(path.resolve(dataDir));
  } catch {
    return true; // no /proc (macOS): trust the pid file, as Postgres does
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function signalUntilGone(pid: number, signal: NodeJS.Signals, waitMs: number): Promise<boolean> {
  try {
    process.kill(pid, signal);
  } catch {
    return true;
  }
  for (let waited = 0; waited < waitMs && alive(pid); waited += 50) await sleep(50);
  return !alive(pid);
}

/**
 * Stops a server a dead run left in `dataDir` (call it only while holding the cluster's lock): fast
 * shutdown, then immediate, then SIGKILL, each bounded. A pid file whose pid is no server of this
 * folder (the pid was reused) is removed; one whose process is gone is left to Postgres, which
 * checks it itself. Returns the pid it stopped.
 */
export async function stopLeftServer(dataDir: string, log?: (line: string) => void): Promise<number | undefined> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).split('\n')[0]);
  if (!pid) return undefined;
  if (!isServerOf(pid, dataDir)) {
    if (alive(pid)) await rm(pidFile, { force: true }); // a live process, but not this folder's server
    return undefined;
  }
  log?.(`stopping a Postgres server left by an earlier run (pid ${pid})`);
  // fast shutdown keeps what it committed (its databases are reaped afterwards)
  if (!(await signalUntilGone(pid, 'SIGINT', 10_000)) && !(await signalUntilGone(pid, 'SIGQUIT', 5_000))) await signalUntilGone(pid, 'SIGKILL', 5_000);
  return pid;
}

/**
 * Reaps throw-away clusters under `base` whose owning run is dead: stops the server left running
 * there, removes the folder. A folder is taken only with its lock, so two starting runs never reap
 * the same one, and a live owner's never. Returns the folders removed.
 */
export async function reapThrowAwayClusters(base: string, log?: (line: string) => void): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of await readdir(base).catch(() => [] as string[])) {
    const owner = Number(throwAway.exec(entry)?.[1]);
    if (!owner || alive(owner)) continue;
    const dir = path.join(base, entry);
    const lock = await tryLock(path.join(dir, lockName)).catch(() => undefined);
    if (!lock) continue;
    try {
      await stopLeftServer(path.join(dir, 'data'), log);
      await rm(dir, { recursive: true, force: true });
      removed.push(dir);
    } finally {
      await lock.release();
    }
  }
  if (removed.length) log?.(`removed ${removed.length} throw-away cluster(s) of killed runs: ${removed.join(', ')}`);
  return removed;
}

/** Claims `dir` for this run if no live run holds it. */
export function claim(dir: string): Promise<HeldLock | undefined> {
  return tryLock(path.join(dir, lockName));
}

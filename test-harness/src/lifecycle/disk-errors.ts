// Full and read-only disks as errors a person can act on: the code, the path, where the space or
// the permission is needed, and the variable that moves it — instead of a raw EACCES stack trace or
// Postgres' "could not resize shared memory segment".
import { accessSync, constants, existsSync, statfsSync, writeFileSync } from 'node:fs';
import { access, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ExitCode, makeDirectory, ShipgateError } from '@shipgate/protocol';

/** What a folder is for, and how a user moves it elsewhere. */
export interface FolderRole {
  /** `the test cluster folder`, `the pglite template cache`. */
  what: string;
  /** `SHIPGATE_TEST_SERVER_DIR (or serverDir in the harness config)`. */
  movedBy: string;
}

export const clusterFolder: FolderRole = { what: 'the Postgres test cluster folder', movedBy: 'SHIPGATE_TEST_SERVER_DIR (or serverDir in the harness config)' };
export const pgliteCache: FolderRole = { what: 'the pglite template cache', movedBy: 'SHIPGATE_TEST_CACHE_DIR (or cacheDir in the harness config)' };

const readOnlyCodes = new Set(['EACCES', 'EPERM', 'EROFS']);

/** MB free on the file system of `dir` (undefined when it cannot be read). */
export function freeMb(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return Math.floor((s.bavail * s.bsize) / 1024 ** 2);
  } catch {
    return undefined;
  }
}

export function notWritable(dir: string, role: FolderRole, cause?: unknown): ShipgateError {
  const reason = (cause as NodeJS.ErrnoException | undefined)?.code ?? 'read-only';
  return new ShipgateError('db.not-writable', `cannot write ${role.what} ${dir} (${reason})`, {
    hint: `the harness needs write permission there: make it writable, or set ${role.movedBy} to a writable folder`,
    exitCode: ExitCode.external,
    cause,
  });
}

export function noSpace(dir: string, role: FolderRole, detail?: string, cause?: unknown): ShipgateError {
  const free = freeMb(dir);
  return new ShipgateError('db.no-space', `no space left for ${role.what} ${dir}${free === undefined ? '' : ` (${free} MB free)`}${detail ? `: ${detail}` : ''}`, {
    hint: `free space there (a Postgres cluster needs about 100 MB, and each template and clone its size again), or set ${role.movedBy} to a folder with room`,
    exitCode: ExitCode.external,
    cause,
  });
}

/** Postgres' dynamic shared memory lives in /dev/shm whatever the cluster folder: only room there helps. */
export function sharedMemoryFull(detail: string): ShipgateError {
  const free = freeMb('/dev/shm');
  return new ShipgateError('db.no-space', `no space left in /dev/shm for Postgres' shared memory${free === undefined ? '' : ` (${free} MB free)`}: ${detail}`, {
    hint: 'free space in /dev/shm (files left there: ls -la /dev/shm), or give the container a bigger one (docker run --shm-size=1g); SHIPGATE_TEST_SERVER_DIR moves the cluster, not the shared memory',
    exitCode: ExitCode.external,
  });
}

/** A file-system error as db.not-writable / db.no-space for `dir`; anything else unchanged. */
export function folderError(error: unknown, dir: string, role: FolderRole): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && readOnlyCodes.has(code)) return notWritable(dir, role, error);
  if (code === 'ENOSPC' || code === 'EDQUOT') return noSpace(dir, role, undefined, error);
  return error;
}

/** Whether the nearest folder of `dir` that exists is writable (mkdir -p on a read-only file system says ENOENT). */
function nearestWritable(dir: string): boolean {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(d)) {
      try {
        accessSync(d, constants.W_OK);
        return true;
      } catch {
        return false;
      }
    }
    if (path.dirname(d) === d) return false;
  }
}

/** Creates `dir` if needed and checks that this process may write there: db.not-writable / db.no-space otherwise. */
export async function writableFolder(dir: string, role: FolderRole, mode = 0o755): Promise<void> {
  try {
    await makeDirectory(dir, mode);
    await access(dir, constants.W_OK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !nearestWritable(path.dirname(dir))) throw notWritable(dir, role, error);
    throw folderError(error, dir, role);
  }
}

/** Runs `step` on `dir`, turning read-only and full-disk failures into coded errors. */
export async function inFolder<T>(dir: string, role: FolderRole, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw folderError(error, dir, role);
  }
}

/** A message of initdb or postgres that says the disk or the shared memory is full, as a coded error. */
export function fromPostgresLog(log: string, dir: string): ShipgateError | undefined {
  const line = log.split('\n').find((l) => /No space left on device|could not resize shared memory|Disk quota exceeded/.test(l));
  if (!line) {
    const denied = log.split('\n').find((l) => /Permission denied|Read-only file system/.test(l));
    return denied ? notWritable(dir, clusterFolder, new Error(denied.trim())) : undefined;
  }
  const detail = line.replace(/^.*?(FATAL|ERROR|PANIC|LOG):\s*/, '').trim();
  return /shared memory/.test(line) ? sharedMemoryFull(detail) : noSpace(dir, clusterFolder, detail);
}

/** A server error that says its disk is full (SQLSTATE 53100 disk_full, or ENOSPC in the message). */
export function isDiskFull(error: unknown): boolean {
  const e = error as { code?: string; message?: string } | undefined;
  return e?.code === '53100' || /No space left on device|could not resize shared memory/.test(e?.message ?? '');
}

/**
 * Whether a failed clone is the server's full disk: the server said so, or (the postgres provider,
 * whose folder is known) the server went away while its folder has less than a WAL segment free —
 * Postgres stops with a PANIC when it cannot write its WAL, and only its own log says why.
 */
export function cloneFailedOnFullDisk(error: unknown, localAdminUrl: string | undefined): boolean {
  if (isDiskFull(error)) return true;
  const gone = /Connection terminated|ECONNREFUSED|ECONNRESET|ENOENT|database system is (shutting down|in recovery mode|starting up)|terminating connection/.test((error as Error | undefined)?.message ?? '');
  const folder = clusterOf(localAdminUrl);
  return gone && folder !== undefined && (freeMb(folder) ?? Infinity) < 16;
}

/** The cluster folder of the postgres provider's server (its socket is in the data directory). */
function clusterOf(localAdminUrl: string | undefined): string | undefined {
  const socketDir = localAdminUrl ? decodeURIComponent(new URL(localAdminUrl).hostname) : '';
  return socketDir.startsWith('/') ? path.dirname(socketDir) : undefined;
}

/** A clone that failed because the server's disk is full: the postgres provider's folder is known; another server's is not. */
export function serverDiskFull(localAdminUrl: string | undefined, error: unknown): ShipgateError {
  const detail = ((error as Error | undefined)?.message ?? String(error)).split('\n')[0]!;
  const folder = clusterOf(localAdminUrl);
  if (folder) return /shared memory/.test(detail) ? sharedMemoryFull(detail) : noSpace(folder, clusterFolder, isDiskFull(error) ? detail : `the server stopped (${detail})`); // the detail says it all: no cause, whose stack a test failure would print
  return new ShipgateError('db.no-space', `the database server's disk is full: ${detail}`, {
    hint: 'free space on the server (the provider url or testcontainers: its data volume), or use fewer clones (poolSize)',
    exitCode: ExitCode.external,
    cause: error,
  });
}

/**
 * A full disk fails every test after it the same way. The first test of the run to hit it gets the
 * whole error (what, where, hint: no stack trace); the others one short line saying it was said.
 * Processes of a run agree through a flag file named by the run.
 */
export function sayOnce(error: unknown, run: string): unknown {
  if (!(error instanceof ShipgateError) || error.code !== 'db.no-space') return error;
  try {
    writeFileSync(saidFlag(run), String(process.pid), { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      const short = new ShipgateError('db.no-space', 'no database for this test: the disk is full (said once, in the first failure)', { exitCode: ExitCode.external });
      short.stack = `${short.message} [${short.code}]`;
      return short;
    }
  }
  error.stack = error.format(); // the message and the hint, as a test failure shows it
  return error;
}

/** The flag of a run's full disk (removed at the run's end; flags of runs killed are removed after a day). */
export function saidFlag(run: string): string {
  return path.join(os.tmpdir(), `shipgate-test-harness-${run}.no-space`);
}

/** Removes the full-disk flags of runs that ended without removing theirs (killed) more than a day ago. */
export async function removeStaleFlags(): Promise<void> {
  const dir = os.tmpdir();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!/^shipgate-test-harness-[0-9a-z]+\.no-space$/.test(name)) continue;
    const file = path.join(dir, name);
    const age = Date.now() - ((await stat(file).catch(() => undefined))?.mtimeMs ?? Date.now());
    if (age > 24 * 3600 * 1000) await rm(file, { force: true }).catch(() => undefined);
  }
}

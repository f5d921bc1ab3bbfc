// The `pglite` provider: Postgres compiled to WASM, in this process; nothing to install. The
// template is a data-directory dump kept on disk by content hash, so a second run skips the
// migrations; each database is a new PGlite instance loaded from that dump.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PgliteSqlClient, type QueryResult, type SqlClient } from '../sql/client.js';
import { inFolder, pgliteCache, writableFolder } from '../lifecycle/disk-errors.js';
import { alive } from '../lifecycle/processes.js';
import { freePort } from './local.js';

/** The installed PGlite's version (part of the template key), read without starting it (a first start compiles WASM for seconds). */
export async function pgliteVersion(): Promise<string> {
  // the package does not export its package.json: find it above the resolved entry point
  let dir = path.dirname(resolvePglite());
  for (let i = 0; i < 5; i += 1, dir = path.dirname(dir)) {
    const text = await readFile(path.join(dir, 'package.json'), 'utf8').catch(() => undefined);
    if (text) {
      const pkg = JSON.parse(text) as { name?: string; version?: string };
      if (pkg.name === '@electric-sql/pglite') return `pglite ${pkg.version}`;
    }
  }
  return 'pglite';
}

/** The file of PGlite's entry point. Vite's module runner (a Vitest global set-up) has no import.meta.resolve: then ask require. */
function resolvePglite(): string {
  try {
    return fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
  } catch {
    return createRequire(import.meta.url).resolve('@electric-sql/pglite');
  }
}

// Builds under way in this process, by file: parallel steps (a matrix) share one build.
const building = new Map<string, Promise<{ file: string; built: boolean }>>();

export interface PgliteCacheOptions {
  /** Whose templates these are (a short tag of the project): each project keeps its own newest few. */
  project: string;
  /** How many templates of the project to keep. Default 3. */
  keep?: number;
}

/** The template file of `key` in `cacheDir`. */
export function pgliteTemplateFile(cacheDir: string, key: string, project: string): string {
  return path.join(cacheDir, `pglite-${project}-${key.slice(0, 24)}.tar`);
}

/** Builds (or finds) the template dump for `key`; returns its file. Prunes the project's older templates. */
export async function ensurePgliteTemplate(cacheDir: string, key: string, build: (client: SqlClient) => Promise<void>, cache: PgliteCacheOptions): Promise<{ file: string; built: boolean }> {
  const file = pgliteTemplateFile(cacheDir, key, cache.project);
  let result: { file: string; built: boolean };
  if (existsSync(file)) {
    result = { file, built: false };
    await utimes(file, new Date(), new Date()).catch(() => undefined); // used now: the newest to keep
  } else {
    let pending = building.get(file);
    if (!pending) {
      pending = buildTemplate(file, cacheDir, build).finally(() => building.delete(file));
      building.set(file, pending);
    }
    result = await pending;
  }
  await prunePgliteCache(cacheDir, cache.project, cache.keep ?? 3, file);
  return result;
}

const templateName = /^pglite-(?:([0-9a-f]{8})-)?[0-9a-f]{24}\.tar$/;
const partialName = /^pglite-.*\.tar\.(\d+)\.[0-9a-f-]+\.tmp$/;

/**
 * Keeps the `keep` most recently used templates of `project` (always `current`), and removes
 * half-written dumps of dead processes and the untagged templates of older versions. Other
 * projects' templates are left alone. Returns the files removed.
 */
export async function prunePgliteCache(cacheDir: string, project: string, keep: number, current: string): Promise<string[]> {
  const entries = await readdir(cacheDir).catch(() => [] as string[]);
  const mine: Array<{ name: string; mtime: number }> = [];
  const remove: string[] = [];
  for (const name of entries) {
    const partial = partialName.exec(name);
    if (partial) {
      if (!alive(Number(partial[1]))) remove.push(name);
      continue;
    }
    const m = templateName.exec(name);
    if (!m) continue;
    if (m[1] === undefined) remove.push(name); // untagged: written before templates had a project
    else if (m[1] === project && name !== path.basename(current)) mine.push({ name, mtime: (await stat(path.join(cacheDir, name)).catch(() => undefined))?.mtimeMs ?? 0 });
  }
  mine.sort((a, b) => b.mtime - a.mtime);
  remove.push(...mine.slice(Math.max(0, keep - 1)).map((t) => t.name));
  for (const name of remove) await rm(path.join(cacheDir, name), { force: true }).catch(() => undefined);
  return remove;
}

async function buildTemplate(file: string, cacheDir: string, build: (client: SqlClient) => Promise<void>): Promise<{ file: string; built: boolean }> {
  // said at once, not after a build of several seconds
  await writableFolder(cacheDir, pgliteCache);
  const db = await PGlite.create();
  try {
    await build(new PgliteSqlClient(db));
    const dump = await db.dumpDataDir('none');
    const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
    await inFolder(cacheDir, pgliteCache, async () => {
      try {
        await writeFile(tmp, Buffer.from(await dump.arrayBuffer()));
        await rename(tmp, file); // atomic: a concurrent run sees the whole dump or none
      } finally {
        await rm(tmp, { force: true });
      }
    });
  } finally {
    await db.close();
  }
  return { file, built: true };
}

/**
 * A PGlite loaded from a template dump. Where the sandbox cannot load PGlite (jest in a CommonJS
 * project has no dynamic import()), the database runs in a worker thread instead.
 */
export async function openPgliteClone(templateFile: string): Promise<SqlClient> {
  if (!(await sandboxImports())) return PgliteWorkerClient.open(templateFile);
  const bytes = await readFile(templateFile);
  return new PgliteSqlClient(await PGlite.create({ loadDataDir: new Blob([bytes]) }));
}

let canImport: Promise<boolean> | undefined;
/**
 * Whether code here can use import() (PGlite needs it to load its WASM). Jest without ESM runs
 * tests in a vm context with no dynamic import: PGlite fails there, with an unhandled rejection
 * besides, so ask first, with an import of our own.
 */
function sandboxImports(): Promise<boolean> {
  canImport ??= (new Function('return import("node:path")') as () => Promise<unknown>)().then(
    () => true,
    () => false,
  );
  return canImport;
}

/** The SqlClient of a PGlite in a worker thread (see pglite-worker.ts). */
export class PgliteWorkerClient implements SqlClient {
  #next = 0;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: unknown): void }>();

  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: { id?: number; rows?: unknown[]; error?: Record<string, unknown> }) => {
      const waiting = message.id === undefined ? undefined : this.#pending.get(message.id);
      if (!waiting) return;
      this.#pending.delete(message.id!);
      if (message.error) waiting.reject(Object.assign(new Error(String(message.error.message)), message.error));
      else waiting.resolve(message.rows);
    });
    worker.on('error', (error) => {
      for (const waiting of this.#pending.values()) waiting.reject(error);
      this.#pending.clear();
    });
  }

  static async open(templateFile: string): Promise<PgliteWorkerClient> {
    // dist/providers/pglite-worker.js, from this file or from a bundle in dist/cjs (both one level below dist)
    const script = fileURLToPath(new URL('../providers/pglite-worker.js', import.meta.url));
    const worker = new Worker(script, { workerData: { templateFile } });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the PGlite worker exited (${code}) before it was ready`)));
    });
    worker.unref(); // an idle database must not keep a finished test process alive
    return new PgliteWorkerClient(worker);
  }

  #call<T>(op: 'query' | 'exec' | 'close', sql?: string, params?: readonly unknown[]): Promise<T> {
    const id = (this.#next += 1);
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ id, op, sql, params: params ? [...params] : undefined });
    });
  }

  async query<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
    return { rows: await this.#call<Row[]>('query', sql, params) };
  }

  async exec(sql: string): Promise<void> {
    await this.#call('exec', sql);
  }

  async close(): Promise<void> {
    await this.#call('close').catch(() => undefined);
    await this.worker.terminate();
  }
}

/**
 * Serves a PGlite database on a free loopback port (the Postgres wire protocol, several client
 * connections multiplexed), so a command that only knows DATABASE_URL can use it.
 */
export async function servePglite(client: PgliteSqlClient, maxConnections = 10): Promise<{ url: string; close(): Promise<void> }> {
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const port = await freePort();
  const server = new PGLiteSocketServer({ db: client.db, host: '127.0.0.1', port, maxConnections });
  await server.start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    close: () => server.stop(),
  };
}

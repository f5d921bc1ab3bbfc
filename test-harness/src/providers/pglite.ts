// The `pglite` provider: Postgres compiled to WASM, in this process; nothing to install. The
// template is a data-directory dump kept on disk by content hash, so a second run skips the
// migrations; each database is a new PGlite instance loaded from that dump.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { PgliteSqlClient, type SqlClient } from '../sql/client.js';
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

/** Builds (or finds) the template dump for `key`; returns its file. */
export function ensurePgliteTemplate(cacheDir: string, key: string, build: (client: SqlClient) => Promise<void>): Promise<{ file: string; built: boolean }> {
  const file = path.join(cacheDir, `pglite-${key.slice(0, 24)}.tar`);
  if (existsSync(file)) return Promise.resolve({ file, built: false });
  let pending = building.get(file);
  if (!pending) {
    pending = buildTemplate(file, cacheDir, build).finally(() => building.delete(file));
    building.set(file, pending);
  }
  return pending;
}

async function buildTemplate(file: string, cacheDir: string, build: (client: SqlClient) => Promise<void>): Promise<{ file: string; built: boolean }> {
  await mkdir(cacheDir, { recursive: true });
  const db = await PGlite.create();
  try {
    await build(new PgliteSqlClient(db));
    const dump = await db.dumpDataDir('none');
    const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(tmp, Buffer.from(await dump.arrayBuffer()));
    await rename(tmp, file); // atomic: a concurrent run sees the whole dump or none
  } finally {
    await db.close();
  }
  return { file, built: true };
}

/** A PGlite loaded from a template dump. */
export async function openPgliteClone(templateFile: string): Promise<PgliteSqlClient> {
  const bytes = await readFile(templateFile);
  const db = await PGlite.create({ loadDataDir: new Blob([bytes]) });
  return new PgliteSqlClient(db);
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

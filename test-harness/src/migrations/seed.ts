// Seed ("init") data: SQL files (a file or a folder, in name order) or a module whose default
// export is `async (client) => { … }` (TypeScript runs as-is on Node 24).
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ShipgateError } from '@shipgate/protocol';
import type { SqlClient } from '../sql/client.js';
import { runScript } from './apply.js';
import { archiveFormat, archiveToSql, type ArchiveFormat } from './pg-archive.js';

/** sha256 of an archive file, or of a -Fd folder's files (names and contents). */
async function archiveDigest(file: string, isDirectory: boolean): Promise<string> {
  const hash = createHash('sha256');
  if (!isDirectory) hash.update(await readFile(file));
  else for (const name of (await readdir(file)).sort()) hash.update(`${name}\0`).update(await readFile(path.join(file, name)));
  return hash.digest('hex');
}

export type SeedFunction = (client: SqlClient) => Promise<void>;

export type SeedSource =
  | { kind: 'sql'; files: Array<{ name: string; sql: string }> }
  | { kind: 'module'; file: string; text: string }
  /** A pg_dump archive (-Fc, -Fd, -Ft): turned into SQL by pg_restore only when a template is built. */
  | { kind: 'archive'; name: string; file: string; format: ArchiveFormat; digest: string }
  | { kind: 'function'; fn: SeedFunction; key: string };

const moduleExtensions = ['.ts', '.mts', '.js', '.mjs'];

/** Reads a seed given as a path (file or folder) relative to `cwd`. */
export async function loadSeed(spec: string, cwd: string): Promise<SeedSource> {
  const full = path.resolve(cwd, spec);
  const info = await stat(full).catch(() => undefined);
  if (!info) throw new ShipgateError('db.seed-not-found', `seed ${spec} does not exist`, { hint: 'a .sql file, a folder of .sql files, a pg_dump archive, or a .ts/.js module exporting async (client) => {}' });
  const format = await archiveFormat(full);
  if (format) return { kind: 'archive', name: spec, file: full, format, digest: await archiveDigest(full, info.isDirectory()) };
  if (info.isDirectory()) {
    const names = (await readdir(full)).filter((n) => n.endsWith('.sql')).sort();
    if (names.length === 0) throw new ShipgateError('db.seed-not-found', `seed folder ${spec} has no .sql files`, { hint: 'add 001_reference_data.sql, …, or point seed at a module' });
    return { kind: 'sql', files: await Promise.all(names.map(async (n) => ({ name: `${spec.replace(/\/$/, '')}/${n}`, sql: await readFile(path.join(full, n), 'utf8') }))) };
  }
  if (full.endsWith('.sql')) return { kind: 'sql', files: [{ name: spec, sql: await readFile(full, 'utf8') }] };
  if (moduleExtensions.includes(path.extname(full))) return { kind: 'module', file: full, text: await readFile(full, 'utf8') };
  throw new ShipgateError('db.seed-kind', `seed ${spec} is neither SQL nor a module`, { hint: `use .sql, or a module ending in ${moduleExtensions.join(', ')}` });
}

export function seedDigest(seed: SeedSource | undefined): string {
  const hash = createHash('sha256');
  if (!seed) hash.update('none');
  else if (seed.kind === 'sql') for (const f of seed.files) hash.update(`${f.name}\0${f.sql}\0`);
  else if (seed.kind === 'module') hash.update(`module\0${seed.text}`);
  else if (seed.kind === 'archive') hash.update(`archive\0${seed.digest}`);
  else hash.update(`function\0${seed.key}`);
  return hash.digest('hex');
}

export async function applySeed(client: SqlClient, seed: SeedSource): Promise<void> {
  if (seed.kind === 'sql') {
    for (const file of seed.files) await runScript(client, file, 'seed');
    return;
  }
  if (seed.kind === 'archive') {
    // line numbers in errors are lines of the script pg_restore prints
    await runScript(client, { name: `${seed.name} (as pg_restore -f - prints it)`, sql: await archiveToSql(seed.file, seed.name, seed.format) }, 'seed');
    return;
  }
  let fn: SeedFunction;
  if (seed.kind === 'function') fn = seed.fn;
  else {
    const mod = (await import(pathToFileURL(seed.file).href)) as { default?: unknown; seed?: unknown };
    const exported = mod.default ?? mod.seed;
    if (typeof exported !== 'function') {
      throw new ShipgateError('db.seed-kind', `seed module ${seed.file} exports no function`, { hint: 'export default async function seed(client) { await client.query(…) }' });
    }
    fn = exported as SeedFunction;
  }
  try {
    await fn(client);
  } catch (error) {
    throw new ShipgateError('db.seed-failed', `seed ${seed.kind === 'module' ? seed.file : 'function'} failed: ${(error as Error).message}`, { hint: 'fix the seed; nothing was kept (the database is thrown away)' });
  }
}

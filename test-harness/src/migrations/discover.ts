// Finds the migrations of a SQL folder and puts them in order. Two conventions, never mixed:
//  - Flyway: V<version>__<description>.sql (version parts split by . or _, compared as numbers),
//    then the repeatable R__<description>.sql ones, by description; U…__ (undo) files are ignored;
//  - numbered: 001_init.sql, 002-add-orders.sql, compared as numbers.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ShipgateError } from '@shipgate/protocol';

export interface Migration {
  /** Path relative to the migrations folder, with / separators. */
  name: string;
  /** Absolute path. */
  file: string;
  kind: 'versioned' | 'repeatable' | 'numbered';
  /** Numeric parts of the version ([] for repeatables). */
  version: number[];
  description: string;
  sql: string;
}

const flywayVersioned = /^V(\d+(?:[._]\d+)*)__(.+)\.sql$/;
const flywayRepeatable = /^R__(.+)\.sql$/;
const flywayUndo = /^U\d+(?:[._]\d+)*__.+\.sql$/;
const numbered = /^(\d+)[_-](.+)\.sql$/;

async function sqlFiles(root: string, dir = root): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sqlFiles(root, full)));
    else if (entry.isFile() && entry.name.endsWith('.sql')) out.push(full);
  }
  return out;
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Reads and orders the migrations of `dir`. Throws a ShipgateError naming the file for a bad name or a duplicate version. */
export async function discoverMigrations(dir: string): Promise<Migration[]> {
  const root = path.resolve(dir);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new ShipgateError('db.migrations-not-found', `migrations folder ${dir} does not exist`, { hint: 'point migrations at a folder of .sql files (V1__init.sql or 001_init.sql)' });
  }
  const found: Migration[] = [];
  const odd: string[] = [];
  for (const file of await sqlFiles(root)) {
    const base = path.basename(file);
    const name = path.relative(root, file).split(path.sep).join('/');
    const sql = await readFile(file, 'utf8');
    let m: RegExpExecArray | null;
    if ((m = flywayVersioned.exec(base))) {
      found.push({ name, file, kind: 'versioned', version: m[1]!.split(/[._]/).map(Number), description: m[2]!.replace(/_/g, ' '), sql });
    } else if ((m = flywayRepeatable.exec(base))) {
      found.push({ name, file, kind: 'repeatable', version: [], description: m[1]!.replace(/_/g, ' '), sql });
    } else if (flywayUndo.test(base)) {
      continue;
    } else if ((m = numbered.exec(base))) {
      found.push({ name, file, kind: 'numbered', version: [Number(m[1])], description: m[2]!.replace(/[_-]/g, ' '), sql });
    } else {
      odd.push(name);
    }
  }
  if (odd.length) {
    throw new ShipgateError('db.migration-name', `${path.join(dir, odd[0]!)}: not a migration name${odd.length > 1 ? ` (and ${odd.length - 1} more: ${odd.slice(1, 4).join(', ')})` : ''}`, {
      hint: 'name migrations V1__init.sql / V1.1__add_orders.sql / R__views.sql (Flyway) or 001_init.sql (numbered)',
    });
  }
  const numberedFiles = found.filter((f) => f.kind === 'numbered');
  const flyway = found.filter((f) => f.kind !== 'numbered');
  if (numberedFiles.length && flyway.length) {
    throw new ShipgateError('db.migration-name', `${dir} mixes Flyway names (${flyway[0]!.name}) and numbered names (${numberedFiles[0]!.name})`, { hint: 'use one convention for the whole folder' });
  }
  const versioned = found.filter((f) => f.kind !== 'repeatable').sort((a, b) => compareVersions(a.version, b.version) || a.name.localeCompare(b.name));
  for (let i = 1; i < versioned.length; i += 1) {
    if (compareVersions(versioned[i - 1]!.version, versioned[i]!.version) === 0) {
      throw new ShipgateError('db.migration-duplicate', `${versioned[i - 1]!.name} and ${versioned[i]!.name} have the same version ${versioned[i]!.version.join('.')}`, { hint: 'give every migration its own version' });
    }
  }
  const repeatable = found.filter((f) => f.kind === 'repeatable').sort((a, b) => a.description.localeCompare(b.description));
  return [...versioned, ...repeatable];
}

/** sha256 over names and contents, in order: the template key's migration part. */
export function migrationsDigest(migrations: readonly Migration[]): string {
  const hash = createHash('sha256');
  for (const m of migrations) hash.update(`${m.name}\0${m.sql}\0`);
  return hash.digest('hex');
}

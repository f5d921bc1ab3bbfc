// `shipgate db check`: applies every migration from zero on a fresh database, loads the seed, and
// compares the resulting schema with the committed snapshot — the guard that a schema change came
// with its init data and its reviewed snapshot.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { ShipgateError } from '@shipgate/protocol';
import { PGlite } from '@electric-sql/pglite';
import { applyMigrations } from '../migrations/apply.js';
import { discoverMigrations } from '../migrations/discover.js';
import { applySeed, loadSeed } from '../migrations/seed.js';
import { resolveConfig, startServer } from '../harness.js';
import { dropDatabase, hostTag, marker, ownDatabaseName, urlFor } from '../providers/server.js';
import { ident, literal, PgliteSqlClient, PgSqlClient, type SqlClient } from '../sql/client.js';
import { schemaSnapshot, tableRowCounts } from './snapshot.js';
import { majorOf, pgliteMajor, versionMismatchError } from '../providers/postgres-version.js';

export interface DbCheckOptions {
  migrations: string;
  seed?: string;
  /** Default: `schema.snapshot` beside the migrations folder. */
  snapshot?: string;
  /** Write the snapshot instead of comparing. */
  update?: boolean;
  provider?: 'pglite' | 'postgres' | 'testcontainers' | 'url';
  url?: string;
  /** Production's Postgres major: a server provider must run it; with pglite (18), the migrations and seed also run on a server of that major when one can be had. */
  postgresVersion?: number;
  cwd: string;
  log?: (line: string) => void;
}

export interface DbCheckResult {
  migrations: number;
  rows: Record<string, number>;
  snapshotFile: string;
  /** compared and equal, written, missing (no committed snapshot), or differs (with the diff). */
  snapshot: 'equal' | 'written' | 'missing' | 'differs';
  diff?: string;
  /** Where the migrations ran: `PGlite (Postgres 18)`, `Postgres 15`. */
  checkedOn: string[];
  /** Said once: e.g. that no server of postgresVersion could be had, so only 18 was checked. */
  warnings: string[];
}

async function onFreshDatabase<T>(config: ReturnType<typeof resolveConfig>, fn: (client: SqlClient) => Promise<T>): Promise<T> {
  if (config.provider === 'pglite') {
    const client = new PgliteSqlClient(await PGlite.create());
    try {
      return await fn(client);
    } finally {
      await client.close();
    }
  }
  const server = await startServer(config);
  const name = ownDatabaseName('check', 'check'); // marked: a kill before its COMMENT still leaves it reapable
  const admin = await PgSqlClient.connect(server.adminUrl);
  try {
    await dropDatabase(admin, name);
    await admin.exec(`CREATE DATABASE ${ident(name)}`);
    await admin.exec(`COMMENT ON DATABASE ${ident(name)} IS ${literal(`${marker} check pid=${process.pid} host=${hostTag}`)}`);
    const client = await PgSqlClient.connect(urlFor(server.adminUrl, name));
    try {
      return await fn(client);
    } finally {
      await client.close();
    }
  } finally {
    await dropDatabase(admin, name).catch(() => undefined);
    await admin.close();
    await server.stop();
  }
}

/**
 * Runs the migrations and the seed again on a fresh database of a server of `target` (the postgres
 * provider's local binaries of that major). A failure there is the version's, named as such.
 */
async function onTargetServer(config: ReturnType<typeof resolveConfig>, target: number, build: (client: SqlClient) => Promise<void>): Promise<'ok' | 'unavailable'> {
  // local binaries of that major first, else a container of that major's image
  for (const provider of ['postgres', 'testcontainers'] as const) {
    try {
      await onFreshDatabase({ ...config, provider, postgresVersion: target }, build);
      return 'ok';
    } catch (error) {
      if (error instanceof ShipgateError && unavailable.has(error.code)) continue;
      if (error instanceof ShipgateError && (error.code === 'db.migration-failed' || error.code === 'db.seed-failed')) throw versionMismatchError(error, target);
      throw error;
    }
  }
  return 'unavailable';
}

/** Errors that mean "no server of that major here", not "the migration failed". */
const unavailable = new Set(['db.postgres-version', 'db.postgres-not-found', 'db.postgres-root', 'db.postgres-start', 'db.testcontainers-missing', 'db.docker-unavailable', 'db.image-missing', 'db.container-start']);

export async function dbCheck(options: DbCheckOptions): Promise<DbCheckResult> {
  const config = resolveConfig({
    provider: options.provider ?? 'pglite',
    cwd: options.cwd,
    ...(options.url ? { url: options.url } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.postgresVersion !== undefined ? { postgresVersion: options.postgresVersion } : {}),
  });
  if (config.engine === 'mariadb') {
    throw new ShipgateError('db.engine', 'shipgate db check compares Postgres schemas; it does not support MariaDB / MySQL yet', { hint: 'run it with --provider pglite or postgres on the Postgres migrations' });
  }
  const migrations = await discoverMigrations(path.resolve(options.cwd, options.migrations));
  const seed = options.seed ? await loadSeed(options.seed, options.cwd) : undefined;
  const snapshotFile = path.resolve(options.cwd, options.snapshot ?? path.join(path.dirname(options.migrations.replace(/\/$/, '')), 'schema.snapshot'));
  const build = async (client: SqlClient) => {
    await applyMigrations(client, migrations, options.migrations.replace(/\/$/, ''), (name) => options.log?.(`migrating ${name}`));
    if (seed) {
      options.log?.('seeding');
      await applySeed(client, seed);
    }
  };
  const { text, rows, version } = await onFreshDatabase(config, async (client) => {
    await build(client);
    const serverVersion = (await client.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v;
    return { text: await schemaSnapshot(client), rows: await tableRowCounts(client), version: serverVersion };
  });
  const checkedOn = [`${config.provider === 'pglite' ? 'PGlite (Postgres ' : 'Postgres '}${majorOf(version) ?? version}${config.provider === 'pglite' ? ')' : ''}`];
  const warnings: string[] = [];
  if (config.provider === 'pglite' && config.postgresVersion !== undefined && config.postgresVersion !== pgliteMajor) {
    const target = config.postgresVersion;
    const onTarget = await onTargetServer(config, target, build);
    if (onTarget === 'unavailable') warnings.push(`postgresVersion is ${target}, but no Postgres ${target} server could be had here: the migrations were checked on PGlite's Postgres ${pgliteMajor} only (install postgresql-${target}, or build shipgate/postgres:${target}-… for testcontainers)`);
    else checkedOn.push(`Postgres ${target}`);
  }
  const base = { migrations: migrations.length, rows, snapshotFile, checkedOn, warnings };
  if (options.update) {
    await writeFile(snapshotFile, text);
    return { ...base, snapshot: 'written' };
  }
  if (!existsSync(snapshotFile)) return { ...base, snapshot: 'missing' };
  const committed = await readFile(snapshotFile, 'utf8');
  if (committed === text) return { ...base, snapshot: 'equal' };
  const rel = path.relative(options.cwd, snapshotFile);
  return { ...base, snapshot: 'differs', diff: createTwoFilesPatch(`${rel} (committed)`, `${rel} (from the migrations)`, committed, text, '', '', { context: 1 }) };
}

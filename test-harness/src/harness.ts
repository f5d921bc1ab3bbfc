// The harness: prepare a template once (migrations + seed, keyed by content hash), then hand out
// fresh clones of it. `prepare` runs once per test run (jest's global set-up); `open` runs in each
// process that hands databases to tests (a jest worker) from the plain-data state prepare returns.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { applyMigrations } from './migrations/apply.js';
import { commandInputs, type CommandInputs } from './migrations/command-inputs.js';
import { discoverMigrations, migrationsDigest, type Migration } from './migrations/discover.js';
import { applySeed, loadSeed, seedDigest, type SeedFunction, type SeedSource } from './migrations/seed.js';
import { removeStaleFlags, saidFlag } from './lifecycle/disk-errors.js';
import { ensurePgliteTemplate, openPgliteClone, pgliteVersion } from './providers/pglite.js';
import { connectMysqlUrlServer, ensureMysqlTemplate, MysqlClonePool, reapMysql } from './providers/mysql-server.js';
import { untilDone, type Pool, type PooledClone, type PooledConnection } from './providers/pool.js';
import { startPostgres } from './providers/postgres.js';
import { ClonePool, ensureTemplate, reap, type DatabaseServer } from './providers/server.js';
import { connectUrlServer, maskUrl } from './providers/url.js';
import { PgSqlClient, type SqlClient } from './sql/client.js';
import { assertServerMajor, defaultImageFor, parsePostgresVersion, pgliteMajor } from './providers/postgres-version.js';
import { MysqlSqlClient } from './sql/mysql.js';

export const providers = ['pglite', 'postgres', 'testcontainers', 'url'] as const;
export type ProviderName = (typeof providers)[number];
export const isolations = ['test', 'file', 'transaction'] as const;
export const engines = ['postgres', 'mariadb'] as const;
export type Engine = (typeof engines)[number];
export type Isolation = (typeof isolations)[number];

export interface HarnessConfig {
  /** pglite (default: in-process, nothing to install), postgres (a server the harness starts), testcontainers (a container), url (an existing server). Default $SHIPGATE_TEST_PROVIDER or pglite. */
  provider?: ProviderName;
  /** Folder of SQL migrations (Flyway or numbered names). */
  migrations?: string;
  /** Or a command that migrates the database at $DATABASE_URL (prisma migrate deploy, knex migrate:latest, flyway migrate). */
  migrate?: string;
  /** With `migrate`: globs of the files the command reads (part of the template key). Default: the usual migrations folders that exist, and the files the command names. */
  inputs?: string[];
  /** Seed data: a .sql file, a folder of them, a .ts/.js module, or a function. */
  seed?: string | SeedFunction;
  /** With a seed function: what identifies its content (it is part of the template key). */
  seedKey?: string;
  /** url provider: a URL with the right to create databases. Default $SHIPGATE_TEST_DATABASE_URL. */
  url?: string;
  /** url provider: accept a server that is not loopback and not named like a test server. */
  allowNonTestServer?: boolean;
  /** test: a clone per test (default on server providers); file: one per test file; transaction: one per file, each test rolled back (default on pglite). */
  isolation?: Isolation;
  /** Clones kept ready per process. Default 2 (server providers), 1 (pglite). */
  poolSize?: number;
  /** Where relative paths start. Default: the current directory. */
  cwd?: string;
  /** postgres provider: where its clusters live. Default `/dev/shm/shipgate-test-harness-<uid>` where there is a memory file system with room, else `<tmp>/…`. */
  serverDir?: string;
  /** postgres (default) or mariadb (MariaDB / MySQL: testcontainers provider, or url with mysql://). Default $SHIPGATE_TEST_ENGINE, or from the url's scheme. */
  engine?: Engine;
  /** testcontainers provider: the Postgres image. Default $SHIPGATE_TEST_PG_IMAGE or shipgate/postgres:15-bookworm. */
  image?: string;
  /** testcontainers provider: host (default; a loopback port of this machine) or bridge (a mapped port, for Docker Desktop). */
  network?: 'host' | 'bridge';
  /** Production's Postgres major (e.g. 15). Server providers must run it; PGlite (18) warns. Default $SHIPGATE_TEST_POSTGRES_VERSION. */
  postgresVersion?: number;
  /** Where the pglite template dump is kept. Default $SHIPGATE_TEST_CACHE_DIR or `<cwd>/node_modules/.cache/shipgate-test-harness`. */
  cacheDir?: string;
  /** pglite: how many templates of this project the cache keeps (older ones are pruned at start). Default $SHIPGATE_TEST_CACHE_KEEP or 3. */
  cacheKeep?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** Everything a worker needs, as plain data (it crosses processes in an environment variable). */
export interface HarnessState {
  provider: ProviderName;
  isolation: Isolation;
  poolSize: number;
  /** Identifies this run's clones (reaped at its end even if a worker is killed). */
  run: string;
  key: string;
  /** Server providers: postgres (default) or mariadb. */
  engine?: Engine;
  /** Server providers. */
  adminUrl?: string;
  /** Server providers: the admin URL over a Unix socket that needs no password (the harness's own connections). */
  localAdminUrl?: string;
  template?: string;
  /** pglite. */
  templateFile?: string;
  /** Whether this run built the template (false: reused from an earlier run). */
  built: boolean;
}

export interface TestDatabase {
  /** The database name (server providers) or `pglite`. */
  name: string;
  /** postgres:// URL of this database (server providers; PGlite has none). */
  url?: string;
  /** A connected client. */
  client: SqlClient;
  /** Closes the client and throws the database away. */
  release(): Promise<void>;
}

export interface PreparedHarness {
  state: HarnessState;
  /** Stops the server the harness started and drops this run's leftover clones. */
  stop(): Promise<void>;
}

function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}

export function resolveConfig(config: HarnessConfig): Required<Pick<HarnessConfig, 'provider' | 'isolation' | 'cwd' | 'engine'>> & HarnessConfig {
  const provider = (config.provider ?? env('SHIPGATE_TEST_PROVIDER') ?? 'pglite') as ProviderName;
  if (!providers.includes(provider)) {
    throw new ShipgateError('db.provider', `unknown provider "${provider}"`, { hint: `providers: ${providers.join(', ')}` });
  }
  // PGlite loads a database in about a second, a server clones one in milliseconds: per-test
  // isolation on PGlite is a rolled-back transaction unless asked otherwise
  const isolation = (config.isolation ?? env('SHIPGATE_TEST_ISOLATION') ?? (provider === 'pglite' ? 'transaction' : 'test')) as Isolation;
  if (!isolations.includes(isolation)) {
    throw new ShipgateError('db.isolation', `unknown isolation "${isolation}"`, { hint: `isolation: ${isolations.join(', ')}` });
  }
  if (config.migrations && config.migrate) {
    throw new ShipgateError('db.config', 'give migrations (a SQL folder) or migrate (a command), not both', { hint: 'a command that migrates runs against $DATABASE_URL' });
  }
  const url = config.url ?? env('SHIPGATE_TEST_DATABASE_URL');
  const engine = (config.engine ?? env('SHIPGATE_TEST_ENGINE') ?? (provider === 'url' && url && /^(mysql|mariadb):/.test(url) ? 'mariadb' : 'postgres')) as Engine;
  if (!engines.includes(engine)) {
    throw new ShipgateError('db.engine', `unknown engine "${engine}"`, { hint: `engines: ${engines.join(', ')}` });
  }
  if (engine === 'mariadb' && provider !== 'testcontainers' && provider !== 'url') {
    throw new ShipgateError('db.config', `engine mariadb runs on provider testcontainers or url, not ${provider}`, { hint: 'set provider: testcontainers (a MariaDB container) or url (mysql://…)' });
  }
  if (config.inputs && !config.migrate) {
    throw new ShipgateError('db.config', 'inputs: lists the files a migrate command reads, and there is no migrate command', { hint: 'remove inputs, or add migrate: <command>' });
  }
  if (config.migrate && provider === 'pglite') {
    throw new ShipgateError('db.config', 'migrate: a command needs a server to connect to, and pglite runs in-process', { hint: 'use provider postgres (or url), or a SQL migrations folder' });
  }
  const postgresVersion = parsePostgresVersion(config.postgresVersion ?? env('SHIPGATE_TEST_POSTGRES_VERSION'), config.postgresVersion === undefined ? 'SHIPGATE_TEST_POSTGRES_VERSION' : 'postgresVersion');
  return { ...config, provider, isolation, engine, cwd: path.resolve(config.cwd ?? process.cwd()), ...(postgresVersion !== undefined ? { postgresVersion } : {}) };
}

function runCommand(command: string, cwd: string, databaseUrl: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd, env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-4000)));
    child.stderr.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new ShipgateError('db.migration-failed', `migrate command "${command}" exited with ${code}:\n${out.replaceAll(databaseUrl, maskUrl(databaseUrl)).trim()}`, { exitCode: ExitCode.failed })),
    );
  });
}

interface Sources {
  migrations: Migration[];
  seed: SeedSource | undefined;
  migrationsLabel: string;
  /** What a migrate command reads (its files are part of the template key). */
  commandInputs?: CommandInputs;
}

async function readSources(config: ReturnType<typeof resolveConfig>): Promise<Sources> {
  const migrations = config.migrations ? await discoverMigrations(path.resolve(config.cwd, config.migrations)) : [];
  let seed: SeedSource | undefined;
  if (typeof config.seed === 'function') seed = { kind: 'function', fn: config.seed, key: config.seedKey ?? config.seed.toString() };
  else if (config.seed) seed = await loadSeed(config.seed, config.cwd);
  const inputs = config.migrate ? await commandInputs(config.migrate, config.cwd, config.inputs) : undefined;
  if (inputs) config.log?.(`template key: ${inputs.label}`);
  return { migrations, seed, migrationsLabel: config.migrations ?? '', ...(inputs ? { commandInputs: inputs } : {}) };
}

/** How many pglite templates a project keeps: a whole number of at least 1. */
function cacheKeep(config: HarnessConfig): number {
  const keep = config.cacheKeep ?? Number(env('SHIPGATE_TEST_CACHE_KEEP') ?? 3);
  if (!Number.isInteger(keep) || keep < 1) throw new ShipgateError('db.config', `cacheKeep must be a whole number of at least 1, not ${String(keep)}`, { hint: 'set cacheKeep (or SHIPGATE_TEST_CACHE_KEEP) to 1 or more' });
  return keep;
}

function templateKey(config: ReturnType<typeof resolveConfig>, sources: Sources, version: string): string {
  return createHash('sha256')
    .update(['shipgate-test-harness/1', config.provider === 'pglite' ? 'pglite' : 'server', version, migrationsDigest(sources.migrations), config.migrate ?? '', ...(sources.commandInputs ? [sources.commandInputs.digest] : []), seedDigest(sources.seed)].join('\0'))
    .digest('hex');
}

/** Migrates and seeds one empty database. */
async function build(client: SqlClient, config: ReturnType<typeof resolveConfig>, sources: Sources, url?: string): Promise<void> {
  if (config.migrate) await runCommand(config.migrate, config.cwd, url!);
  await applyMigrations(client, sources.migrations, sources.migrationsLabel.replace(/\/$/, ''), (name) => config.log?.(`migrating ${name}`));
  if (sources.seed) {
    config.log?.('seeding');
    await applySeed(client, sources.seed);
  }
}

/** Starts or reaches the server of a server provider (postgres, testcontainers, url). */
export async function startServer(config: ReturnType<typeof resolveConfig>): Promise<DatabaseServer> {
  const server = await reachServer(config);
  if (server.engine !== 'mariadb') {
    try {
      assertServerMajor(config.provider, server.version, config.postgresVersion);
    } catch (error) {
      await server.stop();
      throw error;
    }
  }
  return server;
}

async function reachServer(config: ReturnType<typeof resolveConfig>): Promise<DatabaseServer> {
  const major = config.postgresVersion !== undefined ? { major: config.postgresVersion } : {};
  if (config.provider === 'postgres') return startPostgres({ ...major, ...(config.log ? { log: config.log } : {}), ...((config.serverDir ?? env('SHIPGATE_TEST_SERVER_DIR')) ? { baseDir: config.serverDir ?? env('SHIPGATE_TEST_SERVER_DIR')! } : {}) });
  if (config.provider === 'testcontainers') {
    const { startContainerServer } = await import('./providers/testcontainers.js');
    // an image of the asked major, unless one is named
    const image = config.image ?? (config.engine === 'postgres' && !env('SHIPGATE_TEST_PG_IMAGE') ? defaultImageFor(config.postgresVersion) : undefined);
    return startContainerServer({ engine: config.engine, ...(image ? { image } : {}), ...(config.network ? { network: config.network } : {}), ...(config.log ? { log: config.log } : {}) });
  }
  const url = config.url ?? env('SHIPGATE_TEST_DATABASE_URL');
  if (url && config.engine === 'mariadb') {
    return connectMysqlUrlServer(url, { allowNonTestServer: config.allowNonTestServer ?? env('SHIPGATE_TEST_ALLOW_SERVER') === '1' });
  }
  if (!url) throw new ShipgateError('db.url', 'the url provider needs a URL', { hint: 'set url in the harness config, or SHIPGATE_TEST_DATABASE_URL' });
  return connectUrlServer(url, { allowNonTestServer: config.allowNonTestServer ?? env('SHIPGATE_TEST_ALLOW_SERVER') === '1' });
}

/** Once per run: start or reach the server, reap what killed runs left, make sure the template exists. */
export async function prepareHarness(input: HarnessConfig): Promise<PreparedHarness> {
  const config = resolveConfig(input);
  const sources = await readSources(config);
  const run = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const base = { provider: config.provider, isolation: config.isolation, run };

  if (config.provider === 'pglite') {
    if (config.postgresVersion !== undefined && config.postgresVersion !== pgliteMajor) {
      config.log?.(`warning: postgresVersion is ${config.postgresVersion}, but pglite runs Postgres ${pgliteMajor}: tests run on ${pgliteMajor} only (shipgate db check --postgres-version ${config.postgresVersion} checks the migrations on ${config.postgresVersion})`);
    }
    const key = templateKey(config, sources, await pgliteVersion());
    const cacheDir = config.cacheDir ?? env('SHIPGATE_TEST_CACHE_DIR') ?? path.join(config.cwd, 'node_modules', '.cache', 'shipgate-test-harness');
    const cache = { project: createHash('sha256').update(config.cwd).digest('hex').slice(0, 8), keep: cacheKeep(config) };
    const { file, built } = await ensurePgliteTemplate(cacheDir, key, (client) => build(client, config, sources), cache);
    return { state: { ...base, poolSize: config.poolSize ?? 1, key, templateFile: file, built }, async stop() {} };
  }

  await removeStaleFlags();
  const server = await startServer(config);
  const engine: ServerEngine<SqlClient> = config.engine === 'mariadb' ? mariadbEngine : postgresEngine;
  try {
    const admin = await engine.connect(server.adminUrl);
    let version: string;
    try {
      const dropped = await engine.reap(admin);
      if (dropped.length) config.log?.(`dropped ${dropped.length} database(s) left by killed runs`);
      version = (await admin.query<{ v: string }>(engine.versionSql)).rows[0]!.v;
    } finally {
      await admin.close();
    }
    const key = templateKey(config, sources, `${config.engine} ${version}`);
    const template = await engine.ensureTemplate(server, {
      key,
      run,
      build: async (url) => {
        const client = await engine.connect(url);
        try {
          await build(client, config, sources, url);
        } finally {
          await client.close();
        }
      },
    });
    const state: HarnessState = { ...base, engine: config.engine, poolSize: config.poolSize ?? 2, key, adminUrl: server.adminUrl, ...(server.localAdminUrl ? { localAdminUrl: server.localAdminUrl } : {}), template: template.name, built: template.built };
    return {
      state,
      stop: () =>
        untilDone(async () => {
          const admin = await engine.connect(server.adminUrl).catch(() => undefined);
          if (admin) {
            await engine.reap(admin, { run }).catch(() => undefined);
            await admin.close();
          }
          await server.stop();
          await rm(saidFlag(run), { force: true });
        }),
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** What differs between Postgres and MariaDB servers when preparing a run. */
interface ServerEngine<Client extends SqlClient> {
  connect(url: string): Promise<Client>;
  /** Drops this machine's databases of dead processes (or of `run`); returns their names. */
  reap(admin: Client, options?: { run?: string }): Promise<string[]>;
  versionSql: string;
  ensureTemplate(server: DatabaseServer, spec: { key: string; run: string; build(url: string): Promise<void> }): Promise<{ name: string; built: boolean }>;
}

const postgresEngine: ServerEngine<PgSqlClient> = {
  connect: (url) => PgSqlClient.connect(url),
  reap,
  versionSql: `SELECT current_setting('server_version') AS v`,
  ensureTemplate,
};

const mariadbEngine: ServerEngine<MysqlSqlClient> = {
  connect: (url) => MysqlSqlClient.connect(url),
  reap: reapMysql,
  versionSql: 'SELECT version() AS v',
  ensureTemplate: ensureMysqlTemplate,
};

export interface Harness {
  readonly state: HarnessState;
  /** A fresh database no one else touches. */
  acquire(): Promise<TestDatabase>;
  /** Throws away every database this harness still holds. */
  close(): Promise<void>;
}

/** In a process that hands databases to tests: clones from a pool filled in the background. */
export function openHarness(state: HarnessState): Harness {
  if (state.provider === 'pglite') {
    const ready: Array<Promise<SqlClient>> = [];
    const held = new Set<SqlClient>();
    const fill = () => {
      while (ready.length < state.poolSize) {
        const p = openPgliteClone(state.templateFile!);
        p.catch(() => undefined);
        ready.push(p);
      }
    };
    return {
      state,
      async acquire() {
        const next = ready.shift() ?? openPgliteClone(state.templateFile!);
        fill();
        const client = await next;
        held.add(client);
        return {
          name: 'pglite',
          client,
          async release() {
            held.delete(client);
            await client.close();
          },
        };
      },
      async close() {
        for (const p of ready.splice(0)) await (await p.catch(() => undefined))?.close();
        for (const c of held) await c.close();
        held.clear();
      },
    };
  }

  const server: DatabaseServer = { provider: state.provider, adminUrl: state.adminUrl!, ...(state.localAdminUrl ? { localAdminUrl: state.localAdminUrl } : {}), version: '', async stop() {} };
  const options = { size: state.poolSize, run: state.run };
  const pool: Pool<PooledClone<SqlClient & PooledConnection>> =
    state.engine === 'mariadb' ? new MysqlClonePool(state.adminUrl!, state.template!, options) : new ClonePool(server, state.template!, options);
  const held = new Set<TestDatabase>();
  return {
    state,
    async acquire() {
      const clone = await pool.acquire();
      const db: TestDatabase = {
        name: clone.name,
        url: clone.url,
        client: clone.client,
        async release() {
          held.delete(db);
          pool.release(clone);
        },
      };
      held.add(db);
      return db;
    },
    async close() {
      for (const db of [...held]) await db.release();
      await pool.close();
    },
  };
}


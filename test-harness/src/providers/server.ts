// What the server providers (postgres, url, testcontainers) share: a template database per content
// hash, clones of it handed to tests from a pool, and the reaping of what killed runs left behind.
// Clones and template builds are named shipgate_t_<machine>_<pid>_<run>_<n>_<checksum>, so their
// owner is known from the instant they exist (a COMMENT, written after, is for people); templates are
// shipgate_tpl_… with a comment. Nothing else is ever altered or dropped.
import { createHash } from 'node:crypto';
import os from 'node:os';
import { ident, literal, PgSqlClient, type SqlClient } from '../sql/client.js';
import { cloneFailedOnFullDisk, serverDiskFull } from '../lifecycle/disk-errors.js';
import { markedName, ownerOf } from '../lifecycle/names.js';
import { testPoint } from '../lifecycle/test-points.js';
import { alive } from '../lifecycle/processes.js';
import { BasePool, type PooledClone } from './pool.js';

// Clone names are unique per process (several pools may run in one process: a matrix of steps).
let cloneSeq = 0;

export interface DatabaseServer {
  provider: 'postgres' | 'url' | 'testcontainers';
  /** postgres (default) or mariadb (MariaDB / MySQL). */
  engine?: 'postgres' | 'mariadb';
  /** A URL to the maintenance database with the right to create databases. */
  adminUrl: string;
  /** The same over a Unix socket that needs no password, for the harness's own connections (postgres provider). */
  localAdminUrl?: string;
  /** `postgres (PostgreSQL) 15.14`, part of the template key. */
  version: string;
  stop(): Promise<void>;
}

export const marker = 'shipgate-test-harness';
export const clonePrefix = 'shipgate_t_';
export const templatePrefix = 'shipgate_tpl_';
/** A short tag of this machine, so runs on other machines sharing a server are never reaped. */
export const hostTag = createHash('sha1').update(os.hostname()).digest('hex').slice(0, 6);

export function urlFor(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

export interface HarnessDatabase {
  datname: string;
  comment: string;
}

/** The harness's databases on this server: marked names, and the commented ones (templates, older versions). */
export async function listHarnessDatabases(admin: SqlClient): Promise<HarnessDatabase[]> {
  const { rows } = await admin.query<{ datname: string; comment: string | null }>(
    `SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname LIKE 'shipgate\\_t%'`,
  );
  return rows.filter((r) => ownerOf(r.datname) || (r.comment ?? '').startsWith(marker)).map((r) => ({ datname: r.datname, comment: r.comment ?? '' }));
}

/** Fields of a clone's comment: `shipgate-test-harness clone run=… pid=… host=…`. */
export function commentFields(comment: string): Record<string, string> {
  return Object.fromEntries([...comment.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
}

export async function dropDatabase(admin: SqlClient, name: string): Promise<void> {
  await admin.exec(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
}

/**
 * Drops clones (and half-built templates) whose creating process is gone: left by a run that was
 * killed. Only this machine's, only the harness's own. With `run`, drops that run's clones whatever
 * their process (the end of a run). Returns the names dropped.
 */
export async function reap(admin: SqlClient, options: { run?: string } = {}): Promise<string[]> {
  const dropped: string[] = [];
  for (const db of await listHarnessDatabases(admin)) {
    // the name is the mark; a comment counts for what has none (templates, databases of older versions)
    const owner = ownerOf(db.datname) ?? commentFields(db.comment);
    if (owner.host !== hostTag || ('kind' in owner && owner.kind === 'template')) continue;
    const pid = Number(owner.pid);
    const gone = options.run !== undefined && owner.run === options.run ? true : Number.isInteger(pid) && pid > 0 && !alive(pid);
    if (!gone) continue;
    await dropDatabase(admin, db.datname);
    dropped.push(db.datname);
  }
  return dropped;
}

/** A new database name marked with this process and `run` (see lifecycle/names.ts). */
export function ownDatabaseName(run: string, what: string): string {
  return markedName({ host: hostTag, pid: process.pid, run, what });
}

export interface TemplateBuild {
  /** Content hash of migrations + seed + provider + server version. */
  key: string;
  /** The run building it (its build database is marked with it). */
  run?: string;
  /** Migrates and seeds the empty database at `url`. */
  build(url: string): Promise<void>;
  log?: (line: string) => void;
}

/**
 * The template database for `key`: reused when a complete one exists, else built under an advisory
 * lock (concurrent runs build it once) into a scratch database renamed when complete. Keeps the three
 * newest templates. Returns its name.
 */
export async function ensureTemplate(server: DatabaseServer, spec: TemplateBuild): Promise<{ name: string; built: boolean }> {
  const name = `${templatePrefix}${spec.key.slice(0, 24)}`;
  const admin = await PgSqlClient.connect(server.adminUrl);
  try {
    await admin.query('SELECT pg_advisory_lock(hashtext($1))', [name]);
    const existing = await admin.query<{ comment: string | null }>(`SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`, [name]);
    if (existing.rows[0]?.comment?.startsWith(`${marker} template complete`)) return { name, built: false };
    if (existing.rows.length) await dropDatabase(admin, name); // a template that never completed

    const scratch = ownDatabaseName(spec.run ?? 'build', `b${(cloneSeq += 1)}`);
    await dropDatabase(admin, scratch);
    await admin.exec(`CREATE DATABASE ${ident(scratch)}`);
    await testPoint('template-scratch-created', { database: scratch });
    await admin.exec(`COMMENT ON DATABASE ${ident(scratch)} IS ${literal(`${marker} build pid=${process.pid} host=${hostTag}`)}`);
    try {
      await spec.build(urlFor(server.adminUrl, scratch));
    } catch (error) {
      await dropDatabase(admin, scratch).catch(() => undefined);
      throw error;
    }
    await admin.exec(`ALTER DATABASE ${ident(scratch)} RENAME TO ${ident(name)}`);
    await admin.exec(`ALTER DATABASE ${ident(name)} WITH IS_TEMPLATE true`);
    await admin.exec(`COMMENT ON DATABASE ${ident(name)} IS ${literal(`${marker} template complete kind=template key=${spec.key} at=${new Date().toISOString()}`)}`);

    // keep the three newest templates of this server
    const templates = (await listHarnessDatabases(admin)).filter((d) => commentFields(d.comment).kind === 'template' && d.datname !== name);
    templates.sort((a, b) => (commentFields(b.comment).at ?? '').localeCompare(commentFields(a.comment).at ?? ''));
    for (const old of templates.slice(2)) {
      await admin.exec(`ALTER DATABASE ${ident(old.datname)} WITH IS_TEMPLATE false`);
      await dropDatabase(admin, old.datname);
    }
    return { name, built: true };
  } finally {
    await admin.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    await admin.close();
  }
}

export type Clone = PooledClone<PgSqlClient>;

/**
 * Clones of a template, created ahead in the background so a test gets one at once. One pool per
 * process (a jest worker); every clone is marked with the run and the process that made it. Clones
 * are created on up to `size` connections at once (CREATE DATABASE … TEMPLATE runs in parallel on
 * the server), and used ones are dropped on another, so a drop never delays the next test.
 */
export class ClonePool extends BasePool<Clone, PgSqlClient> {
  readonly #strategy: Promise<string>;

  constructor(
    private readonly server: DatabaseServer,
    private readonly template: string,
    options: { size?: number; run: string },
  ) {
    super(options, () => PgSqlClient.connect(server.localAdminUrl ?? server.adminUrl));
    this.#strategy = this.onCreator((a) => a.query<{ v: number }>(`SELECT current_setting('server_version_num')::int AS v`))
      .then((r) => ((r.rows[0]?.v ?? 0) >= 150000 ? ' STRATEGY FILE_COPY' : ''))
      .catch(() => '');
  }

  protected drop(clone: Clone): Promise<void> {
    return this.onDropper((a) => dropDatabase(a, clone.name));
  }

  protected async create(): Promise<Clone> {
    const name = ownDatabaseName(this.poolOptions.run, String((cloneSeq += 1)));
    const strategy = await this.#strategy;
    const onFullDisk = (error: unknown) => {
      throw cloneFailedOnFullDisk(error, this.server.localAdminUrl) ? serverDiskFull(this.server.localAdminUrl, error) : error;
    };
    await this.onCreator(async (admin) => {
      await admin.exec(`CREATE DATABASE ${ident(name)} TEMPLATE ${ident(this.template)}${strategy}`).catch(onFullDisk);
      await testPoint('clone-created', { database: name });
      await admin.exec(`COMMENT ON DATABASE ${ident(name)} IS ${literal(`${marker} clone run=${this.poolOptions.run} pid=${process.pid} host=${hostTag}`)}`);
    });
    const url = urlFor(this.server.adminUrl, name);
    try {
      const client = await PgSqlClient.connect(urlFor(this.server.localAdminUrl ?? this.server.adminUrl, name));
      client.unref(); // ready in the pool: must not keep a finished worker alive
      return { name, url, client };
    } catch (error) {
      await this.onCreator((a) => dropDatabase(a, name)).catch(() => undefined);
      return onFullDisk(error);
    }
  }
}

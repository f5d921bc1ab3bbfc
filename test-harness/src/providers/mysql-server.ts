// MariaDB / MySQL servers: a template database per content hash and clones of it from a pool, as
// on Postgres — with what these servers lack made up for. There is no CREATE DATABASE … TEMPLATE:
// a clone is made by copying the template's tables (SHOW CREATE TABLE, then INSERT … SELECT),
// views, triggers and routines. There are no database comments: every database the harness creates
// is first written into its registry (`shipgate_harness.dbs`, with machine, pid and run), and the
// harness drops only databases listed there.
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { MysqlSqlClient } from '../sql/mysql.js';
import { alive } from '../lifecycle/processes.js';
import { BasePool, type PooledClone } from './pool.js';
import { clonePrefix, hostTag, templatePrefix, urlFor, type DatabaseServer } from './server.js';
import { assertTestServer, maskUrl } from './url.js';

export const registry = 'shipgate_harness';
const q = (name: string) => `\`${name.replaceAll('`', '``')}\``;

async function ensureRegistry(admin: MysqlSqlClient): Promise<void> {
  await admin.query(`CREATE DATABASE IF NOT EXISTS ${registry}`);
  await admin.query(
    `CREATE TABLE IF NOT EXISTS ${registry}.dbs (name VARCHAR(64) PRIMARY KEY, kind VARCHAR(16) NOT NULL, host VARCHAR(32) NOT NULL, pid INT NOT NULL, run VARCHAR(32) NOT NULL, complete BOOLEAN NOT NULL DEFAULT FALSE, created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))`,
  );
}

async function register(admin: MysqlSqlClient, name: string, kind: 'template' | 'clone' | 'build', run: string): Promise<void> {
  await admin.query(`REPLACE INTO ${registry}.dbs (name, kind, host, pid, run) VALUES (?, ?, ?, ?, ?)`, [name, kind, hostTag, process.pid, run]);
}

/** Drops `name` only if the harness created it (it is in the registry). */
export async function dropMysqlDatabase(admin: MysqlSqlClient, name: string): Promise<boolean> {
  const { rows } = await admin.query<{ name: string }>(`SELECT name FROM ${registry}.dbs WHERE name = ?`, [name]);
  if (rows.length === 0) return false;
  await admin.query(`DROP DATABASE IF EXISTS ${q(name)}`);
  await admin.query(`DELETE FROM ${registry}.dbs WHERE name = ?`, [name]);
  return true;
}

/** Drops this machine's clones whose process is gone, or of `run`. Returns their names. */
export async function reapMysql(admin: MysqlSqlClient, options: { run?: string } = {}): Promise<string[]> {
  await ensureRegistry(admin);
  const { rows } = await admin.query<{ name: string; pid: number; run: string }>(`SELECT name, pid, run FROM ${registry}.dbs WHERE host = ? AND kind <> 'template'`, [hostTag]);
  const dropped: string[] = [];
  for (const row of rows) {
    const gone = (options.run !== undefined && row.run === options.run) || (row.pid !== process.pid && !alive(row.pid));
    if (gone && (await dropMysqlDatabase(admin, row.name))) dropped.push(row.name);
  }
  return dropped;
}

/** The template for `key`: reused when complete, else built (under a named lock) and registered. Keeps the three newest. */
export async function ensureMysqlTemplate(server: DatabaseServer, spec: { key: string; run: string; build(url: string): Promise<void> }): Promise<{ name: string; built: boolean }> {
  const name = `${templatePrefix}${spec.key.slice(0, 24)}`;
  const admin = await MysqlSqlClient.connect(server.adminUrl);
  try {
    await ensureRegistry(admin);
    await admin.query('SELECT GET_LOCK(?, 120)', [name]);
    const { rows } = await admin.query<{ complete: number }>(`SELECT complete FROM ${registry}.dbs WHERE name = ?`, [name]);
    if (rows[0]?.complete) return { name, built: false };
    await dropMysqlDatabase(admin, name); // one that never completed
    await register(admin, name, 'template', spec.run);
    await admin.query(`CREATE DATABASE ${q(name)}`);
    try {
      await spec.build(urlFor(server.adminUrl, name));
    } catch (error) {
      await dropMysqlDatabase(admin, name).catch(() => undefined);
      throw error;
    }
    await admin.query(`UPDATE ${registry}.dbs SET complete = TRUE WHERE name = ?`, [name]);
    const old = await admin.query<{ name: string }>(`SELECT name FROM ${registry}.dbs WHERE kind = 'template' AND complete ORDER BY created_at DESC LIMIT 100 OFFSET 3`);
    for (const row of old.rows) await dropMysqlDatabase(admin, row.name);
    return { name, built: true };
  } finally {
    await admin.query('SELECT RELEASE_LOCK(?)', [name]).catch(() => undefined);
    await admin.close();
  }
}

/**
 * What a clone of `template` is made of, read once per pool (the template never changes, and
 * MariaDB's information_schema is slow): each table's CREATE statement and copyable columns, then
 * the views, triggers and routines, with the template's name to be replaced by the clone's.
 */
export interface ClonePlan {
  template: string;
  tables: Array<{ name: string; create: string; columns: string }>;
  views: string[];
  triggers: string[];
  routines: string[];
}

export async function readClonePlan(admin: MysqlSqlClient, template: string): Promise<ClonePlan> {
  const objects = await admin.query<{ name: string; type: string }>(`SELECT table_name AS name, table_type AS type FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name`, [template]);
  const columns = await admin.query<{ tbl: string; name: string }>(
    `SELECT table_name AS tbl, column_name AS name FROM information_schema.columns WHERE table_schema = ? AND extra NOT LIKE '%GENERATED%' ORDER BY table_name, ordinal_position`,
    [template],
  );
  const plan: ClonePlan = { template, tables: [], views: [], triggers: [], routines: [] };
  for (const table of objects.rows.filter((t) => t.type === 'BASE TABLE')) {
    const [create] = (await admin.query<{ 'Create Table': string }>(`SHOW CREATE TABLE ${q(template)}.${q(table.name)}`)).rows;
    const list = columns.rows.filter((c) => c.tbl === table.name).map((c) => q(c.name)).join(', ');
    plan.tables.push({ name: table.name, create: create!['Create Table'], columns: list });
  }
  for (const view of objects.rows.filter((t) => t.type === 'VIEW')) {
    const [create] = (await admin.query<{ 'Create View': string }>(`SHOW CREATE VIEW ${q(template)}.${q(view.name)}`)).rows;
    plan.views.push(create!['Create View']);
  }
  const triggers = await admin.query<{ name: string }>(`SELECT trigger_name AS name FROM information_schema.triggers WHERE trigger_schema = ? ORDER BY action_order`, [template]);
  for (const trigger of triggers.rows) {
    const [create] = (await admin.query<{ 'SQL Original Statement': string }>(`SHOW CREATE TRIGGER ${q(template)}.${q(trigger.name)}`)).rows;
    plan.triggers.push(create!['SQL Original Statement']);
  }
  const routines = await admin.query<{ name: string; type: string }>(`SELECT routine_name AS name, routine_type AS type FROM information_schema.routines WHERE routine_schema = ?`, [template]);
  for (const routine of routines.rows) {
    const kind = routine.type === 'FUNCTION' ? 'Function' : 'Procedure';
    const [create] = (await admin.query<Record<string, string>>(`SHOW CREATE ${kind.toUpperCase()} ${q(template)}.${q(routine.name)}`)).rows;
    plan.routines.push(create![`Create ${kind}`]!);
  }
  return plan;
}

/** Makes database `name` from the plan: tables (structure, keys, rows), views, triggers, routines. */
export async function cloneMysqlDatabase(admin: MysqlSqlClient, plan: ClonePlan, name: string, run: string): Promise<void> {
  await register(admin, name, 'clone', run); // first: a crash from here on leaves something the reaper finds
  await admin.query(`CREATE DATABASE ${q(name)}`);
  const requalify = (sql: string) => sql.replaceAll(`${q(plan.template)}.`, `${q(name)}.`);
  await admin.query(`USE ${q(name)}`);
  await admin.query('SET SESSION foreign_key_checks = 0');
  try {
    for (const table of plan.tables) {
      await admin.query(table.create);
      await admin.query(`INSERT INTO ${q(name)}.${q(table.name)} (${table.columns}) SELECT ${table.columns} FROM ${q(plan.template)}.${q(table.name)}`);
    }
    // views may use other views: create in rounds until every one exists
    let views = plan.views;
    for (let round = 0; views.length > 0 && round < 20; round += 1) {
      const failed: string[] = [];
      for (const view of views) await admin.query(requalify(view)).catch(() => failed.push(view));
      if (failed.length === views.length) throw new ShipgateError('db.clone-failed', `cannot copy ${failed.length} view(s) of ${plan.template}`, { exitCode: ExitCode.external });
      views = failed;
    }
    for (const trigger of plan.triggers) await admin.query(requalify(trigger));
    for (const routine of plan.routines) await admin.query(requalify(routine));
  } finally {
    await admin.query('SET SESSION foreign_key_checks = 1');
    await admin.query(`USE ${registry}`);
  }
}

export type MysqlClone = PooledClone<MysqlSqlClient>;

/** Clones made ahead in the background on up to `size` connections at once; used ones dropped on another. */
export class MysqlClonePool extends BasePool<MysqlClone, MysqlSqlClient> {
  #seq = 0;
  #plan: Promise<ClonePlan> | undefined;

  constructor(
    private readonly adminUrl: string,
    private readonly template: string,
    options: { size?: number; run: string },
  ) {
    super(options, () => MysqlSqlClient.connect(adminUrl));
  }

  protected async drop(clone: MysqlClone): Promise<void> {
    await this.onDropper((a) => dropMysqlDatabase(a, clone.name));
  }

  protected async create(): Promise<MysqlClone> {
    const name = `${clonePrefix}${hostTag}_${process.pid}_m${(this.#seq += 1)}`;
    await this.onCreator(async (admin) => {
      this.#plan ??= readClonePlan(admin, this.template);
      await cloneMysqlDatabase(admin, await this.#plan, name, this.poolOptions.run);
    });
    const url = urlFor(this.adminUrl, name);
    const client = await MysqlSqlClient.connect(url);
    client.unref();
    return { name, url, client };
  }
}

/** url provider with a mysql:// (or mariadb://) URL: the same safety rules as for Postgres. */
export async function connectMysqlUrlServer(url: string, options: { allowNonTestServer?: boolean } = {}): Promise<DatabaseServer> {
  assertTestServer(url, options);
  try {
    const client = await MysqlSqlClient.connect(url);
    await client.close();
  } catch (error) {
    throw new ShipgateError('db.connect', `cannot connect to ${maskUrl(url)}: ${(error as Error).message}`, { hint: 'is the server running, and the URL right?', exitCode: ExitCode.external });
  }
  return { provider: 'url', engine: 'mariadb', adminUrl: url, version: '', async stop() {} };
}

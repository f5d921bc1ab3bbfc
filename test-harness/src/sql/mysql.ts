// The SqlClient interface over mysql2 (MySQL and MariaDB). Placeholders are MySQL's `?`. A
// script (`exec`) is split like the mysql client does (`;`, DELIMITER) and sent statement by
// statement, so a failure is located exactly. mysql2 is an optional peer dependency, loaded only
// when a MySQL or MariaDB database is asked for.
import type { Connection } from 'mysql2/promise';
import { splitMysqlStatements } from './split-mysql.js';
import { importOptional } from '../optional.js';
import type { QueryResult, SqlClient } from './client.js';

function loadMysql(): Promise<typeof import('mysql2/promise')> {
  return importOptional(() => import('mysql2/promise'), 'db.mysql2-missing', 'a MySQL or MariaDB database', 'mysql2');
}

export class MysqlSqlClient implements SqlClient {
  readonly dialect = 'mysql';

  constructor(readonly connection: Connection) {}

  static async connect(url: string, options: { connectTimeoutMs?: number } = {}): Promise<MysqlSqlClient> {
    const mysql = await loadMysql();
    const connection = await mysql.createConnection({ uri: url.replace(/^mariadb:/, 'mysql:'), connectTimeout: options.connectTimeoutMs ?? 10_000, multipleStatements: false, dateStrings: true });
    connection.on('error', () => undefined); // a server that goes away is reported by the next query
    return new MysqlSqlClient(connection);
  }

  async query<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
    const [rows] = await this.connection.query(sql, [...params]);
    return { rows: (Array.isArray(rows) ? rows : []) as Row[] };
  }

  async exec(sql: string): Promise<void> {
    for (const statement of splitMysqlStatements(sql)) await this.connection.query(statement.sql);
  }

  #socket(): { ref(): void; unref(): void } | undefined {
    return (this.connection as unknown as { connection?: { stream?: { ref(): void; unref(): void } } }).connection?.stream;
  }

  /** Lets the process exit while this connection is open (a pooled clone nobody holds yet). */
  unref(): void {
    this.#socket()?.unref();
  }

  ref(): void {
    this.#socket()?.ref();
  }

  async close(): Promise<void> {
    this.ref();
    await this.connection.end().catch(() => this.connection.destroy());
  }
}

/** The parts of a MySQL error people need. */
export function mysqlErrorFields(error: unknown): { message: string; code?: string; errno?: number; sqlState?: string; line?: number } {
  const e = error as { sqlMessage?: string; message?: string; code?: string; errno?: number; sqlState?: string };
  const message = e.sqlMessage ?? e.message ?? String(error);
  const line = /at line (\d+)\s*$/.exec(message)?.[1];
  return { message, ...(e.code ? { code: e.code } : {}), ...(e.errno ? { errno: e.errno } : {}), ...(e.sqlState ? { sqlState: e.sqlState } : {}), ...(line ? { line: Number(line) } : {}) };
}

export function isMysqlClient(client: SqlClient): client is MysqlSqlClient {
  return (client as { dialect?: string }).dialect === 'mysql';
}

// One small client interface over node-postgres and PGlite, so migrations, seeds, snapshots and
// tests run the same SQL on every provider.
import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';

export interface QueryResult<Row> {
  rows: Row[];
}

export interface SqlClient {
  /** One parameterised statement. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  /** A script of several statements (simple query protocol), as a migration file is. */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

/** The parts of a Postgres error people need: message, position (1-based offset), detail, hint. */
export interface PostgresErrorFields {
  message: string;
  code?: string;
  position?: number;
  detail?: string;
  hint?: string;
  where?: string;
}

export function postgresErrorFields(error: unknown): PostgresErrorFields {
  const e = error as { message?: string; code?: string; position?: string | number; detail?: string; hint?: string; where?: string };
  const position = e.position === undefined ? undefined : Number(e.position);
  return {
    message: e.message ?? String(error),
    ...(e.code ? { code: e.code } : {}),
    ...(position !== undefined && Number.isFinite(position) ? { position } : {}),
    ...(e.detail ? { detail: e.detail } : {}),
    ...(e.hint ? { hint: e.hint } : {}),
    ...(e.where ? { where: e.where } : {}),
  };
}

export class PgSqlClient implements SqlClient {
  constructor(readonly client: pg.Client) {}

  static async connect(url: string, options: { connectTimeoutMs?: number } = {}): Promise<PgSqlClient> {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000, application_name: 'shipgate-test-harness' });
    client.on('error', () => undefined); // a server that goes away is reported by the next query
    await client.connect();
    return new PgSqlClient(client);
  }

  async query<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
    const result = await this.client.query(sql, [...params]);
    return { rows: result.rows as Row[] };
  }

  async exec(sql: string): Promise<void> {
    await this.client.query(sql);
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }

  /** Lets the process exit while this idle connection is open (a pooled clone, the admin link). */
  unref(): void {
    this.#stream()?.unref?.();
  }

  ref(): void {
    this.#stream()?.ref?.();
  }

  #stream(): { ref?(): void; unref?(): void } | undefined {
    return (this.client as unknown as { connection?: { stream?: { ref?(): void; unref?(): void } } }).connection?.stream;
  }
}

export class PgliteSqlClient implements SqlClient {
  constructor(readonly db: PGlite) {}

  async query<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
    const result = await this.db.query<Row>(sql, [...params]);
    return { rows: result.rows };
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}

/** A quoted SQL identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A quoted SQL string literal. */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

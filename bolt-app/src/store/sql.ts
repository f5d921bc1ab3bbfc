// One SQL dialect, two engines: PGlite (Postgres in WASM, on disk, in this process — the default for
// one replica) and a Postgres server through node-postgres (`DATABASE_URL`, for several replicas).
// The store speaks only this interface, so both run the same SQL and the same migrations.
import pg from 'pg';

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

export interface SqlDatabase extends Queryable {
  readonly engine: 'pglite' | 'postgres';
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /**
   * A second pool of `max` connections to the same database, for writes that must not queue
   * behind the main pool's work (Slack requests waiting for their ack). Absent on PGlite.
   */
  separate?(max: number): Promise<SqlDatabase>;
}

/** A Postgres server: a small pool; each transaction holds one connection. */
export async function openPostgres(url: string, options: { max?: number } = {}): Promise<SqlDatabase> {
  const separate: SqlDatabase[] = [];
  let closed = false;
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000 });
  // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const probe = await pool.connect();
  probe.release();
  return {
    engine: 'postgres',
    async query<R>(sql: string, params: unknown[] = []) {
      const result = await pool.query(sql, params);
      return { rows: result.rows as R[] };
    },
    async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const tx: Queryable = {
          async query<R>(sql: string, params: unknown[] = []) {
            return { rows: (await client.query(sql, params)).rows as R[] };
          },
        };
        const value = await work(tx);
        await client.query('COMMIT');
        return value;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async separate(max: number) {
      const db = await openPostgres(url, { max });
      separate.push(db);
      return db;
    },
    async close() {
      // idempotent: a separate pool may be closed by its user and again with its parent
      if (closed) return;
      closed = true;
      await Promise.all(separate.map((db) => db.close()));
      await pool.end();
    },
  };
}

/**
 * PGlite runs each query synchronously in WebAssembly on this thread, and one query's promise
 * resolves straight into the next in microtasks, so a burst of clicks' database work would never
 * let the event loop read the clicks still waiting for their ack (stalls of 0.2–0.5 s were
 * measured). Yielding to the loop's check phase before every query lets waiting requests be read
 * and acked between queries.
 */
function letIoIn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** PGlite in a data directory (or in memory with `memory://`). One connection: PGlite runs queries one at a time. */
export async function openPglite(dataDir: string): Promise<SqlDatabase> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(dataDir);
  return {
    engine: 'pglite',
    async query<R>(sql: string, params: unknown[] = []) {
      await letIoIn();
      return { rows: (await db.query<R>(sql, params)).rows };
    },
    async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
      await letIoIn();
      return db.transaction(async (tx) =>
        work({
          async query<R>(sql: string, params: unknown[] = []) {
            await letIoIn();
            return { rows: (await tx.query<R>(sql, params)).rows };
          },
        }),
      );
    },
    async close() {
      await db.close();
    },
  };
}

/** `DATABASE_URL` when set (postgres://…), else PGlite in `dataDir`. */
export function openDatabase(options: { url?: string | undefined; dataDir: string }): Promise<SqlDatabase> {
  return options.url ? openPostgres(options.url) : openPglite(options.dataDir);
}

// Where acknowledged Slack requests wait until their listeners ran (durable acks, see the
// receiver). Two kinds, one contract:
// - in the database (Postgres, several replicas): the `inbox` table. A replica holds the rows it
//   received with a lease; rows whose holder died are taken over once the lease lapses.
// - in a journal file beside PGlite's data (one process owns it): an append-only file of JSON
//   lines, written with one write() per batch. PGlite runs every query on the app's one thread,
//   so a burst's inbox writes would queue behind the burst's own decisions there; an append does
//   not. What is written survives the process being killed, as PGlite's own files do.
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { json, type Row } from './rows.js';
import type { Queryable, SqlDatabase } from './sql.js';

/** Where the Slack receiver writes a request before its ack (see slack/receiver.ts). */
export interface RequestInbox {
  /** Writes the requests durably, in one commit; resolves with their ids, in order. */
  record(bodies: Array<Record<string, unknown>>): Promise<number[]>;
  /**
   * A journal that writes synchronously (an append to a file): the request is written and acked
   * in the same turn of the event loop, never queued behind other work waiting for the next turn.
   */
  recordNow?(body: Record<string, unknown>): number;
  /** Their listeners ran. */
  finished(ids: number[]): Promise<void>;
}

export interface OpenRequest {
  id: number;
  body: Record<string, unknown>;
}

export interface DurableInbox extends RequestInbox {
  /** Requests acknowledged but never finished that this instance should work now. */
  takeOver(options: { atStart: boolean }): Promise<OpenRequest[]>;
  close(): void;
}

/** The `inbox` table's SQL: rows held by a worker with a lease, taken over once it lapses. */
export class InboxTable {
  constructor(readonly db: SqlDatabase) {}

  /** Writes received Slack requests in one statement (one commit), held by `worker` for `leaseSeconds`; their ids in order. */
  async receive(bodies: ReadonlyArray<Record<string, unknown>>, worker: string, leaseSeconds: number, db: Queryable = this.db): Promise<number[]> {
    if (!bodies.length) return [];
    const values = bodies.map((_, i) => `($${i + 3}, $1, clock_timestamp() + make_interval(secs => $2))`).join(', ');
    const { rows } = await db.query<{ id: number }>(`INSERT INTO inbox (body, locked_by, locked_until) VALUES ${values} RETURNING id`, [worker, leaseSeconds, ...bodies.map((b) => JSON.stringify(b))]);
    return rows.map((r) => Number(r.id));
  }

  /** The requests' listeners ran. */
  async finish(ids: readonly number[]): Promise<void> {
    if (ids.length) await this.db.query('UPDATE inbox SET done_at = clock_timestamp(), locked_until = NULL WHERE id = ANY($1::bigint[])', [ids]);
  }

  /**
   * Takes over requests whose listeners never finished and whose holder's lease lapsed (it died).
   * Each is tried at most `maxAttempts` times.
   */
  async claim(worker: string, leaseSeconds: number, options: { limit?: number; maxAttempts?: number } = {}): Promise<Array<{ id: number; body: Record<string, unknown>; attempts: number }>> {
    const { rows } = await this.db.query<Row>(
      `UPDATE inbox SET locked_by = $1, locked_until = clock_timestamp() + make_interval(secs => $2), attempts = attempts + 1
       WHERE id IN (
         SELECT id FROM inbox WHERE done_at IS NULL AND attempts < $4 AND (locked_until IS NULL OR locked_until <= clock_timestamp())
         ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING id, body, attempts`,
      [worker, leaseSeconds, options.limit ?? 100, options.maxAttempts ?? 5],
    );
    return rows.map((r) => ({ id: Number(r.id), body: json<Record<string, unknown>>(r.body), attempts: Number(r.attempts) })).sort((a, b) => a.id - b.id);
  }
}

/**
 * The `inbox` table as a durable inbox: for a database several replicas share. Its writes go over
 * connections of their own (two), so a click's ack never waits for a free connection behind the
 * decisions of the clicks before it.
 */
export async function databaseInbox(table: InboxTable, instance: string, leaseSeconds: number): Promise<DurableInbox> {
  const own = (await table.db.separate?.(2)) ?? table.db;
  return {
    record: (bodies) => table.receive(bodies, instance, leaseSeconds, own),
    finished: (ids) => table.finish(ids),
    // at start too only lapsed leases: another replica may be working the rest
    takeOver: () => table.claim(instance, leaseSeconds, { limit: 100 }),
    close: () => void (own !== table.db ? own.close().catch(() => undefined) : undefined),
  };
}

/** A journal file (`inbox.jsonl` beside PGlite's data): for the one process that owns it. */
export class FileInbox implements DurableInbox {
  readonly #fd: number;
  readonly #open = new Map<number, Record<string, unknown>>();
  #nextId = 1;
  #replayed = false;

  constructor(readonly file: string) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      let entry: { id?: number; body?: Record<string, unknown>; done?: number[] };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue; // a line cut short by a crash mid-write: its request was never acknowledged
      }
      if (typeof entry.id === 'number' && entry.body) {
        this.#open.set(entry.id, entry.body);
        this.#nextId = Math.max(this.#nextId, entry.id + 1);
      }
      for (const id of entry.done ?? []) this.#open.delete(id);
    }
    this.#fd = openSync(file, 'a');
  }

  recordNow(body: Record<string, unknown>): number {
    const id = this.#nextId++;
    writeSync(this.#fd, `${JSON.stringify({ id, body })}\n`);
    this.#open.set(id, body);
    return id;
  }

  record(bodies: Array<Record<string, unknown>>): Promise<number[]> {
    const ids = bodies.map(() => this.#nextId++);
    // one write() for the whole batch; acknowledged only after it returned
    writeSync(this.#fd, ids.map((id, i) => `${JSON.stringify({ id, body: bodies[i] })}\n`).join(''));
    bodies.forEach((body, i) => this.#open.set(ids[i]!, body));
    return Promise.resolve(ids);
  }

  finished(ids: number[]): Promise<void> {
    for (const id of ids) this.#open.delete(id);
    // nothing open any more: the journal starts over, so it never grows past one burst
    if (this.#open.size === 0) ftruncateSync(this.#fd, 0);
    else writeSync(this.#fd, `${JSON.stringify({ done: ids })}\n`);
    return Promise.resolve();
  }

  /** At start, whatever the previous process left open (in the order it arrived); later, nothing: this process works its own. */
  takeOver(options: { atStart: boolean }): Promise<OpenRequest[]> {
    if (!options.atStart || this.#replayed) return Promise.resolve([]);
    this.#replayed = true;
    return Promise.resolve([...this.#open].sort(([a], [b]) => a - b).map(([id, body]) => ({ id, body })));
  }

  get openCount(): number {
    return this.#open.size;
  }

  close(): void {
    closeSync(this.#fd);
  }
}

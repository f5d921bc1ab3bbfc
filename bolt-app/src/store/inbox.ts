// Where acknowledged Slack requests wait until their listeners ran (durable acks, see the
// receiver). Two kinds, one contract:
// - in the database (Postgres, several replicas): the `inbox` table. A replica holds the rows it
//   received with a lease; rows whose holder died are taken over once the lease lapses.
// - in a journal file beside PGlite's data (one process owns it): an append-only file of JSON
//   lines, written with one write() per batch. PGlite runs every query on the app's one thread,
//   so a burst's inbox writes would queue behind the burst's own decisions there; an append does
//   not. What is written survives the process being killed, as PGlite's own files do.
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { RequestInbox } from '../slack/receiver.js';
import type { ApprovalStore } from './store.js';

export interface OpenRequest {
  id: number;
  body: Record<string, unknown>;
}

export interface DurableInbox extends RequestInbox {
  /** Requests acknowledged but never finished that this instance should work now. */
  takeOver(options: { atStart: boolean }): Promise<OpenRequest[]>;
  close(): void;
}

/**
 * The `inbox` table: for a database several replicas share. Its writes go over connections of
 * their own (two), so a click's ack never waits for a free connection behind the decisions of the
 * clicks before it.
 */
export async function databaseInbox(store: ApprovalStore, instance: string, leaseSeconds: number): Promise<DurableInbox> {
  const own = (await store.db.separate?.(2)) ?? store.db;
  return {
    record: (bodies) => store.receiveRequests(bodies, instance, leaseSeconds, own),
    finished: (ids) => store.finishRequests(ids),
    // at start too only lapsed leases: another replica may be working the rest
    takeOver: () => store.claimRequests(instance, leaseSeconds, { limit: 100 }),
    close: () => void (own !== store.db ? own.close().catch(() => undefined) : undefined),
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

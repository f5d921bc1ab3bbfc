// What every clone pool shares: clones made ahead in the background so a test gets one at once,
// used ones dropped in the background, admin connections that run one statement at a time. The
// Postgres pool (server.ts) and the MariaDB pool (mysql-server.ts) say how to make and drop one.
import { sayOnce } from '../lifecycle/disk-errors.js';

/** A connection the pool may let go of while idle (so a finished jest worker can exit). */
export interface PooledConnection {
  ref(): void;
  unref(): void;
  close(): Promise<void>;
}

export interface PooledClone<Client extends PooledConnection = PooledConnection> {
  name: string;
  url: string;
  /** Connected ahead, so a test gets a database it can use at once. */
  client: Client;
}

/** What a harness uses of a pool, whatever the engine. */
export interface Pool<Clone extends PooledClone = PooledClone> {
  acquire(): Promise<Clone>;
  release(clone: Clone): void;
  close(): Promise<void>;
}

/** One admin connection; statements queued on it run one at a time. */
export class AdminLane<Admin extends PooledConnection> {
  readonly #connection: Promise<Admin>;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(connect: () => Promise<Admin>) {
    this.#connection = connect().then((a) => (a.unref(), a));
    this.#connection.catch(() => undefined);
  }

  run<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const next = this.#queue.then(async () => {
      const admin = await this.#connection;
      admin.ref();
      try {
        return await fn(admin);
      } finally {
        admin.unref();
      }
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.#queue;
    const admin = await this.#connection.catch(() => undefined);
    admin?.ref(); // an unreferenced socket would let the process exit before the close completes
    await admin?.close();
  }
}

/**
 * The pool itself: clones made ahead on up to `size` (at most 4) admin connections at once, so that
 * CREATE DATABASE or a copy runs in parallel on the server, and used ones dropped on another, so a
 * drop never delays the next test. A subclass says how to make and drop one clone.
 */
export abstract class BasePool<Clone extends PooledClone, Admin extends PooledConnection> implements Pool<Clone> {
  readonly #creators: Array<AdminLane<Admin>>;
  #nextCreator = 0;
  readonly #dropper: AdminLane<Admin>;
  readonly #ready: Clone[] = [];
  readonly #waiting: Array<{ resolve: (clone: Clone) => void; reject: (error: unknown) => void }> = [];
  readonly #pendingDrops = new Set<Promise<void>>();
  #creating = 0;
  #closed = false;
  #error: unknown;

  constructor(
    protected readonly poolOptions: { size?: number; run: string },
    connectAdmin: () => Promise<Admin>,
  ) {
    this.#creators = Array.from({ length: Math.max(1, Math.min(this.size, 4)) }, () => new AdminLane(connectAdmin));
    this.#dropper = new AdminLane(connectAdmin);
  }

  get size(): number {
    return this.poolOptions.size ?? 2;
  }

  /** Makes one clone, connected and unreferenced. */
  protected abstract create(): Promise<Clone>;
  /** Drops a clone whose client is closed. */
  protected abstract drop(clone: Clone): Promise<void>;

  /** Runs `fn` on the next creator connection, after what is queued there. */
  protected onCreator<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    return this.#creators[this.#nextCreator++ % this.#creators.length]!.run(fn);
  }

  /** Runs `fn` on the connection that drops used clones. */
  protected onDropper<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    return this.#dropper.run(fn);
  }

  /** A fresh clone; waits only when none is ready. */
  async acquire(): Promise<Clone> {
    if (this.#error) throw sayOnce(this.#error, this.poolOptions.run);
    const ready = this.#ready.shift();
    this.#fill();
    const clone = ready ?? (await new Promise<Clone>((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#fill();
    }));
    clone.client.ref();
    return clone;
  }

  /** Closes its connection and drops the clone in the background. */
  release(clone: Clone): void {
    const drop = clone.client
      .close()
      .then(() => this.drop(clone))
      .catch(() => undefined);
    this.#pendingDrops.add(drop);
    void drop.finally(() => this.#pendingDrops.delete(drop));
  }

  #fill(): void {
    while (!this.#closed && this.#ready.length + this.#creating < this.size + this.#waiting.length) {
      this.#creating += 1;
      void this.create().then(
        (clone) => {
          this.#creating -= 1;
          const waiter = this.#waiting.shift();
          if (waiter) waiter.resolve(clone);
          else if (this.#closed) this.release(clone);
          else this.#ready.push(clone);
        },
        (error: unknown) => {
          this.#creating -= 1;
          this.#error = error;
          for (const w of this.#waiting.splice(0)) w.reject(sayOnce(error, this.poolOptions.run));
        },
      );
    }
  }

  /** Drops every clone this pool still holds, waits for pending drops, closes its connections. */
  async close(): Promise<void> {
    await untilDone(async () => {
      this.#closed = true;
      for (const clone of this.#ready.splice(0)) this.release(clone);
      // bounded: clones being created are released as they arrive
      for (let i = 0; i < 200 && this.#creating > 0; i += 1) await new Promise((r) => setTimeout(r, 25));
      await Promise.all([...this.#pendingDrops]);
      await Promise.all([...this.#creators, this.#dropper].map((lane) => lane.close()));
    });
  }
}

/**
 * Runs a clean-up to its end even when nothing else keeps the process alive: the pool's connections
 * and the server are unreferenced (they must not hold a finished jest worker), so without this a
 * plain script's last `await close()` could let the process exit half-way and leave clones behind.
 */
export async function untilDone<T>(work: () => Promise<T>): Promise<T> {
  const keepAlive = setInterval(() => undefined, 1000);
  try {
    return await work();
  } finally {
    clearInterval(keepAlive);
  }
}

// The shared cache: a store beside the local one (`file:///path` or `s3://bucket/prefix`, from
// $SHIPGATE_CACHE_URL or `cache-url:`), so a fresh clone or another machine gets the hits of
// earlier runs. Read-through: a local miss asks the shared store for the entry, and its pack is
// streamed straight into the workspace, every file checked against its sha256 before it is
// written (step-cache.ts fills the local store from those files afterwards, off the critical path).
// Write-behind: a success is uploaded in the background while the run goes on; the run waits for
// the uploads at its end. Every call is bounded in time: the first call that fails or does not
// answer in time switches the shared cache off for the rest of the run with one warning, and the
// run carries on with the local cache. A slow or dead store never fails a run.
//
// Layout in the store:
//   entries/<step>/<key>.json   the cache entry (outputs, stored paths) and the name of its pack
//   packs/<sha256>              the entry's distinct file contents, concatenated in the listed
//                               order; named by the sha256 of that list, so equal outputs share a pack
// Making and unpacking packs is pack.ts; this file is the store protocol and its time bounds.
import { Readable } from 'node:stream';
import type { CacheEntry } from './keys.js';
import type { ObjectStore } from './objects.js';
import type { PendingFile } from './outputs.js';
import { concatFiles, CorruptDownload, packName, packObjects, writePack, type PackObject } from './pack.js';

interface CacheLogLike {
  info(line: string): void;
  warn(line: string): void;
}

/** Where shared blobs live: the file and S3 stores implement it. */
export interface BlobStore {
  /** The store's URL for messages (never credentials). */
  readonly label: string;
  /** Local preparation (loading a client library), done outside the time bounds of requests. */
  ready?(): Promise<void>;
  /** The blob as a stream, or undefined when it does not exist. Resolves once the store answered. */
  get(name: string, signal: AbortSignal): Promise<Readable | undefined>;
  put(name: string, body: () => Readable, size: number, signal: AbortSignal): Promise<void>;
  has(name: string, signal: AbortSignal): Promise<boolean>;
}

export interface SharedEntry extends CacheEntry {
  pack?: { name: string; objects: PackObject[] };
}

export interface SharedCacheOptions {
  /** Bound on each request until the store answers, and on each pause while a blob streams. */
  timeoutMs: number;
  /** Bound on a whole transfer (a pack of many megabytes). */
  transferTimeoutMs: number;
  /** Set when the run must not upload (e.g. pull requests that only read). */
  readOnly?: boolean;
}

class TimeoutError extends Error {}

/** Aborts with a message naming what took too long. */
function timeoutSignal(ms: number, what: string): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new TimeoutError(`${what} took longer than ${ms} ms`)), ms);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/** Runs `work` under a time bound; when the bound ends it, the error names what took too long (not the client's "aborted"). */
async function bounded<T>(ms: number, what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const bound = timeoutSignal(ms, what);
  try {
    return await work(bound.signal);
  } catch (error) {
    throw bound.signal.aborted ? (bound.signal.reason as Error) : error;
  } finally {
    bound.clear();
  }
}

/** Races a promise against a signal, for operations that cannot be aborted themselves (file systems). */
export function raceSignal<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}

/** Reads a stream to its end, failing when it pauses longer than `idleMs`. */
async function* withIdleBound(stream: Readable, idleMs: number, what: string): AsyncGenerator<Buffer> {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => stream.destroy(new TimeoutError(`${what} paused longer than ${idleMs} ms`)), idleMs);
  };
  arm();
  try {
    for await (const chunk of stream) {
      arm();
      yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    }
  } finally {
    clearTimeout(timer);
  }
}

const entryName = (stepId: string, key: string): string => `entries/${stepId}/${key}.json`;

export class SharedCache {
  private offReason: string | undefined;
  private readonly uploads = new Set<Promise<void>>();

  constructor(
    private readonly store: BlobStore,
    private readonly objects: ObjectStore,
    private readonly options: SharedCacheOptions,
  ) {}

  get label(): string {
    return this.store.label;
  }

  /** Why the shared cache was switched off in this run, if it was. */
  get off(): string | undefined {
    return this.offReason;
  }

  /** Switches the store off after its first failure; says so once. */
  private giveUp(error: unknown, warn: (line: string) => void): void {
    if (this.offReason !== undefined) return;
    this.offReason = (error as Error).message || String(error);
    warn(`cache: the shared cache ${this.store.label} failed (${this.offReason}); using the local cache only for the rest of this run`);
  }

  /**
   * Read-through: the entry for this key from the shared store (its files are not fetched yet:
   * `restoreFromPack`). Undefined on a miss, a corrupt entry (said in the log) or a failing store
   * (switched off, said once).
   */
  async fetchEntry(stepId: string, key: string, log: CacheLogLike): Promise<SharedEntry | undefined> {
    if (this.offReason !== undefined) return undefined;
    try {
      await this.store.ready?.();
      return await this.readEntry(stepId, key);
    } catch (error) {
      this.failed(stepId, error, log);
      return undefined;
    }
  }

  /** A corrupt download makes this entry unusable (the store stays on); anything else switches the store off. */
  private failed(stepId: string, error: unknown, log: CacheLogLike): void {
    if (error instanceof CorruptDownload) log.warn(`cache: the shared cache entry of ${stepId} is unusable (${error.message}); running the step`);
    else this.giveUp(error, log.warn);
  }

  /**
   * Streams the entry's pack straight into the workspace: each file's bytes are hashed as they
   * arrive and the file is written only once they match its sha256 (small files from memory,
   * large ones into a temporary file renamed into place). `pending` are the files the workspace
   * still needs (from `prepareRestore`); the pack's other files are only checked. False when the
   * pack is corrupt or the store fails (said in the log): the step runs.
   */
  async restoreFromPack(stepId: string, entry: SharedEntry, pending: readonly PendingFile[], log: CacheLogLike): Promise<boolean> {
    if (this.offReason !== undefined) return false;
    const wanted = entry.pack?.objects ?? [];
    if (pending.length === 0) return true;
    if (!entry.pack) return false;
    const packName = entry.pack.name;
    const transfer = timeoutSignal(this.options.transferTimeoutMs, `downloading pack ${packName}`);
    try {
      const stream = await bounded(this.options.timeoutMs, `reading pack ${packName}`, (signal) => this.store.get(`packs/${packName}`, AbortSignal.any([transfer.signal, signal])));
      if (!stream) throw new CorruptDownload(`pack ${packName} is missing`);
      transfer.signal.addEventListener('abort', () => stream.destroy(transfer.signal.reason as Error), { once: true });
      await writePack(withIdleBound(stream, this.options.timeoutMs, 'the pack'), wanted, pending);
      return true;
    } catch (error) {
      this.failed(stepId, error, log);
      return false;
    } finally {
      transfer.clear();
    }
  }

  private async readEntry(stepId: string, key: string): Promise<SharedEntry | undefined> {
    const stream = await bounded(this.options.timeoutMs, `reading ${entryName(stepId, key)}`, (signal) => this.store.get(entryName(stepId, key), signal));
    if (!stream) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of withIdleBound(stream, this.options.timeoutMs, 'the entry')) chunks.push(chunk);
    let entry: SharedEntry;
    try {
      entry = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SharedEntry;
    } catch {
      throw new CorruptDownload('the entry is not JSON');
    }
    if (entry.key !== key) throw new CorruptDownload('the entry names another key');
    const expected = packObjects(entry);
    if (expected.length > 0 && (!entry.pack || JSON.stringify(entry.pack.objects) !== JSON.stringify(expected))) throw new CorruptDownload('its pack does not list its files');
    return entry;
  }

  /** Write-behind: uploads a recorded success in the background; `flush` waits for it. */
  upload(stepId: string, entry: CacheEntry, warn: (line: string) => void): void {
    if (this.offReason !== undefined || this.options.readOnly) return;
    const work = this.send(stepId, entry).catch((error: unknown) => this.giveUp(error, warn));
    this.uploads.add(work);
    void work.finally(() => this.uploads.delete(work));
  }

  private async send(stepId: string, entry: CacheEntry): Promise<void> {
    await this.store.ready?.();
    const objects = packObjects(entry);
    const shared: SharedEntry = { ...entry };
    if (objects.length > 0) {
      const name = packName(objects);
      shared.pack = { name, objects };
      const exists = await bounded(this.options.timeoutMs, `checking pack ${name}`, (signal) => this.store.has(`packs/${name}`, signal));
      if (!exists) {
        const size = objects.reduce((sum, o) => sum + o.size, 0);
        const paths = objects.map((o) => this.objects.pathOf(o.sha256));
        await bounded(this.options.transferTimeoutMs, `uploading pack ${name}`, (signal) => this.store.put(`packs/${name}`, () => Readable.from(concatFiles(paths)), size, signal));
      }
    }
    // the entry last, so an entry never names a pack that is not there yet
    const body = Buffer.from(JSON.stringify(shared));
    await bounded(this.options.timeoutMs, `writing ${entryName(stepId, entry.key)}`, (signal) => this.store.put(entryName(stepId, entry.key), () => Readable.from([body]), body.length, signal));
  }

  /** Waits for the uploads still running (each is bounded in time). */
  async flush(): Promise<void> {
    while (this.uploads.size > 0) await Promise.all([...this.uploads]);
  }
}

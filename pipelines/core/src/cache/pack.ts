// A pack: the distinct file contents of a cache entry, concatenated in path order, which is how
// the shared cache moves an entry's files in one transfer. Packing reads the local objects one
// after another; unpacking cuts the stream back into files, checks each against its sha256 as its
// bytes arrive, and writes it only once it matches (small files from memory, in parallel while the
// pack goes on streaming; large ones into a temporary file renamed into place).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import type { CacheEntry } from './keys.js';
import { tempName } from './objects.js';
import { copyRestoredFile, stampOpenFile, writeRestoredFile, type PendingFile } from './outputs.js';

/** One file content of a pack. */
export interface PackObject {
  sha256: string;
  size: number;
}

/** A corrupt download: the entry is ignored (the step runs), the store stays on. */
export class CorruptDownload extends Error {}

/** Files of a pack up to this size are held in memory and written in parallel; larger ones stream to disk. */
const bufferedLimit = 4 * 1024 * 1024;
const parallelWrites = 32;

/** The distinct file contents of an entry, in path order: what its pack holds. */
export function packObjects(entry: CacheEntry): PackObject[] {
  const seen = new Map<string, number>();
  for (const s of entry.stored ?? []) if (s.type === 'file' && !seen.has(s.sha256)) seen.set(s.sha256, s.size);
  return [...seen].map(([sha256, size]) => ({ sha256, size }));
}

/** A pack's name: the sha256 of its list of objects, so equal outputs share a pack. */
export function packName(objects: readonly PackObject[]): string {
  return createHash('sha256').update(JSON.stringify(objects)).digest('hex');
}

/** The pack's bytes: the files at `paths`, one after another. */
export async function* concatFiles(paths: readonly string[]): AsyncGenerator<Buffer> {
  for (const file of paths) for await (const chunk of createReadStream(file)) yield chunk as Buffer;
}

/** File writes running beside the download, at most `parallelWrites` at a time; the first failure wins. */
class WriteQueue {
  readonly #running = new Set<Promise<void>>();
  #failure: unknown;

  /** Starts `work`; waits while the queue is full; throws a failure of any earlier write. */
  async add(work: () => Promise<void>): Promise<void> {
    const tracked: Promise<void> = work()
      .catch((error: unknown) => void (this.#failure ??= error))
      .finally(() => this.#running.delete(tracked));
    this.#running.add(tracked);
    if (this.#running.size >= parallelWrites) await Promise.race(this.#running);
    this.throwFailure();
  }

  /** Waits for every write still running (never throws: see `throwFailure`). */
  async drain(): Promise<void> {
    await Promise.all(this.#running);
  }

  throwFailure(): void {
    if (this.#failure) throw this.#failure as Error;
  }
}

/** A file of the pack being received: its hash so far and where its bytes go. */
interface Receiving {
  readonly object: PackObject;
  readonly targets: readonly PendingFile[];
  readonly hash: ReturnType<typeof createHash>;
  left: number;
  /** Small files: held until verified. */
  readonly parts: Buffer[];
  /** Large files: streamed to a temporary file beside the first target. */
  file?: string;
  handle?: FileHandle;
}

/** Cuts a pack into its files as its chunks arrive, and writes each verified file to the paths that want it. */
class PackWriter {
  readonly writes = new WriteQueue();
  readonly #targetsOf = new Map<string, PendingFile[]>();
  #index = 0;
  #current: Receiving | undefined;

  constructor(private readonly wanted: readonly PackObject[], pending: readonly PendingFile[]) {
    for (const p of pending) {
      const list = this.#targetsOf.get(p.entry.sha256);
      if (list) list.push(p);
      else this.#targetsOf.set(p.entry.sha256, [p]);
    }
  }

  /** Starts receiving the next file (zero-length files complete without bytes). */
  async begin(): Promise<void> {
    while (this.#index < this.wanted.length && !this.#current) {
      const object = this.wanted[this.#index]!;
      const current: Receiving = { object, targets: this.#targetsOf.get(object.sha256) ?? [], hash: createHash('sha256'), left: object.size, parts: [] };
      this.#current = current;
      const first = current.targets[0];
      if (first && object.size > bufferedLimit) {
        current.file = tempName(first.full);
        current.handle = await open(current.file, 'wx', first.entry.mode);
      }
      if (object.size === 0) await this.#finish();
    }
  }

  /** Takes the next chunk of the pack; it may end one file and begin others. */
  async receive(chunk: Buffer): Promise<void> {
    let rest = chunk;
    while (rest.length > 0) {
      const current = this.#current;
      if (!current) throw new CorruptDownload('the pack is longer than its list of files');
      const part = rest.subarray(0, current.left);
      rest = rest.subarray(part.length);
      current.hash.update(part);
      if (current.handle) await current.handle.write(part);
      else if (current.targets.length > 0) current.parts.push(part);
      current.left -= part.length;
      if (current.left === 0) {
        await this.#finish();
        await this.begin();
      }
    }
  }

  /** After the last chunk: every listed file must have arrived whole. */
  checkComplete(): void {
    if (this.#current || this.#index < this.wanted.length) throw new CorruptDownload('the pack ended early');
  }

  /** Waits for the writes and removes the temporary file of a file left half-received. */
  async close(): Promise<void> {
    await this.writes.drain();
    if (this.#current) await discard(this.#current);
  }

  /** A file's bytes are all in: verify, then write it to its first path and copy it to the others. */
  async #finish(): Promise<void> {
    const c = this.#current!;
    this.#current = undefined;
    this.#index += 1;
    if (c.hash.digest('hex') !== c.object.sha256) {
      await discard(c);
      throw new CorruptDownload(`a file of the pack does not match its sha256 (${c.object.sha256.slice(0, 12)}…)`);
    }
    const [first, ...others] = c.targets;
    if (!first) return;
    if (c.handle) {
      await stampOpenFile(c.handle, first.entry);
      await c.handle.close();
      c.handle = undefined;
      await rename(c.file!, first.full);
      c.file = undefined;
      for (const other of others) await this.writes.add(() => copyRestoredFile(first.full, other.full, other.entry));
      return;
    }
    const data = Buffer.concat(c.parts);
    await this.writes.add(async () => {
      await writeRestoredFile(first.full, first.entry, data);
      // the same content at other paths: copies of the first (a reflink where the file system has them)
      for (const other of others) await copyRestoredFile(first.full, other.full, other.entry);
    });
  }
}

/** Closes and removes the temporary file of a large file that will not be used. */
async function discard(receiving: Receiving): Promise<void> {
  if (!receiving.handle) return;
  await receiving.handle.close().catch(() => undefined);
  await rm(receiving.file!, { force: true });
}

/**
 * Cuts the pack into its files and writes each verified one to every pending path that wants its
 * content. Writes of small files run in parallel (bounded) while the pack goes on streaming: on a
 * 2-core machine overlapping the file creations with the download still pays.
 */
export async function writePack(chunks: AsyncIterable<Buffer>, wanted: readonly PackObject[], pending: readonly PendingFile[]): Promise<void> {
  const writer = new PackWriter(wanted, pending);
  try {
    await writer.begin();
    for await (const chunk of chunks) await writer.receive(chunk);
    writer.checkComplete();
  } finally {
    await writer.close();
  }
  writer.writes.throwFailure();
}

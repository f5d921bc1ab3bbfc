// What the scheduler asks of the cache for one step: is there a usable success for this key
// (entry found locally or in the shared store, and every stored output file present and intact,
// then restored), and record this success (outputs captured, entry written, upload queued).
// A hit whose files cannot be restored is no hit: the step runs, and the log says why.
import path from 'node:path';
import { readAllCacheEntries, readCacheEntry, writeCacheEntry, type CacheEntry } from '../cache.js';
import { ObjectStore } from './objects.js';
import { captureOutputs, checkStored, restoreOutputs, type StoredPath } from './outputs.js';
import { SharedCache, type SharedEntry } from './shared.js';
import { openBlobStore } from './stores.js';

export interface CacheLog {
  info(line: string): void;
  warn(line: string): void;
}

export interface CacheHit {
  entry: CacheEntry;
  from: 'local' | 'shared';
  /** Output files copied back, and those already in place with the right content. */
  written: number;
  unchanged: number;
}

export interface StepCacheOptions {
  /** Absolute `.shipgate` directory. */
  stateDir: string;
  /** `file:///…` or `s3://bucket/prefix`: a shared store beside the local one. */
  sharedUrl?: string;
  env: Readonly<Record<string, string | undefined>>;
}

const defaultTimeoutS = 10;

/** Seconds from $SHIPGATE_CACHE_TIMEOUT, or the default. */
function timeoutMs(env: Readonly<Record<string, string | undefined>>): number {
  const seconds = Number(env.SHIPGATE_CACHE_TIMEOUT);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : defaultTimeoutS * 1000;
}

export class StepCache {
  readonly objects: ObjectStore;
  readonly shared: SharedCache | undefined;

  constructor(private readonly options: StepCacheOptions) {
    this.objects = new ObjectStore(path.join(options.stateDir, 'objects'), options.env.SHIPGATE_CACHE_VERIFY === 'full' ? 'full' : 'seal');
    if (options.sharedUrl) {
      const bound = timeoutMs(options.env);
      const readOnly = ['1', 'true', 'yes'].includes((options.env.SHIPGATE_CACHE_READONLY ?? '').toLowerCase());
      this.shared = new SharedCache(openBlobStore(options.sharedUrl, options.env, bound), this.objects, { timeoutMs: bound, transferTimeoutMs: bound * 60, readOnly });
    }
  }

  /** A usable earlier success of this key, its files restored into `cwd`; undefined means: run the step. */
  async lookup(stepId: string, key: string, invocationId: string, cwd: string, log: CacheLog): Promise<CacheHit | undefined> {
    let from: CacheHit['from'] = 'local';
    let entry: CacheEntry | undefined = await readCacheEntry(this.options.stateDir, stepId, key);
    if (!entry && this.shared) {
      entry = await this.fromShared(stepId, key, log);
      from = 'shared';
    }
    if (!entry || entry.invocation !== invocationId) return undefined;

    let stored: readonly StoredPath[] = entry.stored ?? [];
    let problem = await checkStored(stored, this.objects);
    if (problem && from === 'local' && this.shared) {
      // the local copy is damaged: the shared store may still hold a good one
      const again = await this.fromShared(stepId, key, log);
      if (again && again.invocation === invocationId) {
        entry = again;
        from = 'shared';
        stored = entry.stored ?? [];
        problem = await checkStored(stored, this.objects);
      }
    }
    if (problem) {
      log.warn(`cache: inputs unchanged since ${entry.at}, but ${problem.reason}; running the step`);
      return undefined;
    }
    try {
      const { written, unchanged } = await restoreOutputs(cwd, stored, this.objects);
      return { entry, from, written, unchanged };
    } catch (error) {
      log.warn(`cache: inputs unchanged since ${entry.at}, but its outputs could not be restored (${(error as Error).message}); running the step`);
      return undefined;
    }
  }

  private async fromShared(stepId: string, key: string, log: CacheLog): Promise<CacheEntry | undefined> {
    const shared: SharedEntry | undefined = await this.shared!.fetch(stepId, key, log);
    if (!shared) return undefined;
    const { pack: _pack, ...entry } = shared;
    await writeCacheEntry(this.options.stateDir, stepId, entry).catch(() => undefined);
    return entry;
  }

  /** Records a success: its output files into the object store, the entry, and (in the background) the shared store. */
  async save(stepId: string, entry: Omit<CacheEntry, 'stored'>, cwd: string, outputGlobs: readonly string[] | undefined, log: CacheLog): Promise<void> {
    let stored: StoredPath[] = [];
    if (outputGlobs && outputGlobs.length > 0) {
      const captured = await captureOutputs(cwd, outputGlobs, this.objects);
      for (const glob of captured.unmatched) log.warn(`cache: outputs glob "${glob}" matched nothing`);
      stored = captured.stored;
    }
    const full: CacheEntry = { ...entry, stored };
    const evicted = await writeCacheEntry(this.options.stateDir, stepId, full);
    this.shared?.upload(stepId, full, log.warn);
    if (evicted > 0 && !this.pruning) this.pruning = this.prune().catch(() => undefined);
  }

  private pruning: Promise<void> | undefined;

  /** Objects of evicted entries go too, so the store does not grow without bound (after the run's uploads). */
  private async prune(): Promise<void> {
    await this.shared?.flush();
    const referenced = new Set<string>();
    for (const entry of await readAllCacheEntries(this.options.stateDir)) for (const s of entry.stored ?? []) if (s.type === 'file') referenced.add(s.sha256);
    await this.objects.prune(referenced);
  }

  /** Waits for the uploads of this run (each bounded in time) and a prune it started. */
  async flush(): Promise<void> {
    await this.shared?.flush();
    await this.pruning;
  }
}

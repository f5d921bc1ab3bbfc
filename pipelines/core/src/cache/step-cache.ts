// What the scheduler asks of the cache for one step: is there a usable success for this key
// (entry found locally or in the shared store, and every stored output file present and intact,
// then restored), and record this success (outputs captured, entry written, upload queued).
// A hit from the shared store writes its files straight into the workspace; the local store is
// filled from them after the step is reported (`fill`), its entry written last — except on CI by
// default, where the local store is thrown away with the machine ($SHIPGATE_CACHE_LOCAL_FILL).
// A hit whose files cannot be restored is no hit: the step runs, and the log says why.
import path from 'node:path';
import { ShipgateError } from '@shipgate/protocol';
import { readAllCacheEntries, readCacheEntry, writeCacheEntry, type CacheEntry } from './keys.js';
import { forEachLimited, ObjectStore } from './objects.js';
import { captureOutputs, checkStored, prepareRestore, restoreOutputs, unsafePath, type RestoreProblem, type StoredPath } from './outputs.js';
import { SharedCache } from './shared.js';
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
/** Copies into the local store at once during a fill: it runs beside later steps, so fewer than a restore. */
const fillParallel = 16;

/** Seconds from $SHIPGATE_CACHE_TIMEOUT, or the default. */
function timeoutMs(env: Readonly<Record<string, string | undefined>>): number {
  const seconds = Number(env.SHIPGATE_CACHE_TIMEOUT);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : defaultTimeoutS * 1000;
}

const localFillModes = ['auto', 'always', 'never'] as const;

/**
 * Whether a hit from the shared store is also kept in the local one ($SHIPGATE_CACHE_LOCAL_FILL):
 * `always`, `never`, or `auto` (the default): not on CI ($CI set), whose machine and local store are
 * usually thrown away after the job, so the copy would be a second write of every file for nothing.
 */
export function fillsLocally(env: Readonly<Record<string, string | undefined>>): boolean {
  const mode = (env.SHIPGATE_CACHE_LOCAL_FILL ?? '').trim().toLowerCase() || 'auto';
  if (!(localFillModes as readonly string[]).includes(mode)) {
    throw new ShipgateError('cache.local-fill', `SHIPGATE_CACHE_LOCAL_FILL is "${env.SHIPGATE_CACHE_LOCAL_FILL}"`, { hint: `use one of ${localFillModes.join(', ')}` });
  }
  if (mode === 'auto') return !['1', 'true', 'yes'].includes((env.CI ?? '').trim().toLowerCase());
  return mode === 'always';
}

export class StepCache {
  readonly objects: ObjectStore;
  readonly shared: SharedCache | undefined;
  readonly #fillsLocally: boolean;

  constructor(private readonly options: StepCacheOptions) {
    this.objects = new ObjectStore(path.join(options.stateDir, 'objects'), options.env.SHIPGATE_CACHE_VERIFY === 'full' ? 'full' : 'seal');
    this.#fillsLocally = fillsLocally(options.env);
    if (options.sharedUrl) {
      const bound = timeoutMs(options.env);
      const readOnly = ['1', 'true', 'yes'].includes((options.env.SHIPGATE_CACHE_READONLY ?? '').toLowerCase());
      this.shared = new SharedCache(openBlobStore(options.sharedUrl, options.env, bound), this.objects, { timeoutMs: bound, transferTimeoutMs: bound * 60, readOnly });
    }
  }

  /** A usable earlier success of this key, its files restored into `cwd`; undefined means: run the step. */
  async lookup(stepId: string, key: string, invocationId: string, cwd: string, log: CacheLog): Promise<CacheHit | undefined> {
    const local = await readCacheEntry(this.options.stateDir, stepId, key);
    let localProblem: RestoreProblem | undefined;
    if (local && local.invocation === invocationId) {
      localProblem = await checkStored(local.stored ?? [], this.objects);
      if (!localProblem) return this.restoreLocal(local, 'local', cwd, log);
    }
    // a local miss, or a damaged local copy: the shared store may hold a good one
    const shared = this.shared ? await this.shared.fetchEntry(stepId, key, log) : undefined;
    if (!shared || shared.invocation !== invocationId) {
      if (localProblem) log.warn(`cache: inputs unchanged since ${local!.at}, but ${localProblem.reason}; running the step`);
      return undefined;
    }
    const { pack: _pack, ...entry } = shared;
    const stored = entry.stored ?? [];
    const unsafe = unsafePath(stored);
    if (unsafe) {
      log.warn(`cache: inputs unchanged since ${entry.at}, but ${unsafe.reason}; running the step`);
      return undefined;
    }
    // every object already here and intact (an earlier fill, or other steps' equal files): no download
    if (!(await checkStored(stored, this.objects))) {
      const hit = await this.restoreLocal(entry, 'shared', cwd, log);
      if (hit) await writeCacheEntry(this.options.stateDir, stepId, entry).catch(() => undefined);
      return hit;
    }
    try {
      const prepared = await prepareRestore(cwd, stored);
      if (!(await this.shared!.restoreFromPack(stepId, shared, prepared.pending, log))) return undefined;
      await prepared.finish();
      if (this.#fillsLocally) this.fillLater(stepId, entry, cwd, log);
      return { entry, from: 'shared', written: prepared.linked + prepared.pending.length, unchanged: prepared.unchanged };
    } catch (error) {
      log.warn(`cache: inputs unchanged since ${entry.at}, but its outputs could not be restored (${(error as Error).message}); running the step`);
      return undefined;
    }
  }

  private async restoreLocal(entry: CacheEntry, from: CacheHit['from'], cwd: string, log: CacheLog): Promise<CacheHit | undefined> {
    try {
      const { written, unchanged } = await restoreOutputs(cwd, entry.stored ?? [], this.objects);
      return { entry, from, written, unchanged };
    } catch (error) {
      log.warn(`cache: inputs unchanged since ${entry.at}, but its outputs could not be restored (${(error as Error).message}); running the step`);
      return undefined;
    }
  }

  private readonly filling = new Set<Promise<void>>();

  /**
   * After a hit from the shared store, copies the restored files into the local object store (a
   * reflink where the file system has them), each checked against its sha256 again since a later
   * step may already be changing it, and writes the local entry last: a process killed midway
   * leaves objects without an entry, which no lookup trusts (the next run asks the shared store
   * again). Runs beside the steps after this one; the run waits for it at its end.
   */
  private fillLater(stepId: string, entry: CacheEntry, cwd: string, log: CacheLog): void {
    const work = this.fill(stepId, entry, cwd).catch((error: unknown) => log.warn(`cache: could not keep the shared hit in the local cache (${(error as Error).message})`));
    this.filling.add(work);
    void work.finally(() => this.filling.delete(work));
  }

  private async fill(stepId: string, entry: CacheEntry, cwd: string): Promise<void> {
    const files = [...new Map((entry.stored ?? []).flatMap((s) => (s.type === 'file' ? [[s.sha256, s] as const] : []))).values()];
    const present = await this.objects.present(files.map((f) => f.sha256));
    let complete = true;
    await forEachLimited(
      files.filter((f) => !present.has(f.sha256)),
      fillParallel,
      async (file) => {
        if (complete && !(await this.objects.addVerifiedCopy(path.join(cwd, file.path), file.sha256, file.size))) complete = false;
      },
    );
    // a restored file changed before it was kept: no local entry (the shared store still has it)
    if (!complete) return;
    const evicted = await writeCacheEntry(this.options.stateDir, stepId, entry);
    if (evicted > 0 && !this.pruning) this.pruning = this.prune().catch(() => undefined);
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

  /** Waits for the local fills and uploads of this run (each bounded in time) and a prune it started. */
  async flush(): Promise<void> {
    while (this.filling.size > 0) await Promise.all([...this.filling]);
    await this.shared?.flush();
    await this.pruning;
  }
}

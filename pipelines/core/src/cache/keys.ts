// The content-hash cache. A step that declares `cache: { inputs: [...] }` is skipped when its
// definition, matrix values, environment, input files and upstream outputs hash to a key that
// succeeded before; its `$SHIPGATE_OUTPUT` values and the files its `cache.outputs` globs name
// are restored from that success (the files through ./cache/outputs.ts).
import { createHash } from 'node:crypto';
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { glob } from 'tinyglobby';
import { namesNodeModules, type StoredPath } from './outputs.js';
import { sha256File } from './objects.js';
import { canonicalJson, makeDirectory } from '@shipgate/protocol';

export interface CacheKeyInput {
  uses: string;
  with: unknown;
  workingDirectory: string;
  matrix: Readonly<Record<string, unknown>> | undefined;
  /** The step's resolved env (pipeline + step), not the whole process env. */
  env: Readonly<Record<string, string>>;
  /** Outputs of the steps it needs, by step id. */
  upstream: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Globs relative to `cwd`. */
  inputs: readonly string[];
  /** `cache.outputs` globs: part of the key, so changing them never restores a different set. */
  outputs?: readonly string[];
  cwd: string;
}

export interface CacheEntry {
  key: string;
  invocation: string;
  outputs: Record<string, string>;
  /** ISO time of the success it records. */
  at: string;
  /** How many files the key covered (for `--verbose` and reports). */
  files: number;
  /** The output files to restore on a hit (empty without `cache.outputs`). */
  stored?: StoredPath[];
}

const keepPerStep = 5;
const ignored = ['**/.git/**', '**/.shipgate/**'];

/**
 * sha256 over every file matching the globs: sorted relative paths and their contents. A glob
 * looks inside node_modules folders only when it names node_modules itself
 * (`node_modules/.package-lock.json`), so `**\/*.ts` does not hash thousands of installed files.
 * `unmatched` lists the globs that matched no file, for a warning.
 */
export async function hashInputFiles(cwd: string, patterns: readonly string[]): Promise<{ digest: string; files: number; unmatched: string[] }> {
  const excluded = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  const found = new Set<string>();
  const unmatched: string[] = [];
  for (const pattern of patterns.filter((p) => !p.startsWith('!'))) {
    const ignore = [...ignored, ...excluded, ...(namesNodeModules(pattern) ? [] : ['**/node_modules/**'])];
    const matches = await glob([pattern], { cwd, ignore, dot: true, onlyFiles: true, followSymbolicLinks: false, expandDirectories: false });
    if (matches.length === 0) unmatched.push(pattern);
    for (const m of matches) found.add(m);
  }
  const files = [...found].sort();
  const hash = createHash('sha256');
  // bounded concurrency: hashing thousands of files at once would exhaust file descriptors
  const digests: string[] = new Array(files.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(16, files.length) }, async () => {
      while (next < files.length) {
        const i = next++;
        digests[i] = await sha256File(path.resolve(cwd, files[i]!));
      }
    }),
  );
  files.forEach((f, i) => hash.update(`${f}\0${digests[i]}\0`));
  return { digest: hash.digest('hex'), files: files.length, unmatched };
}

export async function computeCacheKey(input: CacheKeyInput): Promise<{ key: string; files: number; unmatched: string[] }> {
  const { digest, files, unmatched } = await hashInputFiles(input.cwd, input.inputs);
  const key = createHash('sha256')
    .update(
      canonicalJson({
        v: 2,
        uses: input.uses,
        with: input.with,
        workingDirectory: input.workingDirectory,
        matrix: input.matrix ?? {},
        env: input.env,
        upstream: input.upstream,
        inputs: input.inputs,
        outputs: input.outputs ?? [],
        files: digest,
      }),
    )
    .digest('hex');
  return { key, files, unmatched };
}

/**
 * Creates the state directory with a `.gitignore` of `*`, so nothing shipgate keeps there (cache
 * objects, reports, outputs) ever shows up in `git status`.
 */
export async function ensureStateDir(stateDir: string): Promise<void> {
  const ignore = path.join(stateDir, '.gitignore');
  if ((await readFile(ignore, 'utf8').catch(() => undefined)) !== undefined) return;
  // best effort: a state directory that cannot be written shows up where it is used
  await makeDirectory(stateDir)
    .then(() => writeFile(ignore, '# written by shipgate: nothing in this folder belongs in git\n*\n'))
    .catch(() => undefined);
}

function stepDir(stateDir: string, stepId: string): string {
  return path.join(stateDir, 'cache', stepId);
}

export async function readCacheEntry(stateDir: string, stepId: string, key: string): Promise<CacheEntry | undefined> {
  try {
    return JSON.parse(await readFile(path.join(stepDir(stateDir, stepId), `${key}.json`), 'utf8')) as CacheEntry;
  } catch {
    return undefined;
  }
}

/** Writes the entry and keeps the newest few of the step; returns how many older ones it removed. */
export async function writeCacheEntry(stateDir: string, stepId: string, entry: CacheEntry): Promise<number> {
  const dir = stepDir(stateDir, stepId);
  await makeDirectory(dir);
  const file = path.join(dir, `${entry.key}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(entry, null, 2));
  await rename(tmp, file);
  // keep the newest few per step
  const entries = await Promise.all(
    (await readdir(dir)).filter((f) => f.endsWith('.json')).map(async (f) => ({ f, mtime: (await stat(path.join(dir, f))).mtimeMs })),
  );
  entries.sort((a, b) => b.mtime - a.mtime);
  const evicted = entries.slice(keepPerStep);
  await Promise.all(evicted.map((e) => rm(path.join(dir, e.f), { force: true })));
  return evicted.length;
}

/** Every entry kept for every step (for pruning the object store). */
export async function readAllCacheEntries(stateDir: string): Promise<CacheEntry[]> {
  const root = path.join(stateDir, 'cache');
  const steps = await readdir(root).catch(() => [] as string[]);
  const entries: CacheEntry[] = [];
  for (const step of steps) {
    const files = await readdir(path.join(root, step)).catch(() => [] as string[]);
    for (const file of files.filter((f) => f.endsWith('.json'))) {
      const entry = await readJsonFile<CacheEntry>(path.join(root, step, file));
      if (entry) entries.push(entry);
    }
  }
  return entries;
}

type OutputsRecord = Record<string, { at: string; outputs: Record<string, string> }>;

/**
 * Recorded outputs live one file per step, `outputs/<step>.json` (`{ at, outputs }`), so runs of
 * different steps in one workspace at the same time (`shipgate run --only a` beside
 * `--only b`, as the Jenkins library's parallel branches do) never overwrite each other's
 * records: each writes only its own steps' files, atomically. Step ids are letters, digits,
 * `_` and `-`, so they are safe file names.
 */
function outputsDir(stateDir: string): string {
  return path.join(stateDir, 'outputs');
}

/** The single file earlier versions wrote; still read, under the per-step files. */
function legacyOutputsFile(stateDir: string): string {
  return path.join(stateDir, 'outputs.json');
}

async function readJsonFile<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Every recorded success by step: the legacy file merged under the per-step files. */
export async function readRecordedOutputs(stateDir: string): Promise<OutputsRecord> {
  const record: OutputsRecord = { ...(await readJsonFile<OutputsRecord>(legacyOutputsFile(stateDir))) };
  const files = await readdir(outputsDir(stateDir)).catch(() => [] as string[]);
  for (const file of files.filter((f) => f.endsWith('.json'))) {
    const entry = await readJsonFile<OutputsRecord[string]>(path.join(outputsDir(stateDir), file));
    if (entry?.outputs) record[file.slice(0, -'.json'.length)] = entry;
  }
  return record;
}

/**
 * Records the outputs of each step's latest success, for `--only`: one file per step, written
 * once at the end of a run.
 */
export async function recordStepOutputs(stateDir: string, outputsByStep: Readonly<Record<string, Record<string, string>>>): Promise<void> {
  if (Object.keys(outputsByStep).length === 0) return;
  const dir = outputsDir(stateDir);
  await makeDirectory(dir);
  const at = new Date().toISOString();
  await Promise.all(
    Object.entries(outputsByStep).map(async ([stepId, outputs]) => {
      const file = path.join(dir, `${stepId}.json`);
      const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      await writeFile(tmp, JSON.stringify({ at, outputs }, null, 2));
      await rename(tmp, file);
    }),
  );
}

/** Outputs of the newest recorded success of a step, for `--only`; undefined when it never succeeded. */
export async function lastSuccessfulOutputs(stateDir: string, stepId: string): Promise<Record<string, string> | undefined> {
  const own = await readJsonFile<OutputsRecord[string]>(path.join(outputsDir(stateDir), `${stepId}.json`));
  if (own?.outputs) return own.outputs;
  return (await readJsonFile<OutputsRecord>(legacyOutputsFile(stateDir)))?.[stepId]?.outputs;
}

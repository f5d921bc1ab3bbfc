// A cached step's output files: captured into the object store when the step succeeds (as a list
// of paths with their kind, mode, modification time and content hash) and restored from it on a
// hit. Regular files keep their permission bits and modification times (incremental tools such
// as tsc --build compare them), symbolic links (node_modules/.bin) are recreated as links, and
// directories are recorded so empty ones come back too. A restore never deletes files the list
// does not name, and leaves alone files already right: same size and modification time (the
// quick check rsync and git make), or else the same content.
import type { Dirent } from 'node:fs';
import { chmod, constants, copyFile, lstat, mkdir, open, readdir, readFile, readlink, realpath, rm, symlink, utimes, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import { isDynamicPattern } from 'tinyglobby';
import { makeDirectory } from '@shipgate/protocol';
import { forEachLimited, sha256File, smallFileBytes, type ObjectStore } from './objects.js';

export interface StoredFile {
  readonly path: string;
  readonly type: 'file';
  readonly mode: number;
  readonly size: number;
  readonly sha256: string;
  /** Modification time when captured (ms); restored copies get it back. */
  readonly mtimeMs?: number;
}
export interface StoredSymlink {
  readonly path: string;
  readonly type: 'symlink';
  readonly target: string;
}
export interface StoredDir {
  readonly path: string;
  readonly type: 'dir';
  readonly mode: number;
}
/** One output path, relative to the step's working directory, with `/` separators. */
export type StoredPath = StoredFile | StoredSymlink | StoredDir;

/** Folders never captured: version control and shipgate's own state. */
const neverCaptured = new Set(['.git', '.shipgate']);
const parallelFiles = 32;

/** Whether a glob names node_modules itself; other globs do not look inside node_modules folders. */
export function namesNodeModules(pattern: string): boolean {
  return pattern.split('/').includes('node_modules');
}

/** The leading segments of a glob without wildcards: where a walk for it starts. */
function staticBase(pattern: string): string {
  const segments = pattern.split('/');
  const base: string[] = [];
  for (const segment of segments) {
    if (isDynamicPattern(segment)) break;
    base.push(segment);
  }
  return base.join('/');
}

function isInside(relative: string): boolean {
  return relative !== '' && !relative.startsWith('../') && relative !== '..' && !path.isAbsolute(relative);
}

interface Found {
  path: string;
  dirent: 'file' | 'dir' | 'symlink';
}

/** Every path under `start` (relative to cwd), without following symbolic links. */
async function walk(cwd: string, start: string, skipNodeModules: boolean, into: Map<string, Found>): Promise<void> {
  let info;
  try {
    info = await lstat(path.join(cwd, start));
  } catch {
    return;
  }
  const kind = info.isSymbolicLink() ? 'symlink' : info.isDirectory() ? 'dir' : info.isFile() ? 'file' : undefined;
  if (!kind) return;
  into.set(start, { path: start, dirent: kind });
  if (kind !== 'dir') return;
  // iterative, so deep trees cannot overflow the stack; bounded by the tree itself
  const pending = [start];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    let entries: Dirent[];
    try {
      entries = await readdir(path.join(cwd, dir), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (neverCaptured.has(entry.name) || (skipNodeModules && entry.name === 'node_modules')) continue;
      const rel = `${dir}/${entry.name}`;
      if (entry.isSymbolicLink()) into.set(rel, { path: rel, dirent: 'symlink' });
      else if (entry.isFile()) into.set(rel, { path: rel, dirent: 'file' });
      else if (entry.isDirectory()) {
        into.set(rel, { path: rel, dirent: 'dir' });
        pending.push(rel);
      }
    }
  }
}

/** Paths the output globs name (a directory means everything under it); globs that matched nothing. */
export async function findOutputs(cwd: string, patterns: readonly string[]): Promise<{ found: Found[]; unmatched: string[] }> {
  const all = new Map<string, Found>();
  const unmatched: string[] = [];
  for (const raw of patterns) {
    const pattern = path.posix.normalize(raw.replace(/\\/g, '/')).replace(/\/+$/, '');
    if (!isInside(pattern)) {
      unmatched.push(raw);
      continue;
    }
    const skipNodeModules = !namesNodeModules(pattern);
    const matched = new Map<string, Found>();
    if (!isDynamicPattern(pattern)) {
      await walk(cwd, pattern, false, matched);
    } else {
      const base = staticBase(pattern);
      const candidates = new Map<string, Found>();
      if (base === '') {
        for (const entry of await readdir(cwd).catch(() => [] as string[])) {
          if (!neverCaptured.has(entry) && !(skipNodeModules && entry === 'node_modules')) await walk(cwd, entry, skipNodeModules, candidates);
        }
      } else {
        await walk(cwd, base, skipNodeModules, candidates);
      }
      const matches = picomatch(pattern, { dot: true });
      // a matching directory brings everything under it, as a plain directory name does
      const matchedDirs = new Set<string>();
      const underMatched = (p: string): boolean => {
        for (let cut = p.lastIndexOf('/'); cut > 0; cut = p.lastIndexOf('/', cut - 1)) if (matchedDirs.has(p.slice(0, cut))) return true;
        return false;
      };
      // parents come before their children in a walk, so a matched directory is known before its contents
      for (const found of candidates.values()) {
        if (matches(found.path) || underMatched(found.path)) {
          matched.set(found.path, found);
          if (found.dirent === 'dir') matchedDirs.add(found.path);
        }
      }
    }
    if (matched.size === 0) unmatched.push(raw);
    for (const [p, found] of matched) all.set(p, found);
  }
  return { found: [...all.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)), unmatched };
}

/** Stores the step's output files; returns what a hit must restore. */
export async function captureOutputs(cwd: string, patterns: readonly string[], objects: ObjectStore): Promise<{ stored: StoredPath[]; unmatched: string[] }> {
  const { found, unmatched } = await findOutputs(cwd, patterns);
  const stored: StoredPath[] = new Array(found.length);
  await forEachLimited(found, parallelFiles, async (entry, i) => {
    const full = path.join(cwd, entry.path);
    if (entry.dirent === 'symlink') {
      stored[i] = { path: entry.path, type: 'symlink', target: await readlink(full) };
      return;
    }
    const info = await lstat(full);
    const mode = info.mode & 0o7777;
    if (entry.dirent === 'dir') {
      stored[i] = { path: entry.path, type: 'dir', mode };
      return;
    }
    const sha256 = await sha256File(full);
    await objects.addFile(full, sha256, info.size);
    stored[i] = { path: entry.path, type: 'file', mode, size: info.size, sha256, mtimeMs: info.mtimeMs };
  });
  return { stored, unmatched };
}

/** Why stored outputs cannot be restored, for the log line that says the step runs instead. */
export interface RestoreProblem {
  readonly reason: string;
}

/** A stored path that is relative, normalized and inside the working directory (a shared store is not trusted with `..`). */
function safePath(p: string): boolean {
  return isInside(p) && path.posix.normalize(p) === p && !p.includes('\\');
}

/** A problem when a stored path leads outside the working directory. */
export function unsafePath(stored: readonly StoredPath[]): RestoreProblem | undefined {
  const unsafe = stored.find((s) => !safePath(s.path));
  return unsafe ? { reason: `the stored outputs name a path outside the working directory (${unsafe.path})` } : undefined;
}

/** Checks every stored object (present, and its content still hashes to its name) before the workspace is touched. */
export async function checkStored(stored: readonly StoredPath[], objects: ObjectStore): Promise<RestoreProblem | undefined> {
  const unsafe = unsafePath(stored);
  if (unsafe) return unsafe;
  const files = stored.filter((s): s is StoredFile => s.type === 'file');
  const unique = [...new Map(files.map((f) => [f.sha256, f])).values()];
  let problem: RestoreProblem | undefined;
  await forEachLimited(unique, parallelFiles, async (file) => {
    if (problem) return;
    const found = await objects.check(file.sha256, file.size);
    if (found === 'corrupt') await objects.discard(file.sha256);
    if (found && !problem) problem = { reason: `the stored copy of ${file.path} is ${found === 'missing' ? 'missing' : 'corrupt (checksum mismatch)'}` };
  });
  return problem;
}

/** Whether the file at `full` already holds this content and mode. */
async function alreadyRestored(full: string, file: StoredFile): Promise<'same' | 'mode' | 'different'> {
  try {
    const info = await lstat(full);
    if (!info.isFile() || info.size !== file.size) return 'different';
    // within a millisecond: utimes round-trips the time through a double
    const quick = file.mtimeMs !== undefined && Math.abs(info.mtimeMs - file.mtimeMs) < 1;
    if (!quick && (await sha256File(full)) !== file.sha256) return 'different';
    return (info.mode & 0o7777) === file.mode ? 'same' : 'mode';
  } catch {
    return 'different';
  }
}

/** A file a restore must write: its path is free (nothing there, or removed) and its folder exists. */
export interface PendingFile {
  readonly entry: StoredFile;
  readonly full: string;
}

export interface PreparedRestore {
  /** Files to write, in stored order. */
  readonly pending: PendingFile[];
  /** Symbolic links written. */
  readonly linked: number;
  /** Paths already right (left alone). */
  readonly unchanged: number;
  /** Sets directory modes; call once every file is written (a read-only folder could not be filled). */
  finish(): Promise<void>;
}

/**
 * Gets `cwd` ready for the stored outputs, whatever writes their content (the local object store
 * or a download): directories created, symbolic links made, files already right left alone, and
 * the paths of the others cleared. Call `checkStored` (or `unsafePath`) first.
 */
export async function prepareRestore(cwd: string, stored: readonly StoredPath[]): Promise<PreparedRestore> {
  const root = await realpath(cwd);
  const insideDirs = new Map<string, Promise<boolean>>();
  // a stored symlink must never redirect a later write outside the working directory
  const dirIsInside = (dir: string): Promise<boolean> => {
    let known = insideDirs.get(dir);
    if (!known) {
      known = realpath(dir).then(
        (real) => real === root || real.startsWith(`${root}${path.sep}`),
        () => false,
      );
      insideDirs.set(dir, known);
    }
    return known;
  };
  const ensureParent = async (full: string): Promise<void> => {
    const dir = path.dirname(full);
    await makeDirectory(dir);
    if (!(await dirIsInside(dir))) throw new Error(`refusing to restore ${full}: its folder leads outside the working directory`);
  };

  let linked = 0;
  let unchanged = 0;
  const pendingAt: (PendingFile | undefined)[] = new Array(stored.length);
  // Folders this restore created hold nothing else: their files need no look and no removal
  // first (after `rm -rf node_modules`, that is every file of the tree).
  const fresh = new Set<string>();
  const inFresh = (full: string): boolean => fresh.has(path.dirname(full));
  const dirs = stored.filter((s): s is StoredDir => s.type === 'dir').sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const dir of dirs) {
    const full = path.join(cwd, dir.path);
    if (inFresh(full)) {
      await mkdir(full);
      fresh.add(full);
      continue;
    }
    await ensureParent(full);
    const info = await lstat(full).catch(() => undefined);
    if (info?.isDirectory()) continue;
    if (info) await rm(full, { recursive: true, force: true });
    await mkdir(full);
    fresh.add(full);
  }
  await forEachLimited(stored, parallelFiles, async (entry, i) => {
    if (entry.type === 'dir') return;
    const full = path.join(cwd, entry.path);
    if (entry.type === 'symlink') {
      if (!inFresh(full)) {
        const current = await readlink(full).catch(() => undefined);
        if (current === entry.target) {
          unchanged += 1;
          return;
        }
        await ensureParent(full);
        await rm(full, { recursive: true, force: true });
      }
      await symlink(entry.target, full);
      linked += 1;
      return;
    }
    if (!inFresh(full)) {
      const state = await alreadyRestored(full, entry);
      if (state === 'same' || state === 'mode') {
        if (state === 'mode') await chmod(full, entry.mode);
        unchanged += 1;
        return;
      }
      await ensureParent(full);
      await rm(full, { recursive: true, force: true });
    }
    pendingAt[i] = { entry, full };
  });
  return {
    pending: pendingAt.filter((p): p is PendingFile => p !== undefined),
    linked,
    unchanged,
    finish: async () => {
      for (const dir of dirs) await chmod(path.join(cwd, dir.path), dir.mode).catch(() => undefined);
    },
  };
}

let umaskBits: number | undefined;

/** Whether a file created with this mode needs a chmod: the umask clears some of its bits, or it has special bits. */
function modeNeedsChmod(mode: number): boolean {
  // read once per process: setting it back and forth is racy only with worker threads, which shipgate does not use
  umaskBits ??= process.umask();
  return (mode & 0o7000) !== 0 || (mode & umaskBits) !== 0;
}

/** Mode and modification time of a restored file created with its mode, through its open handle (no path lookups). */
export async function stampOpenFile(handle: FileHandle, entry: StoredFile): Promise<void> {
  if (modeNeedsChmod(entry.mode)) await handle.chmod(entry.mode);
  if (entry.mtimeMs !== undefined) await handle.utimes(entry.mtimeMs / 1000, entry.mtimeMs / 1000);
}

/**
 * Writes content already verified against the entry's sha256 to a free path: created exclusively
 * (never through a link someone left there), stamped through the open handle.
 */
export async function writeRestoredFile(full: string, entry: StoredFile, data: Uint8Array): Promise<void> {
  const handle = await open(full, 'wx', entry.mode);
  try {
    await handle.writeFile(data);
    await stampOpenFile(handle, entry);
  } finally {
    await handle.close();
  }
}

/** Copies a file of the entry's content (an object, or a file restored already) to a free path. */
export async function copyRestoredFile(from: string, full: string, entry: StoredFile): Promise<void> {
  if (entry.size <= smallFileBytes) return writeRestoredFile(full, entry, await readFile(from));
  await copyFile(from, full, constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL);
  await chmod(full, entry.mode);
  if (entry.mtimeMs !== undefined) await utimes(full, entry.mtimeMs / 1000, entry.mtimeMs / 1000);
}

/**
 * Writes the stored outputs into `cwd` from the local object store: directories first, then files
 * (copies of the objects, with their modes) and symbolic links. Call `checkStored` first.
 */
export async function restoreOutputs(cwd: string, stored: readonly StoredPath[], objects: ObjectStore): Promise<{ written: number; unchanged: number }> {
  const prepared = await prepareRestore(cwd, stored);
  await forEachLimited(prepared.pending, parallelFiles, ({ entry, full }) => copyRestoredFile(objects.pathOf(entry.sha256), full, entry));
  await prepared.finish();
  return { written: prepared.linked + prepared.pending.length, unchanged: prepared.unchanged };
}

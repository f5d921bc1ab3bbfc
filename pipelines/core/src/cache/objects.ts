// The local content-addressed object store: one file per distinct content, named by its sha256,
// under `.shipgate/objects/<first two hex digits>/<sha256>`. Output files of cached steps
// are copied in when a step succeeds and copied back out on a hit (a hit from the shared cache
// writes its files straight into the workspace and fills this store from them afterwards). Objects are never handed out
// by hard link: a later step writing into a restored file in place (fs.writeFile truncates the
// same inode, and root ignores read-only bits) would silently change the stored copy. Copies use
// COPYFILE_FICLONE, a reflink on file systems that share blocks copy-on-write (btrfs, XFS, APFS),
// and an in-kernel copy elsewhere.
//
// Objects are sealed when stored: read-only, with their modification time set to a fixed stamp.
// A hit checks each object's size and stamp (one stat); any write through the file system moves
// the stamp, and such an object is hashed in full before it is used (and thrown away if it no
// longer matches its name). SHIPGATE_CACHE_VERIFY=full hashes every object on every hit, for
// damage that bypasses the file system.
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { chmod, copyFile, open, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { makeDirectory } from '@shipgate/protocol';

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Runs `work` over every item with at most `limit` at once (file descriptors are finite). */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i]!, i);
      }
    }),
  );
}

export function tempName(file: string): string {
  return `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
}

/**
 * Files up to this size are copied by reading them into memory and writing through one open handle:
 * a copy by path plus chmod and utimes by path (or a read stream for the hash) cost more calls per
 * file, which is what a tree of thousands of small files pays for. Larger files go through
 * copyFile, a reflink where the file system has them.
 */
export const smallFileBytes = 64 * 1024;

/** Why a stored object cannot be used, or undefined when it is intact. */
export type ObjectProblem = 'missing' | 'corrupt';

/** The modification time of a sealed object (seconds since the epoch; 2001-09-09, so never "now"). */
const sealStamp = 1_000_000_000;

export class ObjectStore {
  /** Objects whose content was checked against their name in this process (they are never written in place). */
  private readonly verified = new Set<string>();

  /** `full`: hash every object on every hit instead of trusting an unchanged seal. */
  constructor(
    readonly dir: string,
    private readonly verify: 'seal' | 'full' = 'seal',
  ) {}

  /** Read-only, with the fixed stamp: a later write through the file system shows. */
  private async seal(file: string): Promise<void> {
    await chmod(file, 0o444);
    await utimes(file, sealStamp, sealStamp);
  }

  private readonly fanouts = new Map<string, Promise<unknown>>();

  /** Creates the object's fan-out folder once per process (not once per object). */
  private fanout(target: string): Promise<unknown> {
    const dir = path.dirname(target);
    let made = this.fanouts.get(dir);
    if (!made) {
      made = makeDirectory(dir);
      this.fanouts.set(dir, made);
    }
    return made;
  }

  /** Names of the objects present, among those asked for (one directory listing per fan-out folder). */
  async present(sha256s: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const prefixes = [...new Set(sha256s.map((s) => s.slice(0, 2)))];
    await forEachLimited(prefixes, 16, async (prefix) => {
      for (const name of await readdir(path.join(this.dir, prefix)).catch(() => [] as string[])) found.add(name);
    });
    return found;
  }

  pathOf(sha256: string): string {
    return path.join(this.dir, sha256.slice(0, 2), sha256);
  }

  async size(sha256: string): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(sha256))).size;
    } catch {
      return undefined;
    }
  }

  /** Stores a copy of `file`, whose content hashes to `sha256`, unless that content is stored already. */
  async addFile(file: string, sha256: string, size: number): Promise<void> {
    if ((await this.size(sha256)) === size) return;
    const target = this.pathOf(sha256);
    await this.fanout(target);
    const tmp = tempName(target);
    try {
      await copyFile(file, tmp, constants.COPYFILE_FICLONE);
      await this.seal(tmp);
      await rename(tmp, target);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    this.verified.add(sha256);
  }

  /**
   * Stores a copy of `file` under `sha256` only if the copy really hashes to it (the file is a
   * workspace file that a later step may already have changed); false when it does not. The
   * object appears under its name by rename, whole or not at all, so a process killed midway
   * leaves only an unnamed temporary file (removed by `prune`).
   */
  async addVerifiedCopy(file: string, sha256: string, size: number): Promise<boolean> {
    const target = this.pathOf(sha256);
    await this.fanout(target);
    const tmp = tempName(target);
    try {
      if (size <= smallFileBytes) return await this.addSmallVerified(file, sha256, tmp, target);
      await copyFile(file, tmp, constants.COPYFILE_FICLONE);
      if ((await sha256File(tmp)) !== sha256) {
        await rm(tmp, { force: true });
        return false;
      }
      await this.seal(tmp);
      await rename(tmp, target);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    this.verified.add(sha256);
    return true;
  }

  /** A small file in memory: hashed, then written sealed through one handle (no stream, no calls by path but the rename). */
  private async addSmallVerified(file: string, sha256: string, tmp: string, target: string): Promise<boolean> {
    const data = await readFile(file);
    if (createHash('sha256').update(data).digest('hex') !== sha256) return false;
    const handle = await open(tmp, 'wx', 0o444);
    try {
      await handle.writeFile(data);
      await handle.utimes(sealStamp, sealStamp);
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
    this.verified.add(sha256);
    return true;
  }

  /** Checks that the object exists with this size and that its content still hashes to its name. */
  async check(sha256: string, size: number): Promise<ObjectProblem | undefined> {
    const info = await stat(this.pathOf(sha256)).catch(() => undefined);
    if (!info) return 'missing';
    if (info.size !== size) return 'corrupt';
    if (this.verified.has(sha256)) return undefined;
    if (this.verify === 'seal' && Math.floor(info.mtimeMs / 1000) === sealStamp) return undefined;
    let digest: string;
    try {
      digest = await sha256File(this.pathOf(sha256));
    } catch {
      return 'missing';
    }
    if (digest !== sha256) return 'corrupt';
    await this.seal(this.pathOf(sha256)).catch(() => undefined);
    this.verified.add(sha256);
    return undefined;
  }

  /** Removes an object found corrupt, so the next success stores a good copy. */
  async discard(sha256: string): Promise<void> {
    this.verified.delete(sha256);
    await rm(this.pathOf(sha256), { force: true });
  }

  /**
   * Removes objects no kept entry names. Objects (and unfinished downloads) changed within the
   * last hour are kept: a run beside this one may have stored them before writing its entry.
   */
  async prune(referenced: ReadonlySet<string>, graceMs = 3_600_000): Promise<number> {
    let removed = 0;
    const now = Date.now();
    for (const sub of await readdir(this.dir).catch(() => [] as string[])) {
      if (!/^[0-9a-f]{2}$/.test(sub)) continue;
      for (const name of await readdir(path.join(this.dir, sub)).catch(() => [] as string[])) {
        if (referenced.has(name)) continue;
        const file = path.join(this.dir, sub, name);
        const info = await stat(file).catch(() => undefined);
        // graceMs 0 means none: a ctime has sub-millisecond digits that Date.now() drops, so "now" can precede it
        if (!info || (graceMs > 0 && now - info.ctimeMs < graceMs)) continue;
        await rm(file, { force: true });
        this.verified.delete(name);
        removed += 1;
      }
    }
    return removed;
  }
}

// The shared cache's pack format on its own: which objects an entry packs, the pack's name, and
// cutting a pack back into verified files (chunk boundaries anywhere, equal contents at several
// paths, large files through a temporary file, and every way a pack can be corrupt).
import { afterEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CacheEntry } from '../../src/cache/keys.js';
import type { PendingFile } from '../../src/cache/outputs.js';
import { concatFiles, CorruptDownload, packName, packObjects, writePack, type PackObject } from '../../src/cache/pack.js';
import { temporaryDirectories } from '../../../test/helpers.js';

const temporary = temporaryDirectories('sg-pack-');
const tempDir = (): string => temporary.make();
afterEach(() => temporary.removeAll());

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
const object = (data: Buffer): PackObject => ({ sha256: sha(data), size: data.length });
const file = (p: string, data: Buffer, mode = 0o644) => ({ path: p, type: 'file' as const, mode, size: data.length, sha256: sha(data), mtimeMs: 1_700_000_000_000 });

/** The pack's bytes in chunks of `size` (chunk boundaries fall inside files and across them). */
async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

describe('packObjects and packName', () => {
  const a = Buffer.from('alpha');
  const b = Buffer.from('bravo!');
  it.each<[string, CacheEntry['stored'], PackObject[]]>([
    ['no stored paths', undefined, []],
    ['only directories and links', [{ path: 'd', type: 'dir', mode: 0o755 }, { path: 'l', type: 'symlink', target: 'd' }], []],
    ['files in path order', [file('a', a), file('b', b)], [object(a), object(b)]],
    ['an equal content once', [file('a', a), file('copy/a', a), file('b', b)], [object(a), object(b)]],
  ])('%s', (_name, stored, expected) => {
    const entry = { key: 'k', outputs: {}, ...(stored ? { stored } : {}) } as unknown as CacheEntry;
    expect(packObjects(entry)).toEqual(expected);
  });

  it('names a pack by its list of objects, so equal outputs share one', () => {
    expect(packName([object(a), object(b)])).toBe(packName([object(a), object(b)]));
    expect(packName([object(a), object(b)])).not.toBe(packName([object(b), object(a)]));
    expect(packName([])).toMatch(/^[0-9a-f]{64}$/);
  });

  it('concatenates the files of a pack in order', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'a'), a);
    writeFileSync(path.join(dir, 'b'), b);
    const parts: Buffer[] = [];
    for await (const chunk of concatFiles([path.join(dir, 'a'), path.join(dir, 'b'), path.join(dir, 'a')])) parts.push(chunk);
    expect(Buffer.concat(parts).toString()).toBe('alphabravo!alpha');
  });
});

describe('writePack', () => {
  const small = Buffer.from('export const version = "1.2.3";\n');
  const empty = Buffer.alloc(0);
  const large = Buffer.alloc(5 * 1024 * 1024, 'x');
  const other = Buffer.from('not wanted by this workspace');

  function pendingIn(dir: string, entries: Array<[string, Buffer, number?]>): PendingFile[] {
    return entries.map(([p, data, mode]) => ({ entry: file(p, data, mode), full: path.join(dir, p) }));
  }

  it.each([1, 7, 64 * 1024])('writes each verified file to every path that wants it (chunks of %i bytes)', async (chunkSize) => {
    const dir = tempDir();
    const wanted = [object(small), object(empty), object(other)];
    const pending = pendingIn(dir, [['version.js', small, 0o755], ['copy.js', small], ['empty.txt', empty]]);
    await writePack(chunked(Buffer.concat([small, empty, other]), chunkSize), wanted, pending);
    expect(readFileSync(path.join(dir, 'version.js'), 'utf8')).toBe(small.toString());
    expect(readFileSync(path.join(dir, 'copy.js'), 'utf8')).toBe(small.toString());
    expect(readFileSync(path.join(dir, 'empty.txt')).length).toBe(0);
    expect(statSync(path.join(dir, 'version.js')).mode & 0o777).toBe(0o755);
    expect(statSync(path.join(dir, 'copy.js')).mtimeMs).toBe(1_700_000_000_000);
    expect(readdirSync(dir).sort()).toEqual(['copy.js', 'empty.txt', 'version.js']);
  });

  it('streams a large file through a temporary file renamed into place', async () => {
    const dir = tempDir();
    await writePack(chunked(Buffer.concat([large, small]), 256 * 1024), [object(large), object(small)], pendingIn(dir, [['big.bin', large], ['big-copy.bin', large], ['v.js', small]]));
    expect(readFileSync(path.join(dir, 'big.bin')).equals(large)).toBe(true);
    expect(readFileSync(path.join(dir, 'big-copy.bin')).equals(large)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['big-copy.bin', 'big.bin', 'v.js']);
  });

  // the last column: whether the file that did arrive whole is written before the pack is refused
  const corrupt: Array<[string, Buffer, PackObject[], RegExp, boolean]> = [
    ['a file whose bytes do not match', Buffer.from('export const version = "6.6.6";\n'), [object(small)], /does not match its sha256/, false],
    ['a pack that ends inside a file', small.subarray(0, 10), [object(small)], /ended early/, false],
    ['a pack longer than its list', Buffer.concat([small, Buffer.from('extra')]), [object(small)], /longer than its list of files/, true],
    ['a pack missing a whole file', small, [object(small), object(other)], /ended early/, true],
  ];
  it.each(corrupt)('refuses %s as a corrupt download', async (_name, bytes, wanted, message, verifiedWritten) => {
    const dir = tempDir();
    const error = await writePack(chunked(bytes, 5), wanted, pendingIn(dir, [['v.js', small]])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDownload);
    expect((error as Error).message).toMatch(message);
    expect(existsSync(path.join(dir, 'v.js'))).toBe(verifiedWritten);
  });

  it('a corrupt or cut-off large file leaves no temporary file behind', async () => {
    for (const bytes of [Buffer.alloc(large.length, 'y'), large.subarray(0, 1024 * 1024)]) {
      const dir = tempDir();
      await expect(writePack(chunked(bytes, 512 * 1024), [object(large)], pendingIn(dir, [['big.bin', large]]))).rejects.toBeInstanceOf(CorruptDownload);
      expect(readdirSync(dir)).toEqual([]);
    }
  });

  it('a failing write fails the pack with that error', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'v.js'), 'in the way');
    // a pending path must be free: a file already there makes the exclusive create fail
    await expect(writePack(chunked(small, 8), [object(small)], pendingIn(dir, [['v.js', small]]))).rejects.toMatchObject({ code: 'EEXIST' });
  });
});

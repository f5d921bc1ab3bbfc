// makeDirectory: a directory and its missing parents, in a walk bounded by the path's depth. Node's
// own `mkdir(dir, { recursive: true })` never returns under /proc, so that case runs here with a
// deadline: a regression fails the test instead of hanging the suite.
import { afterEach, describe, expect, it } from '@jest/globals';
import { statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeDirectory } from '../src/index.js';
import { temporaryDirectories } from '../../test/helpers.js';

const scratchDirs = temporaryDirectories('sg-mkdir-');
afterEach(() => scratchDirs.removeAll());
const scratch = () => scratchDirs.make();

/** The promise's outcome, or 'hung' after `ms`. */
async function within<T>(promise: Promise<T>, ms = 2000): Promise<{ ok: T } | { error: NodeJS.ErrnoException } | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), ms)));
  try {
    return await Promise.race([promise.then((ok) => ({ ok }), (error: NodeJS.ErrnoException) => ({ error })), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

describe('makeDirectory', () => {
  it('makes every missing level, with the mode given, and takes an existing directory as it is', async () => {
    const root = scratch();
    const deep = path.join(root, 'a', 'b', 'c');
    await makeDirectory(deep, 0o700);
    for (const level of ['a', 'a/b', 'a/b/c']) expect([level, statSync(path.join(root, level)).mode & 0o777]).toEqual([level, 0o700]);
    await expect(makeDirectory(deep)).resolves.toBeUndefined();
    await expect(makeDirectory(root)).resolves.toBeUndefined();
  });

  it('makes a relative path relative to the working directory', async () => {
    const root = scratch();
    const cwd = process.cwd();
    process.chdir(root);
    try {
      await makeDirectory('x/y');
    } finally {
      process.chdir(cwd);
    }
    expect(statSync(path.join(root, 'x', 'y')).isDirectory()).toBe(true);
  });

  it('fails with ENOTDIR when a file stands where a directory should', async () => {
    const root = scratch();
    writeFileSync(path.join(root, 'file'), 'x');
    expect(await within(makeDirectory(path.join(root, 'file', 'sub')))).toEqual({ error: expect.objectContaining({ code: 'ENOTDIR' }) });
    expect(await within(makeDirectory(path.join(root, 'file')))).toEqual({ error: expect.objectContaining({ code: 'ENOTDIR' }) });
  });

  it('fails at once through a link to nowhere', async () => {
    const root = scratch();
    symlinkSync(path.join(root, 'gone'), path.join(root, 'dangling'));
    expect(await within(makeDirectory(path.join(root, 'dangling', 'sub')))).toEqual({ error: expect.objectContaining({ code: expect.stringMatching(/^(ENOENT|EEXIST)$/) }) });
  });

});

// /proc is Linux's (CI runs there); elsewhere there is no such path to try
describe.each(process.platform === 'linux' ? ['/proc/no-such-dir'] : [])('makeDirectory under %s', (refused) => {
  it('fails at once: the kernel answers ENOENT although the parent is there', async () => {
    expect(await within(makeDirectory(`${refused}/sub`))).toEqual({ error: expect.objectContaining({ code: 'ENOENT', path: refused }) });
  });
});

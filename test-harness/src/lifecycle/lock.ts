// An exclusive lock on a file, held for as long as this process wants it and released by the kernel
// when the process dies, however it dies. Node has no flock(2), so a small child process holds it:
// `flock(1)` from util-linux runs `cat` on a pipe from this process; when this process ends (even
// by SIGKILL) the pipe closes, `cat` reads end-of-file and exits, and the lock is gone. Where there is
// no flock(1) (macOS without Homebrew's), a lock file created with O_EXCL holds the owner's pid, and a
// lock whose owner is dead is taken over.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { alive } from './processes.js';

export interface HeldLock {
  /** Releases the lock (bounded). */
  release(): Promise<void>;
}

const conflict = 75;

/** Takes the lock on `file` if no live process holds it; undefined when one does. Never waits for a holder. */
export async function tryLock(file: string): Promise<HeldLock | undefined> {
  const viaFlock = await tryFlock(file);
  if (viaFlock !== 'no-flock') return viaFlock;
  return tryPidLock(`${file}.pid`);
}

function tryFlock(file: string): Promise<HeldLock | undefined | 'no-flock'> {
  return new Promise((resolve, reject) => {
    const child = spawn('flock', ['--nonblock', '--conflict-exit-code', String(conflict), file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`flock ${file} did not answer within 20 s`));
    }, 20_000);
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === 'ENOENT') resolve('no-flock');
      else reject(error);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === conflict) return resolve(undefined);
      // flock(1) says why it could not open the file only in words: keep the errno for the caller
      const failure = Object.assign(new Error(`flock ${file} failed (${code}): ${err.trim()}`), {
        code: /Read-only file system/.test(err) ? 'EROFS' : /Permission denied/.test(err) ? 'EACCES' : /No space left/.test(err) ? 'ENOSPC' : undefined,
      });
      reject(failure);
    });
    child.stdout.once('data', () => {
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve(heldBy(child));
    });
  });
}

/** The child holds the lock until its stdin closes; nothing of it keeps this process alive. */
function heldBy(child: ChildProcess): HeldLock {
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
  let released: Promise<void> | undefined;
  return {
    release() {
      released ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => (clearTimeout(timer), resolve()));
        child.stdin!.end();
      });
      return released;
    },
  };
}

/** The fallback where there is no flock(1): a file created with O_EXCL holding the owner pid. */
export async function tryPidLock(file: string): Promise<HeldLock | undefined> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx' });
      return { release: () => rm(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (owner && alive(owner)) return undefined;
    await rm(file, { force: true }); // its owner is dead (or it was never written)
  }
  return undefined;
}

// Finding and reading the pipeline file: only a regular file of bounded size is ever read, and each
// way that fails (not there, a directory, a FIFO or device, too large, permission denied) is its own
// error with a hint, never a hang or a stack trace.
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { configLimits, printable, ShipgateError } from '@shipgate/protocol';

const defaultFiles = ['shipgate.yml', 'shipgate.yaml'];

/** stat() that answers undefined for "not there" and a ShipgateError for anything else (EACCES, ELOOP, …). */
function statIfThere(file: string, shown: string): Stats | undefined {
  try {
    return statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw unreadable(shown, error);
  }
}

function unreadable(shown: string, error: unknown): ShipgateError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') {
    return new ShipgateError('config.unreadable', `${printable(shown)}: permission denied (the file exists but cannot be read)`, { hint: 'check its permissions, or run as a user who may read it' });
  }
  return new ShipgateError('config.unreadable', `${printable(shown)}: cannot be read (${code ?? (error as Error).message})`, { hint: 'check the path given with -f / -C' });
}

/** Only a regular file of bounded size is read: a FIFO, a device or a directory would hang or flood. */
function checkFileKind(stats: Stats, shown: string): void {
  if (stats.isDirectory()) throw new ShipgateError('config.not-a-file', `${printable(shown)} is a directory, not a pipeline file`, { hint: 'point -f at the shipgate.yml inside it, or use -C <dir>' });
  if (!stats.isFile()) throw new ShipgateError('config.not-a-file', `${printable(shown)} is not a regular file (a pipe, socket or device)`, { hint: 'shipgate reads shipgate.yml from a file; save the text to a file first' });
  if (stats.size > configLimits.maxFileBytes) {
    throw new ShipgateError('config.too-large', `${printable(shown)} is ${(stats.size / 1048576).toFixed(1)} MiB; a pipeline file may be at most ${configLimits.maxFileBytes / 1048576} MiB`, { hint: 'is this the right file?' });
  }
}

/** The pipeline file for `dir` (or `file`, relative to it). Throws config.not-found, config.unreadable, config.not-a-file. */
export function findPipelineFile(dir: string, file?: string): string {
  if (file !== undefined) {
    if (file === '') throw new ShipgateError('cli.empty-option', '-f/--file is empty: give the pipeline file', { hint: 'for example -f ci/shipgate.yml' });
    const resolved = path.resolve(dir, file);
    const stats = statIfThere(resolved, file);
    if (!stats) throw new ShipgateError('config.not-found', `${printable(file)}: no such file`, { hint: `looked in ${printable(dir)}` });
    checkFileKind(stats, file);
    return resolved;
  }
  const dirStats = statIfThere(dir, dir);
  if (!dirStats) throw new ShipgateError('config.not-found', `${printable(dir)}: no such directory`, { hint: 'check the directory given with -C' });
  if (!dirStats.isDirectory()) throw new ShipgateError('config.not-a-file', `${printable(dir)} is not a directory`, { hint: 'give -C a directory and -f the file' });
  for (const name of defaultFiles) {
    const candidate = path.join(dir, name);
    const stats = statIfThere(candidate, candidate);
    if (!stats) continue;
    checkFileKind(stats, candidate);
    return candidate;
  }
  throw new ShipgateError('config.not-found', `no shipgate.yml in ${printable(dir)}`, { hint: 'create one (see the pipelines README), or point at it with -C <dir> or -f <file>' });
}

/**
 * The file's text, read only if it is a regular file of bounded size. It is opened without
 * blocking and checked on the open descriptor, so a FIFO swapped in after findPipelineFile cannot
 * hang the read (a hung read also kept SIGTERM from ending the process). Read with the synchronous
 * calls: a bounded regular file reads at once, and node:fs/promises would cost every
 * `shipgate validate` a few milliseconds more to load.
 */
export async function readPipelineText(file: string, shown: string): Promise<string> {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ShipgateError('config.not-found', `${printable(shown)}: no such file`, { hint: 'check the path given with -f / -C' });
    throw unreadable(shown, error);
  }
  try {
    checkFileKind(fstatSync(fd), shown);
    // only the bytes read are ever looked at, so the buffer needs no zero-filling
    const buffer = Buffer.allocUnsafe(configLimits.maxFileBytes + 1);
    let length = 0;
    // bounded: every read but the last adds at least a byte, and the buffer holds the limit and one
    while (length < buffer.length) {
      const bytesRead = readSync(fd, buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > configLimits.maxFileBytes) throw new ShipgateError('config.too-large', `${printable(shown)} grew past ${configLimits.maxFileBytes / 1048576} MiB while being read`);
    return buffer.toString('utf8', 0, length);
  } catch (error) {
    if (error instanceof ShipgateError) throw error;
    throw unreadable(shown, error);
  } finally {
    closeSync(fd);
  }
}

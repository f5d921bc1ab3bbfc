// Files a command writes where the user said (`export -o`, `report -o`): the directory made first,
// the file replaced whole, and a file system error (a read-only directory, a path under /proc, a
// file where a directory should be) reported in one line with the path, never as a stack trace.
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeDirectory, printable, ShipgateError } from '@shipgate/protocol';

/** Writes `text` to `file`; `shown` is how messages name it. */
export async function writeOutputFile(file: string, text: string, shown: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await makeDirectory(path.dirname(file));
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => undefined);
    const e = error as NodeJS.ErrnoException;
    throw new ShipgateError('output.unwritable', `cannot write ${printable(shown)} (${e.code ?? e.message})`, { hint: 'choose a file in a directory you may write to' });
  }
}

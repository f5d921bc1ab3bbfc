// pg_dump archives (`-Fc` custom, `-Fd` directory, `-Ft` tar) as seed data. pg_restore turns an
// archive into the plain script pg_dump would have written (`pg_restore -f - archive`, no server
// needed), and that script loads like any other seed, COPY blocks included, on every provider.
// pg_restore comes from the machine (the same places the postgres provider looks for a server);
// without it, the error says how to convert the archive once.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { findPostgresBinaries } from '../providers/postgres.js';

const run = promisify(execFile);

export type ArchiveFormat = 'custom' | 'directory' | 'tar';

/** The archive format of `file` (a file or folder), or undefined for anything else. */
export async function archiveFormat(file: string): Promise<ArchiveFormat | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (!info) return undefined;
  if (info.isDirectory()) return existsSync(path.join(file, 'toc.dat')) ? 'directory' : undefined;
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await handle.read(head, 0, 512, 0);
    if (bytesRead >= 5 && head.subarray(0, 5).toString('latin1') === 'PGDMP') return 'custom';
    // a tar archive made by pg_dump -Ft holds toc.dat first
    if (bytesRead >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar' && head.subarray(0, 7).toString('latin1') === 'toc.dat') return 'tar';
    return undefined;
  } finally {
    await handle.close();
  }
}

/** Where pg_restore is: next to the server binaries the postgres provider would use, else on PATH. */
export function findPgRestore(): string | undefined {
  const bin = findPostgresBinaries();
  if (bin && existsSync(path.join(bin, 'pg_restore'))) return path.join(bin, 'pg_restore');
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'pg_restore'))) return path.join(dir, 'pg_restore');
  }
  return undefined;
}

/**
 * The plain SQL script of an archive, as `pg_restore -f -` prints it. `display` names the archive
 * in errors; `pgRestore` is the binary (null: there is none).
 */
export async function archiveToSql(file: string, display: string, format: ArchiveFormat, pgRestore: string | null = findPgRestore() ?? null): Promise<string> {
  const convert = `pg_restore -f ${display.replace(/\/$/, '').replace(/(\.[a-z]+)?$/, '.sql')} ${display}`;
  if (!pgRestore) {
    throw new ShipgateError('db.seed-archive', `seed ${display} is a pg_dump archive (${format} format), and reading it needs pg_restore, which is not on this machine`, {
      hint: `convert it once where pg_restore is (${convert}) and point seed at the .sql file, or install the Postgres client (apt-get install postgresql-client)`,
    });
  }
  try {
    const { stdout } = await run(pgRestore, ['-f', '-', ...(format === 'custom' ? [] : ['-F', format === 'directory' ? 'd' : 't']), file], { maxBuffer: 1 << 30, encoding: 'utf8' });
    return stdout;
  } catch (error) {
    const stderr = ((error as { stderr?: string }).stderr ?? (error as Error).message).trim().split('\n').slice(-2).join(' ');
    throw new ShipgateError('db.seed-archive', `pg_restore could not read ${display}: ${stderr}`, {
      hint: `an archive made by a newer pg_dump needs a pg_restore of that version: convert it there (${convert}) and point seed at the .sql file`,
      exitCode: ExitCode.failed,
    });
  }
}

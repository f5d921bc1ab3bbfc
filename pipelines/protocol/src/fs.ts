// Creating a directory with its missing parents. Node's `mkdir(dir, { recursive: true })` never
// returns (the sync form spins at 100% CPU, out of reach of SIGTERM) for a path whose parent exists
// but which the kernel refuses with ENOENT: anything under /proc or /sys on Linux, as in
// `shipgate run --report-dir /proc/x`. This walk is bounded by the path's depth and ends with the
// kernel's own error.
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';

const code = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;

/** `dir` and its missing parents, created (with `mode` when given); an existing directory is fine. */
export async function makeDirectory(dir: string, mode?: number): Promise<void> {
  const missing: string[] = [];
  for (let current = path.resolve(dir); missing.length < 4096; current = path.dirname(current)) {
    try {
      if ((await stat(current)).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: 'ENOTDIR', path: current });
    } catch (error) {
      if (code(error) !== 'ENOENT') throw error;
      missing.push(current);
      if (path.dirname(current) === current) break;
    }
  }
  for (const each of missing.reverse()) {
    try {
      await mkdir(each, mode === undefined ? undefined : { mode });
    } catch (error) {
      if (code(error) !== 'EEXIST') throw error; // made by someone else meanwhile (a dangling link ends at its child)
    }
  }
}

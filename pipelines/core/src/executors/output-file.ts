// `$SHIPGATE_OUTPUT`: the file a step's shell commands append outputs to, in GitHub's format
// (`name=value` lines, `name<<DELIM` … `DELIM` blocks). One fresh path per invocation, in a
// directory private to this process; read once when the step ends, then removed.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * Parses `$SHIPGATE_OUTPUT` in GitHub's format: `name=value` lines, and `name<<DELIM` … `DELIM`
 * blocks for multi-line values.
 */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    const heredoc = /^([A-Za-z_][\w-]*)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const end = lines.indexOf(delimiter!, i + 1);
      if (end === -1) throw new Error(`$SHIPGATE_OUTPUT: "${name}<<${delimiter}" is never closed by a line "${delimiter}"`);
      outputs[name!] = lines.slice(i + 1, end).join('\n');
      i = end;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`$SHIPGATE_OUTPUT: line ${i + 1} is not name=value: ${JSON.stringify(line.slice(0, 60))}`);
    outputs[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return outputs;
}

let outputDir: string | undefined;

/** One private directory per process for `$SHIPGATE_OUTPUT` files, removed when the process exits. */
function privateOutputDir(): string {
  if (!outputDir) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-outputs-'));
    outputDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return outputDir;
}

/**
 * A fresh `$SHIPGATE_OUTPUT` path, in a directory private to this process (mode 0700), so no one
 * else can plant a link there; the step creates the file when it writes its first output.
 */
export function newOutputFile(): string {
  return path.join(privateOutputDir(), randomUUID());
}

/** Removes an output file in the background (it may not exist). */
export function removeOutputFile(file: string): void {
  void rm(file, { force: true }).catch(() => undefined);
}

/** The text a step wrote to its output file ('' when it wrote none or it is unreadable); removes the file. */
export function takeOutputFile(file: string): string {
  // Read synchronously: the file is usually absent (one stat; a failed read would build an
  // exception) or fresh in the page cache, and a trip through libuv's thread pool (busy with
  // other steps' files) would sit between this step's end and its dependents' start.
  if (!existsSync(file)) return '';
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // unreadable: as if empty
  }
  removeOutputFile(file);
  return text;
}

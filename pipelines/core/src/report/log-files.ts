// Every invocation's whole log as a file beside report.json (`logs/<invocation>.log`), so the
// HTML report can link each row to it and CI can archive it with the report. Lines arrive as the
// engine's step-log events (already masked); they are appended through one open stream per
// invocation. When a run starts, the files the previous run wrote there go (a list of them is
// kept in `logs/.shipgate-logs`), so the folder holds one run's logs — and nothing else in it is
// ever touched: `--report-dir .` in a project with its own `logs/` folder must not empty it.
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeDirectory } from '@shipgate/protocol';
import type { RunEvent } from '../scheduler/events.js';

export const logDirName = 'logs';
/** The files the last run wrote, one name a line. */
const listName = '.shipgate-logs';

/** Removes the log files a previous run listed (plain names only: nothing outside the folder). */
async function removePreviousLogs(dir: string): Promise<void> {
  const listed = await readFile(path.join(dir, listName), 'utf8').catch(() => '');
  const names = listed.split('\n').filter((name) => name.endsWith('.log') && path.basename(name) === name && !name.startsWith('.'));
  await Promise.all(names.map((name) => rm(path.join(dir, name), { force: true })));
}

/**
 * File names for invocation ids: `build[target=api,node=24]` → `build_target=api_node=24.log`.
 * Ids that clean up to the same name get `-2`, `-3` … in the order given.
 */
export function logFileNames(ids: readonly string[]): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const id of ids) {
    const base = id.replace(/[^A-Za-z0-9._=-]+/g, '_').replace(/^_+|_+$/g, '').replace(/^\.+/, '') || 'step';
    let name = `${base}.log`;
    for (let n = 2; taken.has(name.toLowerCase()); n += 1) name = `${base}-${n}.log`;
    taken.add(name.toLowerCase());
    names.set(id, name);
  }
  return names;
}

export class LogFileWriter {
  readonly #dir: string;
  #names = new Map<string, string>();
  readonly #streams = new Map<string, WriteStream>();
  /** Lines that came before the folder was emptied and made again. */
  readonly #pending = new Map<string, string[]>();
  #open = false;
  #ready: Promise<void> = Promise.resolve();
  #failed: Error | undefined;

  /** `reportDir`: where report.json goes; the logs go to its `logs/` folder. */
  constructor(reportDir: string) {
    this.#dir = path.join(reportDir, logDirName);
  }

  readonly onEvent = (event: RunEvent): void => {
    if (event.type === 'run-start') {
      this.#names = logFileNames(event.invocations);
      this.#ready = removePreviousLogs(this.#dir)
        .then(() => makeDirectory(this.#dir))
        .then(() => {
          this.#open = true;
          for (const [id, lines] of this.#pending) for (const line of lines) this.#write(id, line);
          this.#pending.clear();
        })
        .catch((error: Error) => void (this.#failed = error));
      return;
    }
    if (event.type === 'step-start' && event.attempt > 1) this.#write(event.id, `--- attempt ${event.attempt} ---`);
    if (event.type === 'step-log') this.#write(event.id, event.line);
  };

  /** The log of an invocation relative to the report's directory, when it printed anything. */
  readonly fileOf = (id: string): string | undefined => (this.#streams.has(id) && this.#failed === undefined ? `${logDirName}/${this.#names.get(id)}` : undefined);

  /** Flushes and closes every file. A failure to write logs never fails the run: it is returned. */
  async close(): Promise<Error | undefined> {
    await this.#ready;
    await Promise.all([...this.#streams.values()].map((s) => new Promise<void>((resolve) => s.end(resolve))));
    if (this.#open) {
      const names = [...this.#streams.keys()].map((id) => this.#names.get(id)!);
      await writeFile(path.join(this.#dir, listName), names.length ? `${names.join('\n')}\n` : '').catch((error: Error) => void (this.#failed ??= error));
    }
    return this.#failed;
  }

  #write(id: string, line: string): void {
    if (!this.#open) {
      if (this.#failed) return;
      const lines = this.#pending.get(id) ?? [];
      lines.push(line);
      this.#pending.set(id, lines);
      return;
    }
    let stream = this.#streams.get(id);
    if (!stream) {
      if (!this.#names.has(id)) this.#names.set(id, logFileNames([id]).get(id)!);
      stream = createWriteStream(path.join(this.#dir, this.#names.get(id)!));
      stream.on('error', (error: Error) => void (this.#failed ??= error));
      this.#streams.set(id, stream);
    }
    stream.write(`${line}\n`);
  }
}

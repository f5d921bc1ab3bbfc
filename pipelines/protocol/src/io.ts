// What a CLI command may touch. Commands never use `process` directly, so tests drive the whole
// CLI in-process with their own streams, directory and environment.
import type { Writable } from 'node:stream';

export interface CliIO {
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Directory the command was started in (before `-C`). */
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether stdout is an interactive terminal (live progress view) or a log. */
  readonly isTTY: boolean;
  /** Aborted on Ctrl-C / SIGTERM. */
  readonly signal: AbortSignal;
}

/** A command reports its outcome through the exit code it resolves to; errors are thrown as ShipgateError. */
export type CommandResult = number;

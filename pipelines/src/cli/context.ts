// Resolving the global options every pipeline command shares: -C <dir> and -f <file>.
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { CliIO } from './io.js';

export interface PipelineLocation {
  /** Absolute directory the command acts in (`-C`, else the current directory). */
  directory: string;
  /** `-f` as given, if any. */
  file: string | undefined;
}

export function pipelineLocation(command: Command, io: CliIO): PipelineLocation {
  const root = command.optsWithGlobals<{ directory?: string; file?: string }>();
  return { directory: path.resolve(io.cwd, root.directory ?? '.'), file: root.file };
}

/** Splits `a,b` and repeated flags into one list. */
export function listOption(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number ≥ 1, got "${value}"`);
    return n;
  };
}

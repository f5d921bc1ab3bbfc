// The command-line options every pipeline command shares (-C <dir>, -f <file>) and commander
// parsers for option values (lists, non-empty ids, whole numbers).
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { CliIO } from '@shipgate/protocol';
import { ShipgateError } from '@shipgate/protocol';

export interface PipelineLocation {
  /** Absolute directory the command acts in (`-C`, else the current directory). */
  directory: string;
  /** `-f` as given, if any. */
  file: string | undefined;
}

export function pipelineLocation(command: Command, io: CliIO): PipelineLocation {
  const root = command.optsWithGlobals<{ directory?: string; file?: string }>();
  // an empty value is a mistake (an unset variable in a script), not "use the default"
  if (root.directory === '') throw new ShipgateError('cli.empty-option', '-C/--directory is empty: give a directory', { hint: 'for example -C services/orders; leave -C out for the current directory' });
  if (root.file === '') throw new ShipgateError('cli.empty-option', '-f/--file is empty: give the pipeline file', { hint: 'for example -f ci/shipgate.yml; leave -f out for shipgate.yml' });
  return { directory: path.resolve(io.cwd, root.directory ?? '.'), file: root.file };
}

/** Splits `a,b` and repeated flags into one list; an empty list is refused, not read as "all". */
export function listOption(value: string, previous: string[] = []): string[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new InvalidArgumentError(`needs at least one step id, got "${value}"`);
  return [...previous, ...names];
}

/** A flag's value that must not be empty (`--from ""`). */
export function nonEmpty(flag: string) {
  return (value: string): string => {
    if (value.trim() === '') throw new InvalidArgumentError(`${flag} needs a step id, got an empty value`);
    return value;
  };
}

export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number ≥ 1, got "${value}"`);
    return n;
  };
}

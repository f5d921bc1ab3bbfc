// The one error type of shipgate. Every failure a person can act on is a ShipgateError with a
// stable `code` (documented, safe to match on), a one-line message and a hint saying what to do.
// Doors (CLI, actions, Jenkins, Slack) print `message` and `hint`, never a stack trace.

/** Where in a file a problem is: 1-based line and column. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** Documented process exit codes of the `shipgate` CLI (see pipelines/README.md). */
export const ExitCode = {
  ok: 0,
  /** A step failed (the pipeline ran, and it did not pass). */
  failed: 1,
  /** The user's input was wrong: bad config, bad flag, missing input. Nothing ran. */
  usage: 2,
  /** Something outside shipgate failed: a server, a credential, the network. */
  external: 3,
  /** shipgate itself broke: a bug, please report it. */
  internal: 70,
  /** Cancelled by Ctrl-C / SIGINT. */
  interrupted: 130,
  /** Cancelled by SIGTERM. */
  terminated: 143,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface ShipgateErrorOptions {
  hint?: string;
  location?: SourceLocation;
  exitCode?: ExitCodeValue;
  cause?: unknown;
  /** Further problems found in the same pass (config validation reports all of them at once). */
  related?: ShipgateError[];
}

// A brand shared by every copy of this module in a process: a plugin built against another copy of
// @shipgate/protocol (a second install, or dist next to src in tests) still throws ShipgateErrors.
const brand = Symbol.for('shipgate.error');

export class ShipgateError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    // Subclasses keep the ordinary prototype check; the brand answers only for ShipgateError itself.
    if (this !== ShipgateError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }

  readonly [brand] = true;
  override readonly name = 'ShipgateError';
  readonly code: string;
  readonly hint: string | undefined;
  readonly location: SourceLocation | undefined;
  readonly exitCode: ExitCodeValue;
  readonly related: ShipgateError[];

  constructor(code: string, message: string, options: ShipgateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.location = options.location;
    this.exitCode = options.exitCode ?? ExitCode.usage;
    this.related = options.related ?? [];
  }

  /** `file:line:col: message (code)` then `  hint: …` — the form every door prints. */
  format(): string {
    const all = [this as ShipgateError, ...this.related];
    return all
      .map((e) => {
        const where = e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ` : '';
        const hint = e.hint ? `\n  hint: ${e.hint}` : '';
        return `${where}${e.message} [${e.code}]${hint}`;
      })
      .join('\n');
  }
}

export function isShipgateError(error: unknown): error is ShipgateError {
  return error instanceof ShipgateError;
}

/** The message of anything thrown, for logs and annotations. */
export function errorMessage(error: unknown): string {
  if (error instanceof ShipgateError) return error.format();
  if (error instanceof Error) return error.message;
  return String(error);
}

// The problem collector of validation: every check adds what it finds with a source offset, and
// one error is thrown at the end holding them all, sorted by position and bounded in number, each
// printable as `file:line:col: message [code]`.
import type { LineCounter } from 'yaml';
import { configLimits, ExitCode, printable, ShipgateError, type SourceLocation } from '@shipgate/protocol';

/** A problem as found; it becomes a ShipgateError only if it is among those printed. */
interface Found {
  readonly code: string;
  /** A function when the message costs something (a did-you-mean over thousands of names). */
  readonly message: string | (() => string);
  readonly offset: number;
  readonly hint: string | undefined;
}

export class Problems {
  readonly list: Found[] = [];
  constructor(
    readonly file: string,
    readonly lineCounter: LineCounter,
  ) {}

  at(offset: number): SourceLocation {
    const pos = this.lineCounter.linePos(offset);
    return { file: this.file, line: pos.line, column: pos.col };
  }

  add(code: string, message: string | (() => string), offset: number, hint?: string): void {
    this.list.push({ code, message, offset, hint });
  }

  /** Every message and hint is one printable line of bounded length, whatever the file held. */
  problem(code: string, message: string, offset: number, hint?: string): ShipgateError {
    return new ShipgateError(code, printable(message), { location: this.at(offset), exitCode: ExitCode.usage, ...(hint ? { hint: printable(hint) } : {}) });
  }

  /**
   * One error holding every problem, sorted by position (a stable sort: problems at one offset keep
   * the order the checks found them in). At most `maxProblems` are kept; a last line counts the
   * rest, so a broken 5,000-step file prints a screenful, not megabytes.
   */
  throwIfAny(): void {
    if (this.list.length === 0) return;
    const sorted = [...this.list].sort((a, b) => a.offset - b.offset);
    const shown = sorted.slice(0, configLimits.maxProblems).map((f) => this.problem(f.code, typeof f.message === 'string' ? f.message : f.message(), f.offset, f.hint));
    const hidden = sorted.length - shown.length;
    if (hidden > 0) {
      shown.push(this.problem('config.more', `${hidden.toLocaleString('en-US')} more problems not shown, the next one here`, sorted[shown.length]!.offset, 'fix these first and validate again'));
    }
    const [first, ...rest] = shown;
    throw new ShipgateError(first!.code, first!.message, {
      location: first!.location!,
      ...(first!.hint ? { hint: first!.hint } : {}),
      exitCode: ExitCode.usage,
      related: rest,
    });
  }
}

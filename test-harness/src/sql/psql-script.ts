// Reads a SQL script the way psql reads it, for the parts a server cannot take as one query: the
// `COPY … FROM stdin;` blocks pg_dump writes (their data follows the statement, up to a `\.` line)
// and psql's backslash meta-commands. What pg_dump writes (`\restrict` / `\unrestrict` of current
// minor releases, `\connect`, `\set`, `\unset`, `\encoding`) is accepted and has nothing to do
// here: the script already runs in the one database it is meant for, with errors stopping it. Any
// other meta-command is an error naming its file, line and column. SQL between them stays one chunk,
// sent as one simple query (as fast as before); a meta-command inside a chunk is blanked out, so
// the chunk's character offsets are still the file's.
import { ShipgateError } from '@shipgate/protocol';
import { hasCode, leadingBlanksAndComments, lineAndColumn, tokenAt } from './lexer.js';

export type ScriptPart =
  | {
      kind: 'sql';
      sql: string;
      /** 1-based character offset of the chunk's first character in the script. */
      offset: number;
    }
  | {
      kind: 'copy';
      /** The COPY statement, without its `;`. */
      statement: string;
      /** What is copied into, as written: `public.actor (actor_id, first_name)` → `public.actor`. */
      target: string;
      offset: number;
      /** The data lines, each ending in a newline, without the `\.` line. */
      data: string;
      /** 1-based line of the first data line in the script. */
      dataLine: number;
    };

/** Meta-commands pg_dump and pg_dumpall write; all of them mean nothing once the script runs in its database. */
export const acceptedMetaCommands = new Set(['restrict', 'unrestrict', 'connect', 'c', 'set', 'unset', 'encoding']);

const copyFromStdin = /^COPY\s+("(?:[^"]|"")+"|[^\s(.]+)(?:\s*\.\s*("(?:[^"]|"")+"|[^\s(]+))?[\s\S]*?\bFROM\s+(?:stdin|pstdin)\b/i;

/** Splits `script` into SQL chunks and COPY blocks; throws `db.psql-meta` for a meta-command it cannot honour. */
export function parsePsqlScript(script: string, file: string): ScriptPart[] {
  return new PsqlScriptReader(script, file).read();
}

/** One pass over a script: the lexer's tokens, with psql's own `\` meta-commands and COPY data on top. */
class PsqlScriptReader {
  readonly #parts: ScriptPart[] = [];
  /** Where the SQL chunk being collected starts; meta-commands in it are blanked out. */
  #chunkStart = 0;
  #blanked: Array<[number, number]> = [];
  /** Where the statement being read starts (a COPY is told by its statement). */
  #statementStart = 0;
  // line numbers counted forward as the scan goes (lineAndColumn over the whole prefix would be quadratic)
  #countedTo = 0;
  #countedLines = 1;

  constructor(
    private readonly script: string,
    private readonly file: string,
  ) {}

  read(): ScriptPart[] {
    const { script } = this;
    let i = 0;
    while (i < script.length) {
      const token = tokenAt(script, i);
      if (token.kind !== 'other') i = token.end;
      else if (script[i] === '\\') i = this.#metaCommand(i);
      else if (script[i] === ';') i = this.#statementEnd(i);
      else i += 1;
    }
    this.#flushChunk(script.length);
    return this.#parts;
  }

  /** A meta-command at `i`, to its line's end: blanked out when pg_dump wrote it, an error otherwise. Returns where reading goes on. */
  #metaCommand(i: number): number {
    const { script } = this;
    const nl = script.indexOf('\n', i);
    const end = nl === -1 ? script.length : nl;
    const name = /^\\([A-Za-z.!?]+|\S)/.exec(script.slice(i, end))?.[1] ?? '';
    if (!acceptedMetaCommands.has(name)) {
      const at = lineAndColumn(script, i + 1);
      throw new ShipgateError('db.psql-meta', `psql meta-command \\${name} is not supported here`, {
        location: { file: this.file, line: at.line, column: at.column },
        hint: `the harness runs SQL and pg_dump's own meta-commands (\\${[...acceptedMetaCommands].join(', \\')}); remove it, or put what it does into SQL`,
      });
    }
    this.#blanked.push([i, end]);
    // a meta-command on its own ends nothing, but what follows it starts a new statement
    if (!hasCode(script.slice(this.#statementStart, i))) this.#statementStart = end;
    return end;
  }

  /** The `;` at `i` ends a statement; a `COPY … FROM stdin` one is followed by its data. Returns where reading goes on. */
  #statementEnd(i: number): number {
    const { script } = this;
    const statement = script.slice(this.#statementStart, i);
    const lead = leadingBlanksAndComments(statement);
    const copy = copyFromStdin.exec(statement.slice(lead));
    if (!copy) {
      this.#statementStart = i + 1;
      return i + 1;
    }
    this.#flushChunk(this.#statementStart);
    const nl = script.indexOf('\n', i);
    const dataStart = nl === -1 ? script.length : nl + 1;
    const { data, next } = copyData(script, dataStart);
    const target = copy[2] ? `${copy[1]!}.${copy[2]}` : copy[1]!;
    this.#parts.push({ kind: 'copy', statement: statement.slice(lead).trim(), target, offset: this.#statementStart + lead + 1, data, dataLine: this.#lineOf(dataStart) });
    this.#chunkStart = next;
    this.#statementStart = next;
    return next;
  }

  #flushChunk(end: number): void {
    let text = this.script.slice(this.#chunkStart, end);
    for (const [from, to] of this.#blanked) text = text.slice(0, from - this.#chunkStart) + ' '.repeat(to - from) + text.slice(to - this.#chunkStart);
    if (hasCode(text)) this.#parts.push({ kind: 'sql', sql: text, offset: this.#chunkStart + 1 });
    this.#chunkStart = end;
    this.#blanked = [];
  }

  #lineOf(index: number): number {
    const { script } = this;
    for (let nl = script.indexOf('\n', this.#countedTo); nl !== -1 && nl < index; nl = script.indexOf('\n', nl + 1)) this.#countedLines += 1;
    this.#countedTo = index;
    return this.#countedLines;
  }
}

/** COPY data runs to a line that is exactly `\.` (or the end of the script). `start` follows a newline. */
function copyData(script: string, start: number): { data: string; next: number } {
  const firstEnd = script.indexOf('\n', start);
  if (/^\\\.\r?$/.test(script.slice(start, firstEnd === -1 ? script.length : Math.min(firstEnd, start + 4)))) return { data: '', next: firstEnd === -1 ? script.length : firstEnd + 1 };
  // one search for "\n\." per candidate, not a look at every line: dumps have millions of lines
  for (let from = start; ; ) {
    const hit = script.indexOf('\n\\.', from);
    if (hit === -1) return { data: script.slice(start), next: script.length };
    const end = script[hit + 3] === '\r' ? hit + 4 : hit + 3;
    if (end >= script.length || script[end] === '\n') return { data: script.slice(start, hit + 1), next: Math.min(script.length, end + 1) };
    from = hit + 1;
  }
}

// Reads a SQL script the way psql reads it, for the parts a server cannot take as one query: the
// `COPY … FROM stdin;` blocks pg_dump writes (their data follows the statement, up to a `\.` line)
// and psql's backslash meta-commands. What pg_dump writes (`\restrict` / `\unrestrict` of current
// minor releases, `\connect`, `\set`, `\unset`, `\encoding`) is accepted and has nothing to do
// here: the script already runs in the one database it is meant for, with errors stopping it. Any
// other meta-command is an error naming its file, line and column. SQL between them stays one chunk,
// sent as one simple query (as fast as before); a meta-command inside a chunk is blanked out, so
// the chunk's character offsets are still the file's.
import { ShipgateError } from '@shipgate/pipelines/errors';
import { lineAndColumn } from './lexer.js';

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
  const parts: ScriptPart[] = [];
  // the SQL chunk being collected, as characters (meta-commands blanked)
  let chunkStart = 0;
  let blanked: Array<[number, number]> = [];
  let statementStart = 0;
  let i = 0;
  // line numbers counted forward as the scan goes (lineAndColumn over the whole prefix would be quadratic)
  let countedTo = 0;
  let countedLines = 1;
  const lineOf = (index: number): number => {
    for (let nl = script.indexOf('\n', countedTo); nl !== -1 && nl < index; nl = script.indexOf('\n', nl + 1)) countedLines += 1;
    countedTo = index;
    return countedLines;
  };

  const chunkText = (end: number): string => {
    let text = script.slice(chunkStart, end);
    for (const [from, to] of blanked) text = text.slice(0, from - chunkStart) + ' '.repeat(to - from) + text.slice(to - chunkStart);
    return text;
  };
  const flushChunk = (end: number) => {
    const text = chunkText(end);
    if (/\S/.test(stripComments(text))) parts.push({ kind: 'sql', sql: text, offset: chunkStart + 1 });
    chunkStart = end;
    blanked = [];
  };

  while (i < script.length) {
    const c = script[i]!;
    const next = script[i + 1];
    if (c === '-' && next === '-') {
      const nl = script.indexOf('\n', i);
      i = nl === -1 ? script.length : nl + 1;
    } else if (c === '/' && next === '*') {
      i = skipBlockComment(script, i);
    } else if (c === "'" || c === '"') {
      i = skipQuoted(script, i);
    } else if (c === '$' && !/\w/.test(script[i - 1] ?? '')) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(script.slice(i, i + 64));
      if (tag) {
        const end = script.indexOf(tag[0], i + tag[0].length);
        i = end === -1 ? script.length : end + tag[0].length;
      } else i += 1;
    } else if (c === '\\') {
      const nl = script.indexOf('\n', i);
      const end = nl === -1 ? script.length : nl;
      const line = script.slice(i, end);
      const name = /^\\([A-Za-z.!?]+|\S)/.exec(line)?.[1] ?? '';
      if (!acceptedMetaCommands.has(name)) {
        const at = lineAndColumn(script, i + 1);
        throw new ShipgateError('db.psql-meta', `psql meta-command \\${name} is not supported here`, {
          location: { file, line: at.line, column: at.column },
          hint: `the harness runs SQL and pg_dump's own meta-commands (\\${[...acceptedMetaCommands].join(', \\')}); remove it, or put what it does into SQL`,
        });
      }
      blanked.push([i, end]);
      // a meta-command on its own ends nothing, but what follows it starts a new statement
      if (!/\S/.test(stripComments(script.slice(statementStart, i)))) statementStart = end;
      i = end;
    } else if (c === ';') {
      const statement = script.slice(statementStart, i);
      const lead = leadingBlankAndComments(statement);
      const copy = copyFromStdin.exec(statement.slice(lead));
      if (copy) {
        flushChunk(statementStart);
        const offset = statementStart + lead + 1;
        const nl = script.indexOf('\n', i);
        const dataStart = nl === -1 ? script.length : nl + 1;
        const { data, next: after } = copyData(script, dataStart);
        parts.push({ kind: 'copy', statement: statement.slice(lead).trim(), target: copy[2] ? `${copy[1]!}.${copy[2]}` : copy[1]!, offset, data, dataLine: lineOf(dataStart) });
        chunkStart = after;
        statementStart = after;
        i = after;
        continue;
      }
      i += 1;
      statementStart = i;
    } else if (/[A-Za-z_]/.test(c)) {
      // words are skipped whole, so `E'…'` and identifiers with digits never look like anything else
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(script.slice(i, i + 256))![0];
      if ((word === 'E' || word === 'e') && script[i + 1] === "'") i = skipQuoted(script, i + 1, true);
      else i += word.length;
    } else i += 1;
  }
  flushChunk(script.length);
  return parts;
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

function skipBlockComment(script: string, start: number): number {
  let depth = 1;
  let i = start + 2;
  while (i < script.length && depth > 0) {
    if (script[i] === '/' && script[i + 1] === '*') {
      depth += 1;
      i += 2;
    } else if (script[i] === '*' && script[i + 1] === '/') {
      depth -= 1;
      i += 2;
    } else i += 1;
  }
  return i;
}

/** Skips a '…' or "…" starting at `start`; E'…' strings (escapes) when `escapes`. Returns the index after it. */
function skipQuoted(script: string, start: number, escapes = false): number {
  const quote = script[start]!;
  let i = start + 1;
  while (i < script.length) {
    if (escapes && script[i] === '\\') i += 2;
    else if (script[i] === quote && script[i + 1] === quote) i += 2;
    else if (script[i] === quote) return i + 1;
    else i += 1;
  }
  return i;
}

function leadingBlankAndComments(text: string): number {
  return /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/.exec(text)![0].length;
}

function stripComments(text: string): string {
  return text.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
}

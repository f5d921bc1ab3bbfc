// The lexical rules every SQL scanner of the harness shares (the statement splitters for Postgres
// and MySQL, the psql script reader): where a comment, a quoted string or identifier, or a
// dollar-quoted body ends, so that a `;`, a delimiter or a backslash inside one is never taken for
// anything. A scanner walks a script with tokenAt(): those parts come as one token each, words come
// whole (so `E'…'` strings and `BEGIN ATOMIC` can be told apart), blanks as one run, and anything
// else one character at a time. Nothing here runs or changes SQL.

/** Which server's rules: Postgres, or MySQL / MariaDB (as the mysql client reads a script). */
export type SqlDialect = 'postgres' | 'mysql';

export type TokenKind =
  /** A run of whitespace. */
  | 'blank'
  /** `-- …` up to and with its newline, `/* … *\/` (nested on Postgres), MySQL's `# …`. */
  | 'comment'
  /** MySQL's `/*! … *\/`: a comment other servers skip, but MySQL runs what is in it. */
  | 'executable-comment'
  /** `'…'`, `"…"`, Postgres' `E'…'` (with backslash escapes), MySQL's `` `…` ``. */
  | 'quoted'
  /** Postgres' `$$…$$` and `$tag$…$tag$`. */
  | 'dollar-quoted'
  /** A keyword or unquoted identifier. */
  | 'word'
  /** Any other single character: `;`, `\`, punctuation, a digit. */
  | 'other';

export interface Token {
  kind: TokenKind;
  /** 0-based index of its first character. */
  start: number;
  /** 0-based index after its last character (the script's length when it is not closed). */
  end: number;
}

const blank = /\s+/y;
// Postgres identifiers may contain `$` after the first character (`a$b`), so `a$$` is no dollar quote
const postgresWord = /[A-Za-z_][A-Za-z0-9_$]*/y;
const mysqlWord = /[A-Za-z_][A-Za-z0-9_]*/y;
const dollarTag = /\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/y;

/** The token that starts at 0-based index `i` of `script` (`i` < its length). */
export function tokenAt(script: string, i: number, dialect: SqlDialect = 'postgres'): Token {
  const end = dialect === 'postgres' ? postgresTokenEnd(script, i) : mysqlTokenEnd(script, i);
  if (end) return { kind: end.kind, start: i, end: end.at };
  const word = match(dialect === 'postgres' ? postgresWord : mysqlWord, script, i) ?? 0;
  if (word) return { kind: 'word', start: i, end: i + word };
  const spaces = match(blank, script, i) ?? 0;
  if (spaces) return { kind: 'blank', start: i, end: i + spaces };
  return { kind: 'other', start: i, end: i + 1 };
}

interface TokenEnd {
  kind: TokenKind;
  at: number;
}

function postgresTokenEnd(script: string, i: number): TokenEnd | undefined {
  const c = script[i];
  const next = script[i + 1];
  if (c === '-' && next === '-') return { kind: 'comment', at: lineEnd(script, i) };
  if (c === '/' && next === '*') return { kind: 'comment', at: nestedCommentEnd(script, i) };
  if (c === "'" || c === '"') return { kind: 'quoted', at: quotedEnd(script, i, false) };
  if ((c === 'E' || c === 'e') && next === "'" && !isWordCharacter(script[i - 1])) return { kind: 'quoted', at: quotedEnd(script, i + 1, true) };
  if (c === '$' && !isWordCharacter(script[i - 1])) {
    const tag = match(dollarTag, script, i);
    if (tag === undefined) return undefined;
    const close = script.indexOf(script.slice(i, i + tag), i + tag);
    return { kind: 'dollar-quoted', at: close === -1 ? script.length : close + tag };
  }
  return undefined;
}

function mysqlTokenEnd(script: string, i: number): TokenEnd | undefined {
  const c = script[i];
  const next = script[i + 1];
  // the mysql client takes `--` for a comment only before a blank (`1--1` is arithmetic)
  if ((c === '-' && next === '-' && /\s/.test(script[i + 2] ?? ' ')) || c === '#') return { kind: 'comment', at: lineEnd(script, i) };
  if (c === '/' && next === '*') {
    const close = script.indexOf('*/', i + 2);
    return { kind: script[i + 2] === '!' ? 'executable-comment' : 'comment', at: close === -1 ? script.length : close + 2 };
  }
  if (c === "'" || c === '"') return { kind: 'quoted', at: quotedEnd(script, i, true) };
  if (c === '`') return { kind: 'quoted', at: quotedEnd(script, i, false) };
  return undefined;
}

/** Length of what `pattern` (sticky) matches at `i`, or undefined. */
function match(pattern: RegExp, script: string, i: number): number | undefined {
  pattern.lastIndex = i;
  return pattern.test(script) ? pattern.lastIndex - i : undefined;
}

function isWordCharacter(c: string | undefined): boolean {
  return c !== undefined && /\w/.test(c);
}

/** After the newline that ends the line holding `i` (or the script's end). */
function lineEnd(script: string, i: number): number {
  const nl = script.indexOf('\n', i);
  return nl === -1 ? script.length : nl + 1;
}

/** After the `*\/` that closes the comment opened at `start`; Postgres nests them. */
function nestedCommentEnd(script: string, start: number): number {
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

/** After the quote that closes the one at `start`; a doubled quote is one character, and so is a backslash pair when `escapes`. */
function quotedEnd(script: string, start: number, escapes: boolean): number {
  const quote = script[start]!;
  let i = start + 1;
  while (i < script.length) {
    if (escapes && script[i] === '\\') i += 2;
    else if (script[i] === quote && script[i + 1] === quote) i += 2;
    else if (script[i] === quote) return i + 1;
    else i += 1;
  }
  return script.length;
}

/**
 * How many characters at the start of `text` are blanks and comments: they belong to no
 * statement, so a statement's position is that of its first word. MySQL's `/*! … *\/` is code.
 */
export function leadingBlanksAndComments(text: string, dialect: SqlDialect = 'postgres'): number {
  let i = 0;
  while (i < text.length) {
    const token = tokenAt(text, i, dialect);
    if (token.kind !== 'blank' && token.kind !== 'comment') break;
    i = token.end;
  }
  return i;
}

/** Whether `text` holds anything but blanks and comments. */
export function hasCode(text: string, dialect: SqlDialect = 'postgres'): boolean {
  return leadingBlanksAndComments(text, dialect) < text.length;
}

/** Line and column (1-based) of a 1-based character offset in a text. */
export function lineAndColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, position - 1));
  const lines = before.split('\n');
  return { line: lines.length, column: lines.at(-1)!.length + 1 };
}

// Splits a SQL script into statements, for finding the statement a server error belongs to when the
// server gives no position. Quotes, dollar quotes and comments are the lexer's (./lexer.ts); this
// adds BEGIN ATOMIC … END bodies, whose `;` end no statement. Never used to run a script.
import { leadingBlanksAndComments, tokenAt, type SqlDialect } from './lexer.js';

export interface Statement {
  sql: string;
  /** 1-based character offset of the statement's first non-blank character in the script. */
  offset: number;
}

export function splitStatements(script: string): Statement[] {
  const out: Statement[] = [];
  let start = 0;
  let atomicDepth = 0;
  // the word before this token, when only blanks stand between them (BEGIN ATOMIC)
  let previousWord: string | undefined;
  for (let i = 0; i < script.length; ) {
    const token = tokenAt(script, i);
    if (token.kind === 'word') {
      const word = script.slice(token.start, token.end).toUpperCase();
      if (word === 'ATOMIC' && previousWord === 'BEGIN') atomicDepth += 1;
      else if (word === 'END' && atomicDepth > 0) atomicDepth -= 1;
      previousWord = word;
    } else if (token.kind !== 'blank') {
      previousWord = undefined;
      if (script[i] === ';' && atomicDepth === 0) {
        pushStatement(out, script, start, i);
        start = i + 1;
      }
    }
    i = token.end;
  }
  pushStatement(out, script, start, script.length);
  return out;
}

/** Adds the statement between `start` and `end` (0-based) to `out`, unless it is only blanks and comments. */
export function pushStatement(out: Statement[], script: string, start: number, end: number, dialect: SqlDialect = 'postgres'): void {
  const text = script.slice(start, end);
  const lead = leadingBlanksAndComments(text, dialect);
  const sql = text.slice(lead).trim();
  if (sql) out.push({ sql, offset: start + lead + 1 });
}

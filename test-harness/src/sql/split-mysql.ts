// Splits a MySQL / MariaDB script into the statements the mysql client would send, one by one:
// the delimiter (`;`) ends a statement outside quotes and comments (the lexer's MySQL rules,
// ./lexer.ts), and a `DELIMITER $$` line changes it for trigger, procedure and function bodies —
// the convention of the mysql client, mysqldump and Flyway. Each statement keeps its position in
// the file, so a failure points at file:line:col.
import { tokenAt } from './lexer.js';
import { pushStatement, type Statement } from './split.js';

const delimiterLine = /[ \t]*DELIMITER[ \t]+(\S+)[ \t]*(?:\r?\n|$)/iy;

export function splitMysqlStatements(script: string): Statement[] {
  const out: Statement[] = [];
  let delimiter = ';';
  let start = 0;
  let i = 0;
  while (i < script.length) {
    if (i === 0 || script[i - 1] === '\n') {
      delimiterLine.lastIndex = i;
      const directive = delimiterLine.exec(script);
      if (directive) {
        pushStatement(out, script, start, i, 'mysql');
        delimiter = directive[1]!;
        i += directive[0].length;
        start = i;
        continue;
      }
    }
    const token = tokenAt(script, i, 'mysql');
    if (token.kind === 'comment' || token.kind === 'executable-comment' || token.kind === 'quoted') {
      i = token.end;
    } else if (script.startsWith(delimiter, i)) {
      // the mysql client looks for the delimiter at every character, even inside a word
      pushStatement(out, script, start, i, 'mysql');
      i += delimiter.length;
      start = i;
    } else {
      i += 1;
    }
  }
  pushStatement(out, script, start, script.length, 'mysql');
  return out;
}

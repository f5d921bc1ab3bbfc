// Splits a MySQL / MariaDB script into the statements the mysql client would send, one by one:
// `;` ends a statement outside quotes ('…', "…", `…`) and comments (-- …, # …, /* … */), and a
// `DELIMITER $$` line changes the terminator for trigger, procedure and function bodies — the
// convention of the mysql client, mysqldump and Flyway. Each statement keeps its position in the
// file, so a failure points at file:line:col.
import type { Statement } from './split.js';

export function splitMysqlStatements(script: string): Statement[] {
  const out: Statement[] = [];
  let delimiter = ';';
  let start = 0;
  let i = 0;
  const push = (end: number, next: number) => {
    const text = script.slice(start, end);
    const lead = /^(?:\s+|--(?:[ \t][^\n]*)?(?:\n|$)|#[^\n]*(?:\n|$)|\/\*(?!!)[\s\S]*?\*\/)*/.exec(text)![0].length;
    const sql = text.slice(lead).trim();
    if (sql) out.push({ sql, offset: start + lead + 1 });
    start = next;
  };
  while (i < script.length) {
    const c = script[i]!;
    const atLineStart = i === 0 || script[i - 1] === '\n';
    if (atLineStart) {
      const directive = /^[ \t]*DELIMITER[ \t]+(\S+)[ \t]*(?:\r?\n|$)/i.exec(script.slice(i));
      if (directive) {
        push(i, i + directive[0].length);
        delimiter = directive[1]!;
        i += directive[0].length;
        continue;
      }
    }
    if ((c === '-' && script[i + 1] === '-' && /[\s]/.test(script[i + 2] ?? ' ')) || c === '#') {
      const nl = script.indexOf('\n', i);
      i = nl === -1 ? script.length : nl + 1;
    } else if (c === '/' && script[i + 1] === '*') {
      const end = script.indexOf('*/', i + 2);
      i = end === -1 ? script.length : end + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      i += 1;
      while (i < script.length) {
        if (c !== '`' && script[i] === '\\') i += 2;
        else if (script[i] === c && script[i + 1] === c) i += 2;
        else if (script[i] === c) break;
        else i += 1;
      }
      i += 1;
    } else if (script.startsWith(delimiter, i)) {
      push(i, i + delimiter.length);
      i += delimiter.length;
    } else {
      i += 1;
    }
  }
  push(script.length, script.length);
  return out;
}

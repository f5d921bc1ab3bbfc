// Splits a SQL script into statements, for finding the statement a server error belongs to when the
// server gives no position. Knows quotes ('…', E'…', "…"), dollar quotes ($$…$$, $tag$…$tag$),
// line and nested block comments, and BEGIN ATOMIC … END bodies. Never used to run a script.
export interface Statement {
  sql: string;
  /** 1-based character offset of the statement's first non-blank character in the script. */
  offset: number;
}

export function splitStatements(script: string): Statement[] {
  const out: Statement[] = [];
  let start = 0;
  let i = 0;
  let atomicDepth = 0;
  const push = (end: number) => {
    const text = script.slice(start, end);
    // leading blanks and comments belong to no statement
    const lead = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/.exec(text)![0].length;
    const sql = text.slice(lead).trim();
    if (sql) out.push({ sql, offset: start + lead + 1 });
    start = end + 1;
  };
  while (i < script.length) {
    const c = script[i]!;
    const next = script[i + 1];
    if (c === '-' && next === '-') {
      const nl = script.indexOf('\n', i);
      i = nl === -1 ? script.length : nl + 1;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < script.length && depth > 0) {
        if (script[i] === '/' && script[i + 1] === '*') {
          depth += 1;
          i += 2;
        } else if (script[i] === '*' && script[i + 1] === '/') {
          depth -= 1;
          i += 2;
        } else {
          i += 1;
        }
      }
    } else if (c === "'" || c === '"') {
      const escapes = c === "'" && /[eE]/.test(script[i - 1] ?? '') && !/\w/.test(script[i - 2] ?? '');
      i += 1;
      while (i < script.length) {
        if (escapes && script[i] === '\\') i += 2;
        else if (script[i] === c && script[i + 1] === c) i += 2;
        else if (script[i] === c) break;
        else i += 1;
      }
      i += 1;
    } else if (c === '$' && !/\w/.test(script[i - 1] ?? '')) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(script.slice(i));
      if (tag) {
        const end = script.indexOf(tag[0], i + tag[0].length);
        i = end === -1 ? script.length : end + tag[0].length;
      } else i += 1;
    } else if (/[A-Za-z]/.test(c) && !/\w/.test(script[i - 1] ?? '')) {
      const word = /^[A-Za-z_]+/.exec(script.slice(i))![0];
      const upper = word.toUpperCase();
      if (upper === 'ATOMIC' && /BEGIN\s+$/i.test(script.slice(Math.max(0, i - 12), i))) atomicDepth += 1;
      else if (upper === 'END' && atomicDepth > 0) atomicDepth -= 1;
      i += word.length;
    } else if (c === ';' && atomicDepth === 0) {
      push(i);
      i += 1;
    } else i += 1;
  }
  push(script.length);
  return out;
}

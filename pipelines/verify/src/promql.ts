// PromQL syntax checks with the Prometheus project's own Lezer grammar (the one its web UI uses),
// so a typo in a check is a config error at `shipgate validate`, not an inconclusive deploy.
import { parser } from '@prometheus-io/lezer-promql';

export interface PromqlSyntaxError {
  /** 0-based offset in the query where the parser gave up. */
  offset: number;
  message: string;
}

/** Whether the `.` at `dot` ends a number literal such as `0.` (digits before, not part of a name; nothing after). */
function endsNumberWithDot(query: string, dot: number): boolean {
  let start = dot;
  while (start > 0 && /[0-9]/.test(query[start - 1]!)) start -= 1;
  if (start === dot) return false;
  const before = query[start - 1] ?? '';
  return !/[\w:.]/.test(before) && !/[\w.]/.test(query[dot + 1] ?? '');
}

/**
 * The query as the grammar should see it, same length (so offsets still point into the query as
 * written): placeholders stand for a string literal (what substituteTemplate makes of them outside
 * quotes), and a number with a trailing dot (`> 0.`) loses the dot — Prometheus accepts `0.`, the
 * Lezer grammar does not (found on real alert rules, cross-checked with promtool).
 */
function parseableForm(query: string): string {
  let quote: string | undefined;
  let out = '';
  for (let i = 0; i < query.length; i += 1) {
    const rest = query.slice(i);
    const m = /^\{\{\s*[A-Za-z_][\w-]*\s*\}\}/.exec(rest);
    if (m) {
      // same length, so offsets still point into the query as written
      out += quote ? 'x'.repeat(m[0].length) : `"${'x'.repeat(m[0].length - 2)}"`;
      i += m[0].length - 1;
      continue;
    }
    const c = query[i]!;
    if (!quote && c === '.' && endsNumberWithDot(query, i)) {
      out += ' ';
      continue;
    }
    if (!quote && (c === '"' || c === "'" || c === '`')) quote = c;
    else if (quote === c && query[i - 1] !== '\\') quote = undefined;
    out += c;
  }
  return out;
}

/** The first syntax error of `query`, or undefined when it parses. */
export function promqlSyntaxError(query: string): PromqlSyntaxError | undefined {
  const text = parseableForm(query);
  if (!text.trim()) return { offset: 0, message: 'the query is empty' };
  let offset: number | undefined;
  parser.parse(text).iterate({
    enter(node) {
      if (offset !== undefined) return false;
      if (node.type.isError) offset = node.from;
      return undefined;
    },
  });
  if (offset === undefined) return undefined;
  const near = text.slice(offset, offset + 12);
  return { offset, message: `PromQL syntax error at column ${offset + 1} of the query${near ? ` (near "${query.slice(offset, offset + 12)}")` : ' (it ends too early)'}` };
}

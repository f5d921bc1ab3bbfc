// PromQL syntax checks with the Prometheus project's own Lezer grammar (the one its web UI uses),
// so a typo in a check is a config error at `shipgate validate`, not an inconclusive deploy.
import { parser } from '@prometheus-io/lezer-promql';
import { templateVariablesOf } from './template.js';

export interface PromqlSyntaxError {
  /** 0-based offset in the query where the parser gave up. */
  offset: number;
  message: string;
}

/** Placeholders stand for a string literal while parsing (what substituteTemplate makes of them outside quotes). */
function withPlaceholdersFilled(query: string): string {
  if (!templateVariablesOf(query).length) return query;
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
    if (!quote && (c === '"' || c === "'" || c === '`')) quote = c;
    else if (quote === c && query[i - 1] !== '\\') quote = undefined;
    out += c;
  }
  return out;
}

/** The first syntax error of `query`, or undefined when it parses. */
export function promqlSyntaxError(query: string): PromqlSyntaxError | undefined {
  const text = withPlaceholdersFilled(query);
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

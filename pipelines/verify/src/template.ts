// Template variables in check queries (`{{ version }}`, `{{ environment }}`) are filled in with
// PromQL-safe quoting: a value never changes the shape of the query it lands in. Inside a quoted
// string it is escaped for that string (and, after `=~` / `!~`, for the regular expression too, so
// a version `1.2.3` matches only itself); outside a string it becomes a whole string literal.
import { ShipgateError } from '@shipgate/protocol';

export type TemplateVariables = Readonly<Record<string, string | undefined>>;

const placeholder = /\{\{\s*([A-Za-z_][\w-]*)\s*\}\}/y;

/** Names of the `{{ name }}` placeholders in a query, in order (duplicates kept). */
export function templateVariablesOf(query: string): string[] {
  return [...query.matchAll(/\{\{\s*([A-Za-z_][\w-]*)\s*\}\}/g)].map((m) => m[1]!);
}

/** Escapes RE2 metacharacters (Prometheus regex matchers are RE2, anchored). */
function escapeRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** Escapes a value for the inside of a PromQL string quoted with `quote` (" or '). */
function escapeString(value: string, quote: string): string {
  return value.replace(/[\\\n\r\t]/g, (c) => ({ '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!).replaceAll(quote, `\\${quote}`);
}

/** Whether the string that opens at `quoteAt` is the right side of a regex matcher (`=~`, `!~`). */
function opensRegex(query: string, quoteAt: number): boolean {
  return /[=!]~\s*$/.test(query.slice(Math.max(0, quoteAt - 8), quoteAt));
}

function valueFor(name: string, variables: TemplateVariables, query: string): string {
  const value = variables[name];
  if (value === undefined) {
    const known = Object.keys(variables).filter((k) => variables[k] !== undefined);
    throw new ShipgateError('verify.unknown-variable', `the query uses {{ ${name} }}, which has no value: ${query}`, {
      hint: known.length ? `variables: ${known.join(', ')}` : 'set the step input of that name (version, environment, service) or add it under `variables:`',
    });
  }
  return value;
}

/** Fills every `{{ name }}` of `query` from `variables`, quoted for where it stands. */
export function substituteTemplate(query: string, variables: TemplateVariables): string {
  let out = '';
  let quote: string | undefined; // the quote of the string we are in, if any
  let regex = false;
  for (let i = 0; i < query.length; ) {
    placeholder.lastIndex = i;
    const m = placeholder.exec(query);
    if (m) {
      const value = valueFor(m[1]!, variables, query);
      if (quote === '`') {
        if (value.includes('`')) throw new ShipgateError('verify.unsafe-variable', `{{ ${m[1]} }} is "${value}", which cannot stand in a \`raw\` string`, { hint: 'use a "double-quoted" string around the placeholder' });
        out += regex ? escapeRegex(value) : value;
      } else if (quote) out += escapeString(regex ? escapeRegex(value) : value, quote);
      else out += JSON.stringify(value);
      i += m[0].length;
      continue;
    }
    const c = query[i]!;
    if (quote && quote !== '`' && c === '\\') {
      out += query.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (!quote && (c === '"' || c === "'" || c === '`')) {
      quote = c;
      regex = opensRegex(query, i);
    } else if (quote === c) quote = undefined;
    out += c;
    i += 1;
  }
  return out;
}

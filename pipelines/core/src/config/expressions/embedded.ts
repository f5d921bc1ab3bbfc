// Expressions as they sit in shipgate.yml: `${{ … }}` inside any string value, and `if:` conditions
// with or without the wrapper. Finding, parsing and interpolating them, and GitHub's rule that a
// condition without a status function means `success() && (condition)`.
import { evaluateExpression, stringify, succeeded, truthy, type ExpressionContext } from './evaluator.js';
import { ExpressionSyntaxError, statusFunctions, type Expression } from './language.js';
import { parseExpression } from './parser.js';

/** A `${{ … }}` found in a string: its source and where it starts (offset of `${{`). */
export interface EmbeddedExpression {
  source: string;
  start: number;
  end: number;
}

/** Finds every `${{ … }}` in `text`, respecting quotes inside the expression. */
export function findExpressions(text: string): EmbeddedExpression[] {
  const found: EmbeddedExpression[] = [];
  let i = text.indexOf('${{');
  while (i !== -1) {
    let j = i + 3;
    let inString = false;
    let end = -1;
    for (; j < text.length; j += 1) {
      if (text[j] === "'") inString = !inString;
      else if (!inString && text[j] === '}' && text[j + 1] === '}') {
        end = j + 2;
        break;
      }
    }
    if (end === -1) throw new ExpressionSyntaxError('"${{" is never closed by "}}"', i);
    found.push({ source: text.slice(i + 3, end - 2), start: i, end });
    i = text.indexOf('${{', end);
  }
  return found;
}

/** Replaces every `${{ … }}` in `template` with its value (null and missing become ''). */
export function interpolate(template: string, ctx: ExpressionContext): string {
  const found = findExpressions(template);
  if (found.length === 0) return template;
  let out = '';
  let last = 0;
  for (const e of found) {
    out += template.slice(last, e.start) + stringify(evaluateExpression(parseExpression(e.source), ctx));
    last = e.end;
  }
  return out + template.slice(last);
}

/** Deep-interpolates every string inside a `with:` value. */
export function interpolateValue(value: unknown, ctx: ExpressionContext): unknown {
  if (typeof value === 'string') return interpolate(value, ctx);
  if (Array.isArray(value)) return value.map((v) => interpolateValue(v, ctx));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateValue(v, ctx)]));
  return value;
}

/** Strips an optional whole-string `${{ }}` wrapper from an `if:` value. */
function conditionSource(source: string): string {
  const trimmed = source.trim();
  const found = trimmed.startsWith('${{') ? findExpressions(trimmed) : [];
  return found.length === 1 && found[0]!.start === 0 && found[0]!.end === trimmed.length ? found[0]!.source : trimmed;
}

function usesStatusFunction(expr: Expression): boolean {
  switch (expr.kind) {
    case 'call':
      return statusFunctions.includes(expr.name) || expr.args.some(usesStatusFunction);
    case 'not':
      return usesStatusFunction(expr.operand);
    case 'binary':
      return usesStatusFunction(expr.left) || usesStatusFunction(expr.right);
    case 'path':
      return expr.segments.some((s) => typeof s !== 'string' && usesStatusFunction(s));
    default:
      return false;
  }
}

/** Whether a condition decides for itself when to run after failures (uses success(), always(), …). */
export function conditionUsesStatus(source: string): boolean {
  return usesStatusFunction(parseCondition(source));
}

/** Parses an `if:` condition (with or without `${{ }}`). */
export function parseCondition(source: string): Expression {
  return parseExpression(conditionSource(source));
}

/**
 * Evaluates `if:`. As in GitHub Actions, a condition without a status function means
 * `success() && (condition)`: it runs only when everything upstream succeeded.
 */
export function evaluateCondition(source: string, ctx: ExpressionContext): boolean {
  const expr = parseCondition(source);
  const value = truthy(evaluateExpression(expr, ctx));
  return usesStatusFunction(expr) ? value : value && succeeded(ctx);
}

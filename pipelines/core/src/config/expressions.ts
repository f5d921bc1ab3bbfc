// The expression language of shipgate.yml: `${{ matrix.target }}`, `${{ steps.build.outputs.version }}`,
// `if: ci.branch == 'main' && success()`. Deliberately small and close to GitHub Actions' so it reads
// familiar: literals, context paths, == != < <= > >= && || ! and parentheses, and a few functions.
// Hand-written (about 250 lines) because we need positions for file:line:col errors, our own contexts
// and status functions, and no library for GitHub's grammar runs standalone without its own runtime.
import { ShipgateError } from '@shipgate/protocol';
import type { MatrixValue } from './model.js';
import type { CiContext } from '@shipgate/protocol';
import { didYouMean } from '@shipgate/protocol';

export interface ExpressionContext {
  env: Readonly<Record<string, string>>;
  matrix: Readonly<Record<string, MatrixValue>>;
  steps: Readonly<Record<string, { outputs: Readonly<Record<string, string>>; outcome: string }>>;
  ci: CiContext;
  /**
   * For success() / failure() / cancelled(): `failed` — a step this one needs failed, or the run is
   * stopping after a failure; `cancelled` — the run was cancelled; `succeeded` — every step this one
   * needs succeeded (default: neither failed nor cancelled).
   */
  status: { failed: boolean; cancelled: boolean; succeeded?: boolean };
}

export type Expression =
  | { kind: 'literal'; value: string | number | boolean | null }
  | { kind: 'path'; root: string; segments: Array<string | Expression>; offset: number }
  | { kind: 'call'; name: string; args: Expression[]; offset: number }
  | { kind: 'not'; operand: Expression }
  | { kind: 'binary'; op: BinaryOp; left: Expression; right: Expression };

type BinaryOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';

export const contextNames = ['env', 'matrix', 'steps', 'ci'] as const;
/** The properties of `ci` (CiContext), for validation. */
export const ciProperties = ['provider', 'event', 'branch', 'tag', 'sha', 'defaultBranch', 'pullRequest', 'repository', 'runId', 'actor'] as const;
/** What `steps.<id>.` may be followed by. */
export const stepProperties = ['outputs', 'outcome'] as const;

/**
 * Bounds that keep a broken or hostile expression from exhausting the stack: `((((…` 1,400 deep or
 * 10,000 `&&` used to crash validate with a RangeError. GitHub's own expressions stay far below.
 */
export const expressionLimits = {
  /** Nesting of (), [], function arguments and ! */
  maxDepth: 32,
  /** Tokens in one expression. */
  maxTokens: 1000,
} as const;
const statusFunctions = ['success', 'failure', 'cancelled', 'always'];
const functionArity: Record<string, [number, number]> = {
  success: [0, 0],
  failure: [0, 0],
  cancelled: [0, 0],
  always: [0, 0],
  contains: [2, 2],
  startsWith: [2, 2],
  endsWith: [2, 2],
  format: [1, 20],
  toJSON: [1, 1],
};

/** A syntax error at `offset` (0-based) inside the expression source. */
export class ExpressionSyntaxError extends ShipgateError {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super('config.expression', message, { hint: 'expressions use literals, contexts (env, matrix, steps, ci), == != < > && || ! and functions like contains()' });
  }
}

type Token = { type: 'num' | 'str' | 'ident' | 'op' | 'punct' | 'end'; value: string; offset: number };

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    if (tokens.length >= expressionLimits.maxTokens) {
      throw new ExpressionSyntaxError(`the expression is too long: more than ${expressionLimits.maxTokens} tokens; split it, or compute the value in a step and read its output`, i);
    }
    const c = src[i]!;
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    const start = i;
    if (c === "'") {
      let value = '';
      i += 1;
      for (;;) {
        if (i >= src.length) throw new ExpressionSyntaxError(`unterminated string starting at column ${start + 1}`, start);
        if (src[i] === "'") {
          if (src[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        value += src[i];
        i += 1;
      }
      tokens.push({ type: 'str', value, offset: start });
      continue;
    }
    if (c === '"') throw new ExpressionSyntaxError(`strings use single quotes: '…' (column ${start + 1})`, start);
    const num = /^-?(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:e[+-]?\d+)?)/.exec(src.slice(i));
    if (num && (c !== '-' || tokens.length === 0 || ['op', 'punct'].includes(tokens[tokens.length - 1]!.type))) {
      tokens.push({ type: 'num', value: num[0], offset: start });
      i += num[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(src.slice(i));
    if (ident) {
      tokens.push({ type: 'ident', value: ident[0], offset: start });
      i += ident[0].length;
      continue;
    }
    const op = /^(==|!=|<=|>=|&&|\|\||<|>|!)/.exec(src.slice(i));
    if (op) {
      tokens.push({ type: 'op', value: op[0], offset: start });
      i += op[0].length;
      continue;
    }
    if ('().,[]*'.includes(c)) {
      tokens.push({ type: 'punct', value: c, offset: start });
      i += 1;
      continue;
    }
    throw new ExpressionSyntaxError(`unexpected character "${c}" at column ${start + 1}`, start);
  }
  tokens.push({ type: 'end', value: '', offset: src.length });
  return tokens;
}

/** Parses one expression (without the `${{ }}`). Throws ExpressionSyntaxError with the offset. */
export function parseExpression(source: string): Expression {
  const tokens = tokenize(source);
  let pos = 0;
  let depth = 0;
  /** Runs a nested parse one level deeper, refusing nesting past the bound. */
  const nested = <T>(offset: number, parse: () => T): T => {
    if (depth >= expressionLimits.maxDepth) throw new ExpressionSyntaxError(`the expression nests deeper than ${expressionLimits.maxDepth} levels (column ${offset + 1})`, offset);
    depth += 1;
    try {
      return parse();
    } finally {
      depth -= 1;
    }
  };
  const peek = (): Token => tokens[pos]!;
  const next = (): Token => tokens[pos++]!;
  const expect = (value: string): void => {
    const t = next();
    if (t.value !== value || t.type === 'str') throw new ExpressionSyntaxError(`expected "${value}" at column ${t.offset + 1}${t.type === 'end' ? ' (end of expression)' : `, found "${t.value}"`}`, t.offset);
  };
  const binary = (ops: BinaryOp[], sub: () => Expression) => (): Expression => {
    let left = sub();
    while (peek().type === 'op' && (ops as string[]).includes(peek().value)) {
      const op = next().value as BinaryOp;
      left = { kind: 'binary', op, left, right: sub() };
    }
    return left;
  };
  const primary = (): Expression => {
    const t = next();
    if (t.type === 'num') return { kind: 'literal', value: Number(t.value) };
    if (t.type === 'str') return { kind: 'literal', value: t.value };
    if (t.type === 'punct' && t.value === '(') {
      const inner = nested(t.offset, or);
      expect(')');
      return inner;
    }
    if (t.type === 'ident') {
      if (t.value === 'true' || t.value === 'false') return { kind: 'literal', value: t.value === 'true' };
      if (t.value === 'null') return { kind: 'literal', value: null };
      if (peek().value === '(' && peek().type === 'punct') {
        next();
        // own keys only: `constructor()` must not find Object.prototype.constructor
        const arity = Object.hasOwn(functionArity, t.value) ? functionArity[t.value] : undefined;
        if (!arity) throw new ExpressionSyntaxError(`unknown function ${t.value}() at column ${t.offset + 1}; functions: ${Object.keys(functionArity).join(', ')}`, t.offset);
        const args: Expression[] = [];
        if (!(peek().type === 'punct' && peek().value === ')')) {
          args.push(nested(t.offset, or));
          while (peek().type === 'punct' && peek().value === ',') {
            next();
            args.push(nested(t.offset, or));
          }
        }
        expect(')');
        if (args.length < arity[0] || args.length > arity[1]) {
          throw new ExpressionSyntaxError(`${t.value}() takes ${arity[0] === arity[1] ? arity[0] : `${arity[0]} to ${arity[1]}`} arguments, got ${args.length} (column ${t.offset + 1})`, t.offset);
        }
        return { kind: 'call', name: t.value, args, offset: t.offset };
      }
      if (!(contextNames as readonly string[]).includes(t.value)) {
        throw new ExpressionSyntaxError(`unknown context "${t.value}" at column ${t.offset + 1}; contexts: ${contextNames.join(', ')}`, t.offset);
      }
      const segments: Array<string | Expression> = [];
      for (;;) {
        if (peek().type === 'punct' && peek().value === '.') {
          next();
          const name = next();
          if (name.type !== 'ident' && !(name.type === 'punct' && name.value === '*')) {
            throw new ExpressionSyntaxError(`expected a property name after "." at column ${name.offset + 1}`, name.offset);
          }
          segments.push(name.value);
        } else if (peek().type === 'punct' && peek().value === '[') {
          const open = next();
          segments.push(nested(open.offset, or));
          expect(']');
        } else break;
      }
      return { kind: 'path', root: t.value, segments, offset: t.offset };
    }
    throw new ExpressionSyntaxError(
      t.type === 'end' ? 'the expression ends too early' : `unexpected "${t.value}" at column ${t.offset + 1}`,
      t.offset,
    );
  };
  const unary = (): Expression => {
    if (peek().type === 'op' && peek().value === '!') {
      const bang = next();
      return { kind: 'not', operand: nested(bang.offset, unary) };
    }
    return primary();
  };
  const comparison = binary(['<', '<=', '>', '>='], unary);
  const equality = binary(['==', '!='], comparison);
  const and = binary(['&&'], equality);
  const or = binary(['||'], and);

  if (peek().type === 'end') throw new ExpressionSyntaxError('empty expression', 0);
  const expr = or();
  if (peek().type !== 'end') throw new ExpressionSyntaxError(`unexpected "${peek().value}" at column ${peek().offset + 1}`, peek().offset);
  return expr;
}

type Value = string | number | boolean | null | Readonly<Record<string, unknown>> | readonly unknown[];

function truthy(v: unknown): boolean {
  return !(v === false || v === 0 || v === '' || v === null || v === undefined || Number.isNaN(v));
}

function toNumber(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return v.trim() === '' ? 0 : Number(v);
  return Number.NaN;
}

/** GitHub's loose equality: strings compare case-insensitively; different types compare as numbers. */
function looseEquals(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  if (typeof a === typeof b && typeof a !== 'object') return a === b;
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (typeof a === 'object' || typeof b === 'object') return a === b;
  return toNumber(a) === toNumber(b);
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return a.localeCompare(b);
  return toNumber(a) - toNumber(b);
}

export function stringify(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function lookup(container: unknown, key: string): unknown {
  // own properties only: `steps.a.constructor` is not Object's constructor
  if (container === null || typeof container !== 'object' || !Object.hasOwn(container, key)) return null;
  const value = (container as Record<string, unknown>)[key];
  return value === undefined ? null : value;
}

/** Reading an output nobody wrote fails the reader by name: it never turns into an empty string. */
function missingOutput(stepId: string, name: string, ctx: ExpressionContext): ShipgateError {
  const step = Object.hasOwn(ctx.steps, stepId) ? ctx.steps[stepId] : undefined;
  if (!step) {
    return new ShipgateError('step.output-missing', `steps.${stepId}.outputs.${name}: "${stepId}" is not a step this one needs`, { hint: `add "${stepId}" to needs:` });
  }
  return new ShipgateError('step.output-missing', `steps.${stepId}.outputs.${name} was never set: step "${stepId}" (${step.outcome}) did not write "${name}" to $SHIPGATE_OUTPUT`, {
    hint: `have "${stepId}" write it (echo "${name}=…" >> "$SHIPGATE_OUTPUT"), or guard the read with if:`,
  });
}

export function evaluateExpression(expr: Expression, ctx: ExpressionContext): unknown {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'not':
      return !truthy(evaluateExpression(expr.operand, ctx));
    case 'binary': {
      if (expr.op === '&&') {
        const left = evaluateExpression(expr.left, ctx);
        return truthy(left) ? evaluateExpression(expr.right, ctx) : left;
      }
      if (expr.op === '||') {
        const left = evaluateExpression(expr.left, ctx);
        return truthy(left) ? left : evaluateExpression(expr.right, ctx);
      }
      const l = evaluateExpression(expr.left, ctx);
      const r = evaluateExpression(expr.right, ctx);
      switch (expr.op) {
        case '==':
          return looseEquals(l, r);
        case '!=':
          return !looseEquals(l, r);
        case '<':
          return compare(l, r) < 0;
        case '<=':
          return compare(l, r) <= 0;
        case '>':
          return compare(l, r) > 0;
        case '>=':
          return compare(l, r) >= 0;
      }
      return null;
    }
    case 'path': {
      let value: unknown = ({ env: ctx.env, matrix: ctx.matrix, steps: ctx.steps, ci: ctx.ci } as Record<string, unknown>)[expr.root];
      const keys: string[] = [];
      for (const segment of expr.segments) {
        const key = typeof segment === 'string' ? segment : stringify(evaluateExpression(segment, ctx));
        keys.push(key);
        value = lookup(value, key);
      }
      if (value === null && expr.root === 'steps' && keys.length === 3 && keys[1] === 'outputs') throw missingOutput(keys[0]!, keys[2]!, ctx);
      return value as Value;
    }
    case 'call': {
      const args = expr.args.map((a) => evaluateExpression(a, ctx));
      const s = (i: number) => stringify(args[i]).toLowerCase();
      switch (expr.name) {
        case 'success':
          return ctx.status.succeeded ?? (!ctx.status.failed && !ctx.status.cancelled);
        case 'failure':
          return ctx.status.failed;
        case 'cancelled':
          return ctx.status.cancelled;
        case 'always':
          return true;
        case 'contains':
          return Array.isArray(args[0]) ? args[0].some((item) => looseEquals(item, args[1])) : s(0).includes(s(1));
        case 'startsWith':
          return s(0).startsWith(s(1));
        case 'endsWith':
          return s(0).endsWith(s(1));
        case 'format':
          return stringify(args[0]).replace(/\{(\d+)\}/g, (_m, n: string) => stringify(args[Number(n) + 1]));
        case 'toJSON':
          return JSON.stringify(args[0] ?? null);
      }
      return null;
    }
  }
}

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
  const succeeded = ctx.status.succeeded ?? (!ctx.status.failed && !ctx.status.cancelled);
  return usesStatusFunction(expr) ? value : value && succeeded;
}

/** Calls `onPath` for every path in an expression, index expressions inside paths included. */
function forEachPath(expr: Expression, onPath: (path: Extract<Expression, { kind: 'path' }>) => void): void {
  const walk = (e: Expression): void => {
    switch (e.kind) {
      case 'path':
        onPath(e);
        e.segments.forEach((s) => typeof s !== 'string' && walk(s));
        break;
      case 'call':
        e.args.forEach(walk);
        break;
      case 'not':
        walk(e.operand);
        break;
      case 'binary':
        walk(e.left);
        walk(e.right);
        break;
    }
  };
  walk(expr);
}

/** Which steps and matrix keys an expression refers to (for validation and planning). */
export function expressionReferences(expr: Expression): { steps: string[]; matrix: string[]; offsets: Record<string, number> } {
  const steps = new Set<string>();
  const matrix = new Set<string>();
  const offsets: Record<string, number> = {};
  forEachPath(expr, (e) => {
    const first = e.segments[0];
    if (typeof first === 'string' && e.root === 'steps') {
      steps.add(first);
      offsets[`steps.${first}`] ??= e.offset;
    }
    if (typeof first === 'string' && e.root === 'matrix') {
      matrix.add(first);
      offsets[`matrix.${first}`] ??= e.offset;
    }
  });
  return { steps: [...steps], matrix: [...matrix], offsets };
}

/** An output (or the outcome) of a step that an expression reads, with the offset of its `steps`. */
export interface StepRead {
  step: string;
  /** Undefined for `steps.<id>.outcome` (and the whole `steps.<id>` or `steps.<id>.outputs`). */
  output?: string;
  offset: number;
}

/** A reference that cannot be checked or would always be empty, found before anything runs. */
export interface ReferenceProblem {
  offset: number;
  message: string;
  hint?: string;
}

const dotted = (root: string, segments: readonly (string | Expression)[]): string =>
  [root, ...segments.map((s) => (typeof s === 'string' ? s : '[…]'))].join('.').replace(/\.\[…\]/g, '[…]');

/** Checks the shape of one context path: `steps.<id>.outputs.<name>`, `steps.<id>.outcome`, `matrix.<axis>`, `env.<NAME>`, `ci.<property>`. */
function checkPath(e: Extract<Expression, { kind: 'path' }>, reads: StepRead[], problems: ReferenceProblem[]): void {
  const names = e.segments.filter((s): s is string => typeof s === 'string');
  const problem = (message: string, hint?: string): void => void problems.push({ offset: e.offset, message, ...(hint ? { hint } : {}) });
  if (names.length !== e.segments.length || names.includes('*')) {
    const example = e.root === 'steps' ? 'steps.<id>.outputs.<name>' : `${e.root}.<name>`;
    problem(`${dotted(e.root, e.segments)}: index and * syntax cannot be checked before the run; write ${example}`, `for example ${e.root === 'steps' ? 'steps.build.outputs.version' : e.root === 'matrix' ? 'matrix.target' : e.root === 'ci' ? 'ci.branch' : 'env.NODE_ENV'}`);
    return;
  }
  const [first, second, third] = names;
  // a whole context (`toJSON(matrix)`) is a value, not a miss
  if (first === undefined) return;
  switch (e.root) {
    case 'steps':
      // steps.<id> and steps.<id>.outputs are mappings (for toJSON); they still must run before
      if (second === undefined || (second === 'outcome' && third === undefined) || (second === 'outputs' && third === undefined)) reads.push({ step: first, offset: e.offset });
      else if (second === 'outputs' && third !== undefined && names.length === 3) reads.push({ step: first, output: third, offset: e.offset });
      else if (second === 'outputs') problem(`steps.${first}.outputs.${third} is a string; it has no property "${names[3]}"`);
      else problem(`steps.${first}.${second} is not a property of a step${didYouMean(second, stepProperties)}`, 'a step has outputs.<name> and outcome');
      return;
    case 'matrix':
    case 'env':
      if (names.length > 1) problem(`${e.root}.${first} is a string; it has no property "${second}"`);
      return;
    case 'ci':
      if (!(ciProperties as readonly string[]).includes(first)) problem(`ci.${first} is not a property of ci${didYouMean(first, ciProperties)}`, `ci has ${ciProperties.join(', ')}`);
      else if (names.length > 1) problem(`ci.${first} is a value; it has no property "${second}"`);
      return;
  }
}

/**
 * What validation needs to know about an expression: the step outputs and outcomes it reads, and
 * every path that would evaluate to nothing whatever the run does (`steps.a.foo`, `steps['a']`).
 */
export function checkReferences(expr: Expression): { reads: StepRead[]; problems: ReferenceProblem[] } {
  const reads: StepRead[] = [];
  const problems: ReferenceProblem[] = [];
  forEachPath(expr, (e) => checkPath(e, reads, problems));
  return { reads, problems };
}

// Evaluates an Expression against a run's contexts, with GitHub Actions' semantics: loose equality
// (strings case-insensitively, other types as numbers), && and || returning an operand, and a read
// of an output nobody wrote failing by name instead of becoming an empty string.
import { ShipgateError, type CiContext } from '@shipgate/protocol';
import type { MatrixValue } from '../model.js';
import type { Expression } from './language.js';

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

type Value = string | number | boolean | null | Readonly<Record<string, unknown>> | readonly unknown[];

export function truthy(v: unknown): boolean {
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

/** Whether every step this one needs succeeded (the default meaning of a condition). */
export function succeeded(ctx: ExpressionContext): boolean {
  return ctx.status.succeeded ?? (!ctx.status.failed && !ctx.status.cancelled);
}

function evaluateBinary(expr: Extract<Expression, { kind: 'binary' }>, ctx: ExpressionContext): unknown {
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
}

function evaluatePath(expr: Extract<Expression, { kind: 'path' }>, ctx: ExpressionContext): unknown {
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

function evaluateCall(expr: Extract<Expression, { kind: 'call' }>, ctx: ExpressionContext): unknown {
  const args = expr.args.map((a) => evaluateExpression(a, ctx));
  const s = (i: number) => stringify(args[i]).toLowerCase();
  switch (expr.name) {
    case 'success':
      return succeeded(ctx);
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

export function evaluateExpression(expr: Expression, ctx: ExpressionContext): unknown {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'not':
      return !truthy(evaluateExpression(expr.operand, ctx));
    case 'binary':
      return evaluateBinary(expr, ctx);
    case 'path':
      return evaluatePath(expr, ctx);
    case 'call':
      return evaluateCall(expr, ctx);
  }
}

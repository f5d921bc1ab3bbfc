// What the expression language is, shared by its tokenizer, parser, evaluator and checks: the tree
// a parse yields, the contexts and functions it may name, its bounds, and its one error type.
import { ShipgateError } from '@shipgate/protocol';

export type Expression =
  | { kind: 'literal'; value: string | number | boolean | null }
  | { kind: 'path'; root: string; segments: Array<string | Expression>; offset: number }
  | { kind: 'call'; name: string; args: Expression[]; offset: number }
  | { kind: 'not'; operand: Expression }
  | { kind: 'binary'; op: BinaryOp; left: Expression; right: Expression };

export type BinaryOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';

export type PathExpression = Extract<Expression, { kind: 'path' }>;

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

/** Functions whose use means a condition decides for itself when to run after failures. */
export const statusFunctions = ['success', 'failure', 'cancelled', 'always'];

/** Every function with its [least, most] number of arguments. */
export const functionArity: Record<string, [number, number]> = {
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

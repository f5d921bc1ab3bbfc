// What an expression refers to, known before anything runs: the steps and matrix keys it reads (for
// planning), and the context paths that would evaluate to nothing whatever the run does (for
// validation: `steps.a.foo`, `ci.brnach`, index syntax that cannot be checked).
import { didYouMean } from '@shipgate/protocol';
import { ciProperties, stepProperties, type Expression, type PathExpression } from './language.js';

/** Calls `onPath` for every path in an expression, index expressions inside paths included. */
function forEachPath(expr: Expression, onPath: (path: PathExpression) => void): void {
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

const examplePaths: Record<string, string> = { steps: 'steps.build.outputs.version', matrix: 'matrix.target', ci: 'ci.branch' };

/** Checks the shape of one context path: `steps.<id>.outputs.<name>`, `steps.<id>.outcome`, `matrix.<axis>`, `env.<NAME>`, `ci.<property>`. */
function checkPath(e: PathExpression, reads: StepRead[], problems: ReferenceProblem[]): void {
  const names = e.segments.filter((s): s is string => typeof s === 'string');
  const problem = (message: string, hint?: string): void => void problems.push({ offset: e.offset, message, ...(hint ? { hint } : {}) });
  if (names.length !== e.segments.length || names.includes('*')) {
    const example = e.root === 'steps' ? 'steps.<id>.outputs.<name>' : `${e.root}.<name>`;
    problem(`${dotted(e.root, e.segments)}: index and * syntax cannot be checked before the run; write ${example}`, `for example ${examplePaths[e.root] ?? 'env.NODE_ENV'}`);
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

/** `matrix.<key>` reads of an expression (index expressions inside paths included), with offsets. */
export function matrixReads(expr: Expression): Array<[string, number]> {
  const found: Array<[string, number]> = [];
  const stack: Expression[] = [expr];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (e.kind === 'path') {
      if (e.root === 'matrix' && typeof e.segments[0] === 'string') found.push([e.segments[0], e.offset]);
      for (const s of e.segments) if (typeof s !== 'string') stack.push(s);
    } else if (e.kind === 'call') stack.push(...e.args);
    else if (e.kind === 'not') stack.push(e.operand);
    else if (e.kind === 'binary') stack.push(e.left, e.right);
  }
  return found;
}

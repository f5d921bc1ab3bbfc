// Checks of a step's `matrix:`: it has axes, it is small enough to expand (counted first: 40 axes of
// two values are 2^40), no axis lists a value twice, exclude names real axes, and what is left
// makes at least one invocation and no invocation twice.
import { configLimits, didYouMean } from '@shipgate/protocol';
import { expandMatrix, invocationId } from '../../plan/matrix.js';
import type { Path } from '../key-path.js';
import type { MatrixCombination, MatrixSpec, MatrixValue } from '../model.js';
import type { RawStep } from '../schema.js';
import type { CheckContext } from './context.js';

export function matrixSpec(raw: NonNullable<RawStep['matrix']>): MatrixSpec {
  const { include, exclude, 'max-parallel': maxParallel, ...axes } = raw;
  return {
    axes: axes as Record<string, MatrixValue[]>,
    include: include ?? [],
    exclude: exclude ?? [],
    ...(maxParallel === undefined ? {} : { maxParallel }),
  };
}

/** Why a matrix is too large to expand, counted before expanding it (40 axes of two values are 2^40). */
export function matrixSizeProblem(matrix: MatrixSpec): string | undefined {
  const max = configLimits.maxMatrixCombinations;
  let product = 1;
  for (const values of Object.values(matrix.axes)) {
    product *= values.length;
    if (product > max) break;
  }
  const total = product + matrix.include.length;
  if (product <= max && total <= max && matrix.exclude.length <= max) return undefined;
  const what = product > max ? 'its axes make more than' : matrix.exclude.length > max ? 'its exclude lists more than' : 'its axes and include make more than';
  return `the matrix is too large: ${what} ${max} combinations (at most ${max} per step)`;
}

/** Reports every value an axis lists twice; answers whether there was one. */
function checkRepeatedValues(id: string, matrix: MatrixSpec, base: Path, ctx: CheckContext): boolean {
  let repeatedValue = false;
  for (const [axis, values] of Object.entries(matrix.axes)) {
    const seen = new Map<string, number>();
    for (const [i, value] of values.entries()) {
      const first = seen.get(String(value));
      // two equal values would be two instances with one id, build[x=a], and one cache entry
      if (first !== undefined) repeatedValue = true;
      if (first !== undefined) ctx.problems.add('config.matrix', `step "${id}": matrix axis ${axis} lists ${JSON.stringify(String(value))} twice (items ${first + 1} and ${i + 1})`, ctx.pos.value([...base, 'matrix', axis, i]) ?? ctx.pos.key([...base, 'matrix', axis]), 'each value of an axis must differ');
      else seen.set(String(value), i);
    }
  }
  return repeatedValue;
}

function checkExcludeNames(id: string, matrix: MatrixSpec, axes: readonly string[], base: Path, ctx: CheckContext): void {
  for (const [i, combo] of matrix.exclude.entries()) {
    for (const key of Object.keys(combo)) {
      if (!axes.includes(key)) {
        ctx.problems.add('config.matrix', `step "${id}": exclude[${i}] names "${key}", which is not an axis${didYouMean(key, axes)}`, ctx.pos.key([...base, 'matrix', 'exclude', i, key]), `axes: ${axes.join(', ') || '(none)'}`);
      }
    }
  }
}

/** What expansion leaves: at least one combination, and no invocation id twice (an include that repeats one). */
function checkCombinations(id: string, combinations: readonly MatrixCombination[] | undefined, repeatedValue: boolean, base: Path, ctx: CheckContext): void {
  if (combinations?.length === 0) {
    ctx.problems.add('config.matrix', `step "${id}": exclude removes every combination, so the step would never run`, ctx.pos.key([...base, 'matrix', 'exclude']), 'remove an exclude entry, or the step');
  }
  // an include that repeats a combination would make two invocations with one id
  const seenIds = new Set<string>();
  for (const combo of repeatedValue ? [] : (combinations ?? [])) {
    const invocation = invocationId(id, combo);
    if (seenIds.has(invocation)) {
      ctx.problems.add('config.matrix', `step "${id}": the matrix makes ${invocation} twice`, ctx.pos.key([...base, 'matrix', 'include']), 'remove the include entry that repeats a combination');
      break;
    }
    seenIds.add(invocation);
  }
}

/** The step's matrix as a spec, with its problems recorded. */
export function checkMatrix(id: string, raw: NonNullable<RawStep['matrix']>, base: Path, ctx: CheckContext): MatrixSpec {
  const matrix = matrixSpec(raw);
  const axes = Object.keys(matrix.axes);
  if (axes.length === 0 && matrix.include.length === 0) {
    ctx.problems.add('config.matrix', `step "${id}": the matrix has no axes`, ctx.pos.key([...base, 'matrix']), 'write axes as lists: matrix: { target: [api, worker] }');
  }
  const sizeProblem = matrixSizeProblem(matrix);
  if (sizeProblem) ctx.problems.add('config.matrix', `step "${id}": ${sizeProblem}`, ctx.pos.key([...base, 'matrix']), 'split the step, or use include: for the combinations you need');
  const repeatedValue = checkRepeatedValues(id, matrix, base, ctx);
  checkExcludeNames(id, matrix, axes, base, ctx);
  const combinations = !sizeProblem && (axes.length > 0 || matrix.include.length > 0) ? expandMatrix(matrix) : undefined;
  checkCombinations(id, combinations, repeatedValue, base, ctx);
  return matrix;
}

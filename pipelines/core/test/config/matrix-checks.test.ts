import { describe, expect, it } from '@jest/globals';
import { configLimits } from '@shipgate/protocol';
import { matrixSizeProblem, matrixSpec } from '../../src/config/checks/matrix.js';
import type { MatrixSpec } from '../../src/config/model.js';

describe('matrixSpec', () => {
  // the raw matrix as the zod schema leaves it (its type mixes axes with include/exclude)
  it.each<[unknown, MatrixSpec]>([
    [{ os: ['linux', 'mac'] }, { axes: { os: ['linux', 'mac'] }, include: [], exclude: [] }],
    [
      { node: [20, 24], include: [{ node: 22 }], exclude: [{ node: 20 }], 'max-parallel': 2 },
      { axes: { node: [20, 24] }, include: [{ node: 22 }], exclude: [{ node: 20 }], maxParallel: 2 },
    ],
    [{ include: [{ a: 'x' }] }, { axes: {}, include: [{ a: 'x' }], exclude: [] }],
  ])('%j', (raw, spec) => {
    expect(matrixSpec(raw as Parameters<typeof matrixSpec>[0])).toEqual(spec);
  });
});

describe('matrixSizeProblem', () => {
  const max = configLimits.maxMatrixCombinations;
  const values = (n: number) => Array.from({ length: n }, (_, i) => i);
  const combos = (n: number) => Array.from({ length: n }, (_, i) => ({ x: i }));
  const spec = (axes: Record<string, number[]>, include = 0, exclude = 0): MatrixSpec => ({ axes, include: combos(include), exclude: combos(exclude) });
  const tooLarge = (what: string) => `the matrix is too large: ${what} ${max} combinations (at most ${max} per step)`;

  it.each<[string, MatrixSpec, string | undefined]>([
    ['no axes', spec({}), undefined],
    ['exactly the bound', spec({ a: values(max) }), undefined],
    ['the bound as a product', spec({ a: values(16), b: values(16) }), undefined],
    ['one past the bound', spec({ a: values(max + 1) }), tooLarge('its axes make more than')],
    ['40 axes of two values (counted, never expanded)', spec(Object.fromEntries(values(40).map((i) => [`a${i}`, [0, 1]]))), tooLarge('its axes make more than')],
    ['axes and include together', spec({ a: values(max) }, 1), tooLarge('its axes and include make more than')],
    ['include alone within the bound', spec({}, max - 1), undefined],
    ['exclude past the bound', spec({ a: values(2) }, 0, max + 1), tooLarge('its exclude lists more than')],
  ])('%s', (_name, matrix, problem) => {
    expect(matrixSizeProblem(matrix)).toBe(problem);
  });
});

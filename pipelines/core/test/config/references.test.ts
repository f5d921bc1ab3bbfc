import { describe, expect, it } from '@jest/globals';
import { parseExpression } from '../../src/config/expressions/parser.js';
import { matrixReads } from '../../src/config/expressions/references.js';

describe('matrixReads', () => {
  it.each<[string, Array<[string, number]>]>([
    ["'x'", []],
    ['matrix.target', [['target', 0]]],
    ['matrix', []],
    ["matrix['target']", []], // an index read names no key before the run (checkReferences reports it)
    ['env.A == matrix.os', [['os', 9]]],
    ["!contains(matrix.os, 'linux')", [['os', 10]]],
    ['env[matrix.key]', [['key', 4]]],
    ['matrix.a || matrix.b', [['b', 12], ['a', 0]]],
  ])('%s', (source, reads) => {
    expect(matrixReads(parseExpression(source))).toEqual(reads);
  });
});

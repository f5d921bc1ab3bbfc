import { describe, expect, it } from '@jest/globals';
import { needPath, needsList, toStringRecord } from '../../src/config/checks/step.js';
import type { Path } from '../../src/config/key-path.js';
import type { RawStep } from '../../src/config/schema.js';

const step = (needs: unknown): RawStep => ({ run: 'echo', ...(needs === undefined ? {} : { needs }) }) as RawStep;

describe('needsList', () => {
  it.each<[unknown, string[]]>([
    [undefined, []],
    ['build', ['build']],
    [['build', 'lint'], ['build', 'lint']],
    [[], []],
  ])('needs: %j', (needs, list) => {
    expect(needsList(step(needs))).toEqual(list);
  });
});

describe('needPath', () => {
  it.each<[unknown, number, Path]>([
    ['build', 0, ['steps', 'test', 'needs']],
    [['build', 'lint'], 0, ['steps', 'test', 'needs', 0]],
    [['build', 'lint'], 1, ['steps', 'test', 'needs', 1]],
  ])('needs: %j, need %d', (needs, i, p) => {
    expect(needPath('test', step(needs), i)).toEqual(p);
  });
});

describe('toStringRecord', () => {
  it.each<[Record<string, string | number | boolean> | undefined, Record<string, string>]>([
    [undefined, {}],
    [{ A: 'x', N: 3, B: false, F: 1.5 }, { A: 'x', N: '3', B: 'false', F: '1.5' }],
  ])('%j', (env, record) => {
    expect(toStringRecord(env)).toEqual(record);
  });
});

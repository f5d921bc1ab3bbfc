import { describe, expect, it } from '@jest/globals';
import { pathText, stringsIn, valueAt, type Path } from '../../src/config/key-path.js';

describe('pathText', () => {
  it.each<[Path, string]>([
    [[], ''],
    [['name'], 'name'],
    [['steps', 'build'], 'steps.build'],
    [['steps', 'build', 'needs', 1], 'steps.build.needs[1]'],
    [['steps', 'a', 'matrix', 'exclude', 0, 'os'], 'steps.a.matrix.exclude[0].os'],
    [[0, 'x'], '[0].x'],
  ])('%j → %j', (p, text) => {
    expect(pathText(p)).toBe(text);
  });
});

describe('valueAt', () => {
  const root = { steps: { a: { needs: ['b', 'c'], with: { n: 0, off: false, none: null } } } };
  it.each<[Path, unknown]>([
    [[], root],
    [['steps', 'a', 'needs', 1], 'c'],
    [['steps', 'a', 'with', 'n'], 0],
    [['steps', 'a', 'with', 'off'], false],
    [['steps', 'a', 'with', 'none'], null],
    [['steps', 'a', 'with', 'none', 'deeper'], undefined],
    [['steps', 'missing', 'needs'], undefined],
    [['steps', 'a', 'needs', 0, 'length'], undefined],
  ])('%j', (p, value) => {
    expect(valueAt(root, p)).toEqual(value);
  });

  it('answers undefined below a scalar root', () => {
    expect(valueAt('text', ['a'])).toBeUndefined();
    expect(valueAt(undefined, ['a'])).toBeUndefined();
  });
});

describe('stringsIn', () => {
  it.each<[unknown, Array<[string, Path]>]>([
    ['x', [['x', ['with']]]],
    [42, []],
    [null, []],
    [{ a: 'x', b: 1, c: true }, [['x', ['with', 'a']]]],
    [['p', ['q'], { r: 's' }], [['p', ['with', 0]], ['q', ['with', 1, 0]], ['s', ['with', 2, 'r']]]],
    [{ deep: { list: [{ v: '${{ matrix.a }}' }] } }, [['${{ matrix.a }}', ['with', 'deep', 'list', 0, 'v']]]],
  ])('%j', (value, found) => {
    expect([...stringsIn(value, ['with'])]).toEqual(found);
  });
});

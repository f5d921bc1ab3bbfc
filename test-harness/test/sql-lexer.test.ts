// The SQL lexer every scanner of the harness shares, and positions in a text.
import { describe, expect, it } from '@jest/globals';
import { lineAndColumn } from '../src/sql/lexer.js';

describe('lineAndColumn', () => {
  it.each([
    ['abc', 1, { line: 1, column: 1 }],
    ['ab\ncd', 4, { line: 2, column: 1 }],
    ['ab\ncd\nef', 8, { line: 3, column: 2 }],
  ])('%j at %d', (text, position, expected) => {
    expect(lineAndColumn(text, position)).toEqual(expected);
  });
});

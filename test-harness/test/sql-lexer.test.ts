// The SQL lexer every scanner of the harness shares (statement splitters, the psql script reader),
// and positions in a text.
import { describe, expect, it } from '@jest/globals';
import { hasCode, leadingBlanksAndComments, lineAndColumn, tokenAt, type SqlDialect, type TokenKind } from '../src/sql/lexer.js';

describe('tokenAt', () => {
  it.each<[SqlDialect, string, TokenKind, string]>([
    ['postgres', '-- a; b\nSELECT 1', 'comment', '-- a; b\n'],
    ['postgres', '-- to the end', 'comment', '-- to the end'],
    ['postgres', '/* a; /* nested; */ still; */ x', 'comment', '/* a; /* nested; */ still; */'],
    ['postgres', '/* never closed; SELECT 1', 'comment', '/* never closed; SELECT 1'],
    ['postgres', "'it''s; x' y", 'quoted', "'it''s; x'"],
    ['postgres', "'a\\' y", 'quoted', "'a\\'"],
    ['postgres', '"odd;""name" x', 'quoted', '"odd;""name"'],
    ['postgres', "E'it\\'s; fine' x", 'quoted', "E'it\\'s; fine'"],
    ['postgres', "e'\\\\' x", 'quoted', "e'\\\\'"],
    ['postgres', "'never closed; x", 'quoted', "'never closed; x"],
    ['postgres', '$$ a; b $$ x', 'dollar-quoted', '$$ a; b $$'],
    ['postgres', '$body$ BEGIN RETURN 1; $$ END $body$; x', 'dollar-quoted', '$body$ BEGIN RETURN 1; $$ END $body$'],
    ['postgres', '$f$ never closed;', 'dollar-quoted', '$f$ never closed;'],
    ['postgres', '$1, $2', 'other', '$'],
    ['postgres', 'a$$b c', 'word', 'a$$b'],
    ['postgres', 'Eve x', 'word', 'Eve'],
    ['postgres', 'E x', 'word', 'E'],
    ['postgres', 'x1_y; z', 'word', 'x1_y'],
    ['postgres', '_a b', 'word', '_a'],
    ['postgres', ' \n\t x', 'blank', ' \n\t '],
    ['postgres', ';', 'other', ';'],
    ['postgres', '\\copy x', 'other', '\\'],
    ['postgres', '# not a comment here', 'other', '#'],
    ['postgres', '1--1', 'other', '1'],
    ['mysql', '-- a; b\nx', 'comment', '-- a; b\n'],
    ['mysql', '--\nx', 'comment', '--\n'],
    ['mysql', '--x', 'other', '-'],
    ['mysql', '# a; b\nx', 'comment', '# a; b\n'],
    ['mysql', '/* a /* b */ c */', 'comment', '/* a /* b */'],
    ['mysql', '/*!40101 SET NAMES utf8 */;', 'executable-comment', '/*!40101 SET NAMES utf8 */'],
    ['mysql', "'it\\'s; x' y", 'quoted', "'it\\'s; x'"],
    ['mysql', "'it''s' y", 'quoted', "'it''s'"],
    ['mysql', '"a\\"b" y', 'quoted', '"a\\"b"'],
    ['mysql', '`odd;``name` y', 'quoted', '`odd;``name`'],
    ['mysql', '`a\\` y', 'quoted', '`a\\`'],
    ['mysql', '$$ a; b $$', 'other', '$'],
    ['mysql', 'END$$', 'word', 'END'],
  ])('%s: %j starts with a %s token %j', (dialect, text, kind, token) => {
    const found = tokenAt(text, 0, dialect);
    expect([found.kind, text.slice(found.start, found.end)]).toEqual([kind, token]);
  });

  it('tells a dollar quote from an identifier ending in $ by the character before it', () => {
    expect(tokenAt('a$$ x $$', 1)).toEqual({ kind: 'other', start: 1, end: 2 });
    expect(tokenAt(' $$ x $$', 1)).toEqual({ kind: 'dollar-quoted', start: 1, end: 8 });
    expect(tokenAt("xE'a'", 1)).toEqual({ kind: 'word', start: 1, end: 2 });
  });
});

describe('leadingBlanksAndComments and hasCode', () => {
  it.each<[string, SqlDialect, number, boolean]>([
    ['  -- c\n/* d */ SELECT 1', 'postgres', 15, true],
    ['/* a /* b */ c */ SELECT', 'postgres', 18, true],
    ['-- only a comment', 'postgres', 17, false],
    ['  \n ', 'postgres', 4, false],
    ['', 'postgres', 0, false],
    ["'--' x", 'postgres', 0, true],
    ['# c\n-- d\nSELECT 1', 'mysql', 9, true],
    ['/*!40101 SET x */', 'mysql', 0, true],
    ['--x', 'mysql', 0, true],
  ])('%j (%s): %d leading characters, code: %s', (text, dialect, lead, code) => {
    expect(leadingBlanksAndComments(text, dialect)).toBe(lead);
    expect(hasCode(text, dialect)).toBe(code);
  });
});

describe('lineAndColumn', () => {
  it.each([
    ['abc', 1, { line: 1, column: 1 }],
    ['ab\ncd', 4, { line: 2, column: 1 }],
    ['ab\ncd\nef', 8, { line: 3, column: 2 }],
  ])('%j at %d', (text, position, expected) => {
    expect(lineAndColumn(text, position)).toEqual(expected);
  });
});

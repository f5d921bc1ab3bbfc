import { describe, expect, it } from '@jest/globals';
import { ExpressionSyntaxError, expressionLimits } from '../../src/config/expressions/language.js';
import { tokenize, type Token } from '../../src/config/expressions/tokenizer.js';

/** Tokens as `type:value@offset`, without the final end token (checked separately). */
const shown = (src: string): string[] => tokenize(src).slice(0, -1).map((t: Token) => `${t.type}:${t.value}@${t.offset}`);

function syntaxError(src: string): { message: string; offset: number } {
  try {
    tokenize(src);
  } catch (error) {
    if (!(error instanceof ExpressionSyntaxError)) throw error;
    return { message: error.message, offset: error.offset };
  }
  throw new Error(`tokenize(${JSON.stringify(src)}) did not fail`);
}

describe('tokenize', () => {
  it.each<[string, string[]]>([
    ['', []],
    ['   ', []],
    ['42', ['num:42@0']],
    ['1.5e3', ['num:1.5e3@0']],
    ['0xff', ['num:0xff@0']],
    ['-1', ['num:-1@0']],
    ["'a'", ['str:a@0']],
    ["'it''s'", ["str:it's@0"]],
    ["''", ['str:@0']],
    ['matrix.target', ['ident:matrix@0', 'punct:.@6', 'ident:target@7']],
    ['steps.build.outputs.image-tag', ['ident:steps@0', 'punct:.@5', 'ident:build@6', 'punct:.@11', 'ident:outputs@12', 'punct:.@19', 'ident:image-tag@20']],
    ["env['A']", ['ident:env@0', 'punct:[@3', "str:A@4", 'punct:]@7']],
    ['a == b', ['ident:a@0', 'op:==@2', 'ident:b@5']],
    ['a!=b', ['ident:a@0', 'op:!=@1', 'ident:b@3']],
    ['a <= b >= c < d > e', ['ident:a@0', 'op:<=@2', 'ident:b@5', 'op:>=@7', 'ident:c@10', 'op:<@12', 'ident:d@14', 'op:>@16', 'ident:e@18']],
    ['!a && b || c', ['op:!@0', 'ident:a@1', 'op:&&@3', 'ident:b@6', 'op:||@8', 'ident:c@11']],
    ['f(1, 2)', ['ident:f@0', 'punct:(@1', 'num:1@2', 'punct:,@3', 'num:2@5', 'punct:)@6']],
    ['steps.*', ['ident:steps@0', 'punct:.@5', 'punct:*@6']],
    // a minus after a value is not a sign; after an operator or punctuation it is
    ['(-1)', ['punct:(@0', 'num:-1@1', 'punct:)@3']],
    ['a == -1', ['ident:a@0', 'op:==@2', 'num:-1@5']],
    ['\tci.branch\n', ['ident:ci@1', 'punct:.@3', 'ident:branch@4']],
  ])('%j', (src, tokens) => {
    expect(shown(src)).toEqual(tokens);
  });

  it('ends with one end token at the length of the source', () => {
    expect(tokenize('a  ').at(-1)).toEqual({ type: 'end', value: '', offset: 3 });
    expect(tokenize('')).toEqual([{ type: 'end', value: '', offset: 0 }]);
  });

  it.each<[string, string, number]>([
    ["'open", 'unterminated string starting at column 1', 0],
    ["a == 'x''", 'unterminated string starting at column 6', 5],
    ['"double"', "strings use single quotes: '…' (column 1)", 0],
    ['a # b', 'unexpected character "#" at column 3', 2],
    ['1 -1', 'unexpected character "-" at column 3', 2],
    ['a = b', 'unexpected character "=" at column 3', 2],
    ['a & b', 'unexpected character "&" at column 3', 2],
  ])('refuses %j: %s', (src, message, offset) => {
    expect(syntaxError(src)).toEqual({ message, offset });
  });

  it(`stops at ${expressionLimits.maxTokens} tokens, at the offset just after the last token it took`, () => {
    const src = Array.from({ length: expressionLimits.maxTokens + 1 }, () => 'a').join(' ');
    expect(syntaxError(src)).toEqual({ message: `the expression is too long: more than ${expressionLimits.maxTokens} tokens; split it, or compute the value in a step and read its output`, offset: expressionLimits.maxTokens * 2 - 1 });
    expect(tokenize(src.slice(0, -2))).toHaveLength(expressionLimits.maxTokens + 1);
  });
});

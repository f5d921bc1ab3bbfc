// Splits an expression's source into tokens with their offsets, so every later error can point at
// its column. Bounded: more than expressionLimits.maxTokens tokens is a syntax error, not a slow parse.
import { ExpressionSyntaxError, expressionLimits } from './language.js';

export type Token = { type: 'num' | 'str' | 'ident' | 'op' | 'punct' | 'end'; value: string; offset: number };

const numberPattern = /^-?(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:e[+-]?\d+)?)/;
const identifierPattern = /^[A-Za-z_][A-Za-z0-9_-]*/;
const operatorPattern = /^(==|!=|<=|>=|&&|\|\||<|>|!)/;
const punctuation = '().,[]*';

/** A single-quoted string starting at `start` (`''` is one quote): its value and the offset after it. */
function readString(src: string, start: number): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  for (;;) {
    if (i >= src.length) throw new ExpressionSyntaxError(`unterminated string starting at column ${start + 1}`, start);
    if (src[i] === "'") {
      if (src[i + 1] !== "'") return { value, end: i + 1 };
      value += "'";
      i += 2;
      continue;
    }
    value += src[i];
    i += 1;
  }
}

/** A `-` starts a negative number only where a value may start: first, or after an operator or punctuation. */
function mayStartNumber(c: string, tokens: readonly Token[]): boolean {
  return c !== '-' || tokens.length === 0 || ['op', 'punct'].includes(tokens[tokens.length - 1]!.type);
}

/** The token at `start` that is not a string: number, identifier, operator or punctuation. */
function readWord(src: string, start: number, tokens: readonly Token[]): Token {
  const c = src[start]!;
  const rest = src.slice(start);
  const num = numberPattern.exec(rest);
  if (num && mayStartNumber(c, tokens)) return { type: 'num', value: num[0], offset: start };
  const ident = identifierPattern.exec(rest);
  if (ident) return { type: 'ident', value: ident[0], offset: start };
  const op = operatorPattern.exec(rest);
  if (op) return { type: 'op', value: op[0], offset: start };
  if (punctuation.includes(c)) return { type: 'punct', value: c, offset: start };
  throw new ExpressionSyntaxError(`unexpected character "${c}" at column ${start + 1}`, start);
}

/** The tokens of `src`, ending with one `end` token at src.length. Throws ExpressionSyntaxError. */
export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    if (tokens.length >= expressionLimits.maxTokens) {
      throw new ExpressionSyntaxError(`the expression is too long: more than ${expressionLimits.maxTokens} tokens; split it, or compute the value in a step and read its output`, i);
    }
    const c = src[i]!;
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (c === "'") {
      const { value, end } = readString(src, i);
      tokens.push({ type: 'str', value, offset: i });
      i = end;
      continue;
    }
    if (c === '"') throw new ExpressionSyntaxError(`strings use single quotes: '…' (column ${i + 1})`, i);
    const token = readWord(src, i, tokens);
    tokens.push(token);
    i += token.value.length;
  }
  tokens.push({ type: 'end', value: '', offset: src.length });
  return tokens;
}

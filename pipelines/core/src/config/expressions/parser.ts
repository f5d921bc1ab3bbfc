// Parses an expression's tokens into an Expression tree by recursive descent, one level of binary
// operators per precedence row (|| binds loosest, then &&, equality, comparison), then !, then
// literals, calls, context paths and parentheses. Nesting is bounded (expressionLimits.maxDepth),
// so no input can exhaust the stack.
import { contextNames, ExpressionSyntaxError, expressionLimits, functionArity, type BinaryOp, type Expression } from './language.js';
import { tokenize, type Token } from './tokenizer.js';

/** Binary operators from the loosest to the tightest binding. */
const precedence: readonly (readonly BinaryOp[])[] = [['||'], ['&&'], ['==', '!='], ['<', '<=', '>', '>=']];

class Parser {
  #at = 0;
  #depth = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  parse(): Expression {
    if (this.peek().type === 'end') throw new ExpressionSyntaxError('empty expression', 0);
    const expr = this.expression();
    if (this.peek().type !== 'end') throw new ExpressionSyntaxError(`unexpected "${this.peek().value}" at column ${this.peek().offset + 1}`, this.peek().offset);
    return expr;
  }

  /** A whole expression: the loosest-binding operator row. */
  private expression(): Expression {
    return this.binary(0);
  }

  /** Operators of precedence row `row`, left-associative, over the rows that bind tighter. */
  private binary(row: number): Expression {
    if (row === precedence.length) return this.unary();
    const ops = precedence[row] as readonly string[];
    let left = this.binary(row + 1);
    while (this.peek().type === 'op' && ops.includes(this.peek().value)) {
      const op = this.next().value as BinaryOp;
      left = { kind: 'binary', op, left, right: this.binary(row + 1) };
    }
    return left;
  }

  private unary(): Expression {
    if (this.peek().type === 'op' && this.peek().value === '!') {
      const bang = this.next();
      return { kind: 'not', operand: this.nested(bang.offset, () => this.unary()) };
    }
    return this.primary();
  }

  private primary(): Expression {
    const t = this.next();
    if (t.type === 'num') return { kind: 'literal', value: Number(t.value) };
    if (t.type === 'str') return { kind: 'literal', value: t.value };
    if (t.type === 'punct' && t.value === '(') {
      const inner = this.nested(t.offset, () => this.expression());
      this.expect(')');
      return inner;
    }
    if (t.type === 'ident') {
      if (t.value === 'true' || t.value === 'false') return { kind: 'literal', value: t.value === 'true' };
      if (t.value === 'null') return { kind: 'literal', value: null };
      if (this.isPunct('(')) return this.call(t);
      return this.path(t);
    }
    throw new ExpressionSyntaxError(t.type === 'end' ? 'the expression ends too early' : `unexpected "${t.value}" at column ${t.offset + 1}`, t.offset);
  }

  /** `name(args…)`, with `name` already read and `(` next. */
  private call(name: Token): Expression {
    this.next();
    // own keys only: `constructor()` must not find Object.prototype.constructor
    const arity = Object.hasOwn(functionArity, name.value) ? functionArity[name.value] : undefined;
    if (!arity) throw new ExpressionSyntaxError(`unknown function ${name.value}() at column ${name.offset + 1}; functions: ${Object.keys(functionArity).join(', ')}`, name.offset);
    const args: Expression[] = [];
    if (!this.isPunct(')')) {
      args.push(this.nested(name.offset, () => this.expression()));
      while (this.isPunct(',')) {
        this.next();
        args.push(this.nested(name.offset, () => this.expression()));
      }
    }
    this.expect(')');
    if (args.length < arity[0] || args.length > arity[1]) {
      throw new ExpressionSyntaxError(`${name.value}() takes ${arity[0] === arity[1] ? arity[0] : `${arity[0]} to ${arity[1]}`} arguments, got ${args.length} (column ${name.offset + 1})`, name.offset);
    }
    return { kind: 'call', name: name.value, args, offset: name.offset };
  }

  /** `context.name[index]…`, with the context's name already read. */
  private path(root: Token): Expression {
    if (!(contextNames as readonly string[]).includes(root.value)) {
      throw new ExpressionSyntaxError(`unknown context "${root.value}" at column ${root.offset + 1}; contexts: ${contextNames.join(', ')}`, root.offset);
    }
    const segments: Array<string | Expression> = [];
    for (;;) {
      if (this.isPunct('.')) {
        this.next();
        const name = this.next();
        if (name.type !== 'ident' && !(name.type === 'punct' && name.value === '*')) {
          throw new ExpressionSyntaxError(`expected a property name after "." at column ${name.offset + 1}`, name.offset);
        }
        segments.push(name.value);
      } else if (this.isPunct('[')) {
        const open = this.next();
        segments.push(this.nested(open.offset, () => this.expression()));
        this.expect(']');
      } else break;
    }
    return { kind: 'path', root: root.value, segments, offset: root.offset };
  }

  /** Runs a nested parse one level deeper, refusing nesting past the bound. */
  private nested<T>(offset: number, parse: () => T): T {
    if (this.#depth >= expressionLimits.maxDepth) throw new ExpressionSyntaxError(`the expression nests deeper than ${expressionLimits.maxDepth} levels (column ${offset + 1})`, offset);
    this.#depth += 1;
    try {
      return parse();
    } finally {
      this.#depth -= 1;
    }
  }

  private peek(): Token {
    return this.tokens[this.#at]!;
  }

  private next(): Token {
    return this.tokens[this.#at++]!;
  }

  private isPunct(value: string): boolean {
    const t = this.peek();
    return t.type === 'punct' && t.value === value;
  }

  private expect(value: string): void {
    const t = this.next();
    if (t.value !== value || t.type === 'str') throw new ExpressionSyntaxError(`expected "${value}" at column ${t.offset + 1}${t.type === 'end' ? ' (end of expression)' : `, found "${t.value}"`}`, t.offset);
  }
}

/** Parses one expression (without the `${{ }}`). Throws ExpressionSyntaxError with the offset. */
export function parseExpression(source: string): Expression {
  return new Parser(tokenize(source)).parse();
}

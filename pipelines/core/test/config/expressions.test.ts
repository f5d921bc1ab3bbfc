import { describe, expect, it } from '@jest/globals';
import { evaluateCondition, evaluateExpression, interpolate, parseExpression, type ExpressionContext } from '../../src/config/expressions.js';
import { checkReferences, parseCondition, expressionReferences } from '../../src/config/expressions.js';

const ctx: ExpressionContext = {
  env: { NODE_ENV: 'test', EMPTY: '' },
  matrix: { target: 'api', node: 24 },
  steps: { build: { outputs: { version: '1.2.3', 'image-tag': 'sha-abc' }, outcome: 'success' } },
  ci: { provider: 'github', branch: 'main', event: 'push', pullRequest: 42 },
  status: { failed: false, cancelled: false },
};
const evaluate = (src: string, c: ExpressionContext = ctx) => evaluateExpression(parseExpression(src), c);

describe('evaluateExpression', () => {
  it.each([
    ["'it''s'", "it's"],
    ['1.5', 1.5],
    ['true', true],
    ['null', null],
    ['env.NODE_ENV', 'test'],
    ['env.MISSING', null],
    ['matrix.node', 24],
    ["matrix['target']", 'api'],
    ['steps.build.outputs.version', '1.2.3'],
    ['steps.build.outputs.image-tag', 'sha-abc'],
    ['steps.build.outcome', 'success'],
    ['ci.pullRequest', 42],
    ["ci.branch == 'MAIN'", true], // strings compare case-insensitively, as in GitHub Actions
    ["ci.branch != 'main'", false],
    ["matrix.node == '24'", true], // different types compare as numbers
    ['matrix.node >= 20 && matrix.node < 25', true],
    ["env.EMPTY || 'fallback'", 'fallback'],
    ["env.NODE_ENV && 'yes'", 'yes'],
    ['!env.EMPTY', true],
    ["true || false && false", true], // && binds tighter than ||
    ["(true || false) && false", false],
    ["contains(ci.branch, 'AI')", true],
    ["startsWith('refs/tags/v1', 'refs/tags/')", true],
    ["endsWith('file.ts', '.js')", false],
    ["format('{0}-{1}', matrix.target, steps.build.outputs.version)", 'api-1.2.3'],
    ['toJSON(matrix)', '{"target":"api","node":24}'],
  ])('%s → %j', (src, expected) => {
    expect(evaluate(src)).toEqual(expected);
  });

  it.each([
    ['steps.build.outputs.versoin', /steps.build.outputs.versoin was never set: step "build" \(success\) did not write "versoin"/],
    ['steps.nope.outputs.x', /steps.nope.outputs.x: "nope" is not a step this one needs/],
  ])('fails reading %s, which was never written, instead of giving an empty string', (src, message) => {
    expect(() => evaluate(src)).toThrow(message);
    expect(() => interpolate(`v=\${{ ${src} }}`, ctx)).toThrow(message);
  });

  it('reads only own properties: constructor and __proto__ are not values', () => {
    expect(evaluate("env['constructor']")).toBeNull();
    expect(evaluate('env.__proto__')).toBeNull();
    expect(evaluate('steps.build.constructor')).toBeNull();
  });

  it.each([
    ['', /empty expression/],
    ['constructor()', /unknown function constructor\(\)/],
    ['toString()', /unknown function toString\(\)/],
    ['env.', /expected a property name/],
    ['github.sha', /unknown context "github"/],
    ['nope()', /unknown function nope\(\)/],
    ["contains('a')", /contains\(\) takes 2 arguments, got 1/],
    ['"double"', /strings use single quotes/],
    ["'open", /unterminated string/],
    ['1 +', /unexpected character "\+"/],
    ['(true', /expected "\)"/],
  ])('rejects %j', (src, message) => {
    expect(() => parseExpression(src)).toThrow(message);
  });

  // each of these crashed validate with "Maximum call stack size exceeded" before the bounds
  it.each([
    ['1,400 nested (', '('.repeat(1400) + 'true' + ')'.repeat(1400), /too long: more than 1000 tokens/],
    ['40 nested (', '('.repeat(40) + 'true' + ')'.repeat(40), /nests deeper than 32 levels \(column 33\)/],
    ['10,000 !', '!'.repeat(10_000) + 'true', /too long: more than 1000 tokens/],
    ['40 !', '!'.repeat(40) + 'true', /nests deeper than 32 levels/],
    ['10,000 &&', Array.from({ length: 10_001 }, () => 'true').join(' && '), /too long: more than 1000 tokens/],
    ['40 nested calls', 'contains('.repeat(40) + "'a'" + ", 'b')".repeat(40), /nests deeper than 32 levels/],
    ['40 nested indexes', 'env['.repeat(40) + "'x'" + ']'.repeat(40), /nests deeper than 32 levels/],
  ])('bounds %s with a syntax error, not a stack overflow', (_label, src, message) => {
    expect(() => parseExpression(src)).toThrow(message);
  });

  it('accepts 30 levels of nesting and 400 operators, and evaluates them', () => {
    expect(evaluate('('.repeat(30) + 'true' + ')'.repeat(30))).toBe(true);
    expect(evaluate(Array.from({ length: 400 }, () => 'true').join(' && '))).toBe(true);
  });
});

describe('interpolate', () => {
  it('replaces every ${{ }} and leaves the rest', () => {
    expect(interpolate('build ${{ matrix.target }} v${{ steps.build.outputs.version }} ${{ env.MISSING }}!', ctx)).toBe('build api v1.2.3 !');
  });
  it("keeps '}}' inside a string literal", () => {
    expect(interpolate("${{ format('{0}}}', 'x') }}", ctx)).toBe('x}}');
  });
  it('rejects an unclosed ${{', () => {
    expect(() => interpolate('echo ${{ env.X', ctx)).toThrow(/never closed/);
  });
});

describe('evaluateCondition (if:)', () => {
  const failedUpstream: ExpressionContext = { ...ctx, status: { failed: true, cancelled: false, succeeded: false } };
  it.each([
    ["ci.branch == 'main'", ctx, true],
    ["${{ ci.branch == 'main' }}", ctx, true],
    ["ci.branch == 'dev'", ctx, false],
    // without a status function a condition also requires upstream success
    ["ci.branch == 'main'", failedUpstream, false],
    ['always()', failedUpstream, true],
    ['failure()', failedUpstream, true],
    ['failure()', ctx, false],
    ["success() && ci.event == 'push'", ctx, true],
    ['cancelled()', { ...ctx, status: { failed: false, cancelled: true } }, true],
  ])('%s', (src, c, expected) => {
    expect(evaluateCondition(src, c)).toBe(expected);
  });

  it('lists the steps and matrix keys a condition refers to', () => {
    expect(expressionReferences(parseCondition("steps.build.outputs.v == matrix.target && steps.lint.outcome != 'x'"))).toMatchObject({ steps: ['build', 'lint'], matrix: ['target'] });
  });
});

describe('checkReferences: paths that would always be empty are found before the run', () => {
  const check = (src: string) => checkReferences(parseExpression(src));

  it('lists the outputs and outcomes read, with offsets', () => {
    expect(check("steps.a.outputs.version == 'x' && steps.b.outcome == 'success'")).toEqual({
      reads: [
        { step: 'a', output: 'version', offset: 0 },
        { step: 'b', offset: 34 },
      ],
      problems: [],
    });
  });

  it.each([
    ['steps.a.output.version', /steps.a.output is not a property of a step — did you mean "outputs"\?/],
    ['steps.a.foo', /steps.a.foo is not a property of a step/],
    ["steps['b'].outputs.v", /index and \* syntax cannot be checked before the run; write steps.<id>.outputs.<name>/],
    ["steps.b.outputs['v']", /index and \* syntax/],
    ['steps.*.outputs.v', /index and \* syntax/],
    ['steps.a.outputs.v.length', /steps.a.outputs.v is a string; it has no property "length"/],
    ['matrix.target.x', /matrix.target is a string; it has no property "x"/],
    ['ci.brnach', /ci.brnach is not a property of ci — did you mean "branch"\?/],
  ])('%s', (src, message) => {
    const { problems } = check(src);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(message);
  });

  it.each(['toJSON(matrix)', 'toJSON(steps.a.outputs)', 'env.ANY_NAME', 'ci.defaultBranch', 'steps.a.outcome'])('accepts %s', (src) => {
    expect(check(src).problems).toEqual([]);
  });
});

import { describe, expect, it } from '@jest/globals';
import { evaluateCondition, evaluateExpression, interpolate, parseExpression, type ExpressionContext } from '../../src/config/expressions.js';
import { parseCondition, expressionReferences } from '../../src/config/expressions.js';

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
    ['steps.nope.outputs.x', null],
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
    ['', /empty expression/],
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

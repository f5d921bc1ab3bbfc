// The expression language of shipgate.yml: `${{ matrix.target }}`, `${{ steps.build.outputs.version }}`,
// `if: ci.branch == 'main' && success()`. Deliberately small and close to GitHub Actions' so it reads
// familiar: literals, context paths, == != < <= > >= && || ! and parentheses, and a few functions.
// Hand-written because we need positions for file:line:col errors, our own contexts and status
// functions, and no library for GitHub's grammar runs standalone without its own runtime.
//
// This module is the language's face; its parts live in ./expressions/: language.ts (the tree,
// contexts, functions, bounds, the error), tokenizer.ts, parser.ts, evaluator.ts, embedded.ts
// (`${{ }}` in strings and `if:` conditions) and references.ts (what an expression reads).
export { ciProperties, contextNames, expressionLimits, ExpressionSyntaxError, stepProperties, type Expression } from './expressions/language.js';
export { parseExpression } from './expressions/parser.js';
export { evaluateExpression, stringify, type ExpressionContext } from './expressions/evaluator.js';
export { conditionUsesStatus, evaluateCondition, findExpressions, interpolate, interpolateValue, parseCondition, type EmbeddedExpression } from './expressions/embedded.js';
export { checkReferences, expressionReferences, type ReferenceProblem, type StepRead } from './expressions/references.js';

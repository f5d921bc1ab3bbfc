// shipgate.yml: loading, validation, expressions and the JSON Schema.
export { loadPipeline, parsePipeline, findPipelineFile } from './load.js';
export { parseDuration } from '@shipgate/protocol';
export type { LoadOptions } from './load.js';
export {
  parseExpression,
  evaluateExpression,
  evaluateCondition,
  interpolate,
  interpolateValue,
  findExpressions,
  expressionReferences,
  ExpressionSyntaxError,
} from './expressions.js';
export type { ExpressionContext, Expression } from './expressions.js';
export { pipelineJsonSchema } from './json-schema.js';
export { closest, didYouMean } from '@shipgate/protocol';
export type * from './model.js';

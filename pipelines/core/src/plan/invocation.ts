// Turning a planned node into a StepInvocation: every `${{ }}` in with:, env: and
// working-directory resolved against env, matrix values and upstream outputs. Shared by the
// scheduler and `shipgate step`, so a step runs the same wherever it is started.
import { interpolate, interpolateValue, type ExpressionContext } from '../config/expressions.js';
import type { PipelineSpec } from '../config/model.js';
import type { StepInvocation } from '@shipgate/protocol';
import type { PlanNode } from './plan.js';

export function matrixEnvName(key: string): string {
  return `SHIPGATE_MATRIX_${key.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

export function buildInvocation(pipeline: PipelineSpec, node: PlanNode, ctx: ExpressionContext): StepInvocation {
  const step = node.step;
  const env: Record<string, string> = {};
  for (const [k, v] of [...Object.entries(pipeline.env), ...Object.entries(step.env)]) {
    env[k] = interpolate(v, { ...ctx, env: { ...ctx.env, ...env } });
  }
  if (node.matrix) for (const [k, v] of Object.entries(node.matrix)) env[matrixEnvName(k)] = String(v);
  const exprCtx = { ...ctx, env: { ...ctx.env, ...env } };
  return {
    id: node.id,
    stepId: node.stepId,
    uses: step.uses,
    with: interpolateValue(step.with, exprCtx) as Record<string, unknown>,
    env,
    workingDirectory: step.workingDirectory === undefined ? '.' : interpolate(step.workingDirectory, exprCtx),
    ...(step.timeoutMs === undefined ? {} : { timeoutMs: step.timeoutMs }),
    ...(node.matrix ? { matrix: node.matrix } : {}),
  };
}

// A failed verification that rolled back is recorded like every deployment: one line in
// deployments.jsonl and one POST to the Slack app's /api/deployments, outcome `rolled-back`, with the
// failing check in the record's detail and as the record's `reason` (the app posts it in the thread
// of the deployment's message).
import { deployerFrom, recordDeployment, type RollbackRef } from '@shipgate/core';
import type { StepContext } from '@shipgate/protocol';
import type { OnFailure, VerifyInputs } from './inputs.js';
import type { RollbackOutcome } from './rollback.js';
import type { FailingCheck } from './verify.js';

/** The service a record names: the input, else what the rollback targets are called. */
export function serviceOf(inputs: Pick<VerifyInputs, 'service' | 'on-failure'>): string | undefined {
  const f = inputs['on-failure'];
  return inputs.service ?? f?.codedeploy?.application ?? f?.image?.repository.split('/').pop()?.split(':')[0] ?? f?.codepipeline?.pipeline;
}

/** How the Slack app can roll back again by hand (its Rollback button). */
function rollbackRef(onFailure: OnFailure | undefined, environment: string): RollbackRef | undefined {
  if (onFailure?.codedeploy) {
    const t = onFailure.codedeploy;
    return { kind: 'codedeploy', application: t.application, deploymentGroup: t['deployment-group'], ...(t.region ? { region: t.region } : {}) };
  }
  if (onFailure?.image) return { kind: 'image', repository: onFailure.image.repository, environment: onFailure.image.environment ?? environment };
  return undefined;
}

/** What the Slack app shows on the rollback notice: the failing check, its value and its limit. */
export function failingCheckLine(failing: FailingCheck | undefined): string {
  return failing ? `verify: check "${failing.name}" failed at evaluation ${failing.evaluation}: ${failing.reason}` : 'verify: failed';
}

/** One line: which check failed, and what each rollback did. */
export function rollbackDetail(failing: FailingCheck | undefined, outcomes: readonly RollbackOutcome[]): string {
  const check = failingCheckLine(failing);
  const done = outcomes.map((o) => `${o.kind} ${o.ok ? 'rolled back' : 'rollback FAILED'}: ${o.message}`);
  return [check, ...done].join('; ');
}

export async function recordRolledBack(ctx: StepContext<VerifyInputs>, version: string, failing: FailingCheck | undefined, outcomes: readonly RollbackOutcome[]): Promise<void> {
  const { inputs } = ctx;
  const service = serviceOf(inputs);
  const environment = inputs.environment ?? inputs['on-failure']?.image?.environment ?? inputs['on-failure']?.codedeploy?.['deployment-group'];
  if (!service || !environment) {
    ctx.logger.warn('the rollback is not recorded: set the step inputs service and environment');
    return;
  }
  const ref = rollbackRef(inputs['on-failure'], environment);
  const deployer = deployerFrom(ctx.env, ctx.ci.actor);
  const told = await recordDeployment(
    {
      service,
      environment,
      version,
      outcome: outcomes.some((o) => o.ok) ? 'rolled-back' : 'failed',
      ...(deployer ? { deployer } : {}),
      ...(ref ? { rollback: ref } : {}),
      via: 'verify',
      detail: rollbackDetail(failing, outcomes),
      reason: failingCheckLine(failing),
    },
    { stateDir: ctx.stateDir, env: ctx.env, signal: AbortSignal.timeout(20_000) },
  );
  if (told.warning) ctx.logger.warn(told.warning);
}

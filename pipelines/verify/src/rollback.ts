// Rollback after a failed verdict. The verify step imports no other step package, so the rollbacks
// are injected: the CLI passes CodeDeploy's, the image registry's and CodePipeline's (see
// createVerifyStep). Each one named under `on-failure:` runs; one failing does not stop the others,
// and all their outcomes are reported.
import { ShipgateError } from '@shipgate/protocol';
import type { OnFailure } from './inputs.js';

interface Common {
  env: Readonly<Record<string, string>>;
  signal: AbortSignal;
  log(line: string): void;
}

export interface CodeDeployRollbackRequest extends Common {
  application: string;
  deploymentGroup: string;
  region?: string | undefined;
  endpoint?: string | undefined;
}
export interface ImageRollbackRequest extends Common {
  repository: string;
  environment: string;
  tag?: string | undefined;
  insecure?: boolean | undefined;
}
export interface CodePipelineRollbackRequest extends Common {
  pipeline: string;
  stage: string;
  region?: string | undefined;
  endpoint?: string | undefined;
}

/** The rollback functions the verify step may call; each returns one line for people. */
export interface Rollbacks {
  codedeploy?: ((request: CodeDeployRollbackRequest) => Promise<string>) | undefined;
  image?: ((request: ImageRollbackRequest) => Promise<string>) | undefined;
  codepipeline?: ((request: CodePipelineRollbackRequest) => Promise<string>) | undefined;
}

export type RollbackKind = keyof Rollbacks;

export interface RollbackOutcome {
  kind: RollbackKind;
  ok: boolean;
  message: string;
}

/** The rollbacks `on-failure` names, in the order they run (the pipeline first, then what it deployed). */
export function rollbacksNamed(onFailure: OnFailure | undefined): RollbackKind[] {
  return (['codepipeline', 'codedeploy', 'image'] as const).filter((kind) => onFailure?.[kind] !== undefined);
}

/** Fails before any evaluation when `on-failure` names a rollback this step was not given. */
export function checkRollbacksAvailable(onFailure: OnFailure | undefined, rollbacks: Rollbacks): void {
  const missing = rollbacksNamed(onFailure).filter((kind) => !rollbacks[kind]);
  if (missing.length) {
    throw new ShipgateError('verify.rollback-unavailable', `on-failure names ${missing.join(', ')}, but this verify step has no ${missing.join(' or ')} rollback`, {
      hint: 'the `shipgate` CLI, the action and the Jenkins step wire them in; a plugin calling verifyStep directly must use createVerifyStep({ rollbacks })',
    });
  }
}

function requestFor(kind: RollbackKind, onFailure: OnFailure, common: Common, environment: string | undefined): CodeDeployRollbackRequest | ImageRollbackRequest | CodePipelineRollbackRequest {
  if (kind === 'codedeploy') {
    const t = onFailure.codedeploy!;
    return { ...common, application: t.application, deploymentGroup: t['deployment-group'], region: t.region, endpoint: t.endpoint };
  }
  if (kind === 'codepipeline') {
    const t = onFailure.codepipeline!;
    return { ...common, pipeline: t.pipeline, stage: t.stage, region: t.region, endpoint: t.endpoint };
  }
  const t = onFailure.image!;
  const env = t.environment ?? environment;
  if (!env) throw new ShipgateError('verify.rollback-input', 'on-failure.image needs an environment (or the step input environment)');
  return { ...common, repository: t.repository, environment: env, tag: t.tag, insecure: t.insecure };
}

/** Runs every rollback `on-failure` names; never throws for one that fails (its outcome says so). */
export async function runRollbacks(onFailure: OnFailure | undefined, rollbacks: Rollbacks, common: Common, environment: string | undefined): Promise<RollbackOutcome[]> {
  const outcomes: RollbackOutcome[] = [];
  for (const kind of rollbacksNamed(onFailure)) {
    try {
      const request = requestFor(kind, onFailure!, common, environment);
      const run = rollbacks[kind] as (r: typeof request) => Promise<string>;
      outcomes.push({ kind, ok: true, message: await run(request) });
    } catch (error) {
      if (common.signal.aborted) throw error;
      outcomes.push({ kind, ok: false, message: (error as Error).message });
    }
  }
  return outcomes;
}

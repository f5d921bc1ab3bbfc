// Who gets told of a decision and who runs a rollback: the defaults (CodePipeline, Jenkins,
// GitHub; image, CodeDeploy and Jenkins rollbacks) from the app's environment, overridden by the
// ones passed in.
import { defaultDecisionBackends, defaultRollbackBackends } from '../backends/index.js';
import { pipelinesRollbacks } from '../backends/pipelines.js';
import type { DecisionBackends, RollbackBackends } from '../backends/types.js';
import type { ShipgateAppOptions } from './options.js';

export function decisionBackendsFor(options: ShipgateAppOptions): DecisionBackends {
  const defaults = defaultDecisionBackends({ ...(options.env ? { env: options.env } : {}), ...(options.fetch ? { fetch: options.fetch } : {}), ...(options.codePipelineClient ? { codePipelineClient: options.codePipelineClient } : {}) });
  return { ...defaults, ...options.decisionBackends };
}

export function rollbackBackendsFor(options: ShipgateAppOptions): RollbackBackends {
  const env = options.env ? { env: options.env } : {};
  return { ...pipelinesRollbacks(env), ...defaultRollbackBackends({ ...env, ...(options.fetch ? { fetch: options.fetch } : {}) }), ...options.rollbackBackends };
}

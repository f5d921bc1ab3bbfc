// Rollbacks carried out by @shipgate/pipelines' own steps: re-pointing an image tag by registry
// API (`image`) and redeploying the previous revision (`codedeploy`).
import type { Logger } from 'pino';
import type { RollbackBackends } from './types.js';

export async function pipelinesRollbacks(_logger: Logger): Promise<RollbackBackends> {
  return {};
}

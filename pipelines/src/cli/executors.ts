// Which executors a run can hand invocations to. `local` always; others (CodeBuild) are added as
// they are configured.
import type { Executor } from '../executors/executor.js';
import { LocalExecutor } from '../executors/local.js';
import type { StepRegistry } from '../steps/registry.js';
import type { PipelineSpec } from '../config/model.js';
import type { CliIO } from './io.js';

export function createExecutors(registry: StepRegistry, _spec: PipelineSpec, _io: CliIO): Record<string, Executor> {
  return { local: new LocalExecutor(registry) };
}

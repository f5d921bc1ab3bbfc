// Which executors a run can hand invocations to: `local` always, plus one per executor setting the
// pipeline names (`codebuild:orders-build`, an object form, …), keyed by the name steps use.
import type { Executor } from '../protocol/executor.js';
import { LocalExecutor } from '../executors/local.js';
import { CodeBuildExecutor, type CodeBuildExecutorOptions } from '../executors/codebuild.js';
import type { StepRegistry } from '../protocol/step-registry.js';
import type { PipelineSpec } from '../config/model.js';
import type { CliIO } from '../protocol/io.js';

export interface ExecutorOverrides {
  /** Extra options for every CodeBuild executor (tests inject the API and short poll intervals). */
  codebuild?: Partial<Omit<CodeBuildExecutorOptions, 'name' | 'config' | 'pipeline'>>;
}

export function createExecutors(registry: StepRegistry, spec: PipelineSpec, io: CliIO, overrides: ExecutorOverrides = {}): Record<string, Executor> {
  const executors: Record<string, Executor> = { local: new LocalExecutor(registry) };
  for (const [name, config] of Object.entries(spec.executors ?? {})) {
    if (config.kind === 'codebuild') executors[name] = new CodeBuildExecutor({ name, config, pipeline: spec, env: io.env, ...overrides.codebuild });
  }
  return executors;
}

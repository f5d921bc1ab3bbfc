// Which executors a run can hand invocations to: `local` always, plus one per executor setting the
// pipeline names (`codebuild:orders-build`, an object form, …), keyed by the name steps use.
import type { Executor } from '@shipgate/protocol';
import { LocalExecutor } from '@shipgate/core';
import { CodeBuildExecutor, type CodeBuildExecutorOptions } from '@shipgate/aws';
import type { StepRegistry } from '@shipgate/protocol';
import type { PipelineSpec } from '@shipgate/core';
import type { CliIO } from '@shipgate/protocol';

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

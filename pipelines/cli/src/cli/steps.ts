// The steps the shipgate CLI knows: its built-in steps and those of the plugins it loaded.
// `defaultRegistry` holds every built-in step loaded (for programs and tests that embed the CLI's
// steps); `cliRegistry` (cli-registry.ts) is the `shipgate` command's own: the built-in steps of the step packages are
// registered by name and their package is imported only for a pipeline (or command) that uses them.
import type { StepDefinition } from '@shipgate/protocol';
import type { ShipgatePlugin } from '@shipgate/protocol';
import { StepRegistry } from '@shipgate/protocol';
import { runStep } from '@shipgate/core';
import { codedeployStep, rollbackCodeDeploy, rollbackCodePipelineStage } from '@shipgate/aws';
import { codepipelineStep } from '@shipgate/aws';
import { approvalStep } from '@shipgate/slack';
import { slackNotifyStep } from '@shipgate/slack';
import { qualityGateStep } from '@shipgate/quality-gate';
import { imageStep, rollbackImage } from '@shipgate/image';
import type { DeferredPlugin } from './plugins.js';
import { createVerifyStep, type Rollbacks } from '@shipgate/verify';

/**
 * The rollbacks the verify step runs on a failed verdict. The step package imports no other step
 * package, so the CLI hands it CodeDeploy's, the registry's and CodePipeline's own rollback.
 */
export const verifyRollbacks: Rollbacks = {
  codedeploy: async (r) => succeeded(await rollbackCodeDeploy({ application: r.application, deploymentGroup: r.deploymentGroup, region: r.region, endpoint: r.endpoint, env: r.env, signal: r.signal, log: r.log })),
  image: async (r) => {
    const back = await rollbackImage({ repository: r.repository, environment: r.environment, signal: r.signal, ...(r.tag ? { tag: r.tag } : {}), ...(r.insecure !== undefined ? { insecure: r.insecure } : {}) });
    return `moved ${back.repository}:${back.tag} (${back.environment}) back from ${back.from ?? 'nothing'} to ${back.to}`;
  },
  codepipeline: async (r) => succeeded(await rollbackCodePipelineStage({ pipeline: r.pipeline, stage: r.stage, region: r.region, endpoint: r.endpoint, env: r.env, signal: r.signal, log: r.log })),
};

/** A rollback that ended other than Succeeded (failed, or still running at its timeout) did not roll back: say so. */
function succeeded(result: { status: string; message: string }): string {
  if (result.status !== 'Succeeded') throw new Error(result.message);
  return result.message;
}

/** Every step shipgate ships with. Other packages' steps are added here as they land. */
export const builtinSteps: readonly StepDefinition[] = [
  runStep as unknown as StepDefinition,
  approvalStep as unknown as StepDefinition,
  slackNotifyStep as unknown as StepDefinition,
  qualityGateStep as unknown as StepDefinition,
  imageStep as unknown as StepDefinition,
  codedeployStep as unknown as StepDefinition,
  codepipelineStep as unknown as StepDefinition,
  createVerifyStep({ rollbacks: verifyRollbacks }) as unknown as StepDefinition,
];

/**
 * The built-in steps and those of the given plugins (what loadPlugins returned); the steps of
 * deferred plugins (loadPluginsDeferred) are registered by name and imported by `registry.ready()`.
 */
export function defaultRegistry(plugins: readonly ShipgatePlugin[] = [], deferred: readonly DeferredPlugin[] = []): StepRegistry {
  const registry = new StepRegistry([...builtinSteps, ...plugins.flatMap((p) => [...(p.steps ?? [])])]);
  for (const plugin of deferred) registry.defer(plugin.steps, async () => (await plugin.load()).steps ?? []);
  return registry;
}

// The `shipgate` command's step registry. Only the `run` step (in core, which every command loads)
// is there from the start; the steps of the step packages are registered by name and their package
// is imported by `registry.ready()` when a pipeline or a command uses one, so `shipgate validate`
// of a pipeline of shell steps never loads the AWS SDK, the Sonar client or the PromQL parser.
// steps.ts has them all loaded (defaultRegistry), for programs that embed the steps.
import type { ShipgatePlugin, StepDefinition } from '@shipgate/protocol';
import { StepRegistry } from '@shipgate/protocol';
import { runStep } from '@shipgate/core';
import type { DeferredPlugin } from './plugins.js';

const steps = (...defined: unknown[]) => defined as StepDefinition[];

/** The built-in steps of each step package, by name, with the import that defines them. */
export const deferredBuiltinSteps: ReadonlyArray<{ names: readonly string[]; load: () => Promise<readonly StepDefinition[]> }> = [
  { names: ['approval', 'slack-notify'], load: async () => { const m = await import('@shipgate/slack'); return steps(m.approvalStep, m.slackNotifyStep); } },
  { names: ['quality-gate'], load: async () => steps((await import('@shipgate/quality-gate')).qualityGateStep) },
  { names: ['image'], load: async () => steps((await import('@shipgate/image')).imageStep) },
  { names: ['codedeploy', 'codepipeline'], load: async () => { const m = await import('@shipgate/aws'); return steps(m.codedeployStep, m.codepipelineStep); } },
  { names: ['verify'], load: async () => { const [{ createVerifyStep }, { verifyRollbacks }] = await Promise.all([import('@shipgate/verify'), import('./steps.js')]); return steps(createVerifyStep({ rollbacks: verifyRollbacks })); } },
];

/** The `shipgate` command's registry: `run` loaded, the other built-in steps and deferred plugins' steps by name. */
export function cliRegistry(plugins: readonly ShipgatePlugin[] = [], deferred: readonly DeferredPlugin[] = []): StepRegistry {
  const registry = new StepRegistry([runStep as unknown as StepDefinition, ...plugins.flatMap((p) => [...(p.steps ?? [])])]);
  for (const group of deferredBuiltinSteps) registry.defer(group.names, group.load);
  for (const plugin of deferred) registry.defer(plugin.steps, async () => (await plugin.load()).steps ?? []);
  return registry;
}

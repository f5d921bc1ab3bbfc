// The steps the shipgate CLI knows: its built-in steps and those of the plugins it loaded.
import type { StepDefinition } from '@shipgate/protocol';
import type { ShipgatePlugin } from '@shipgate/protocol';
import { StepRegistry } from '@shipgate/protocol';
import { runStep } from '@shipgate/core';
import { codedeployStep } from '@shipgate/aws';
import { codepipelineStep } from '@shipgate/aws';
import { approvalStep } from '@shipgate/slack';
import { slackNotifyStep } from '@shipgate/slack';
import { qualityGateStep } from '@shipgate/quality-gate';
import { imageStep } from '@shipgate/image';

/** Every step shipgate ships with. Other packages' steps are added here as they land. */
export const builtinSteps: readonly StepDefinition[] = [
  runStep as unknown as StepDefinition,
  approvalStep as unknown as StepDefinition,
  slackNotifyStep as unknown as StepDefinition,
  qualityGateStep as unknown as StepDefinition,
  imageStep as unknown as StepDefinition,
  codedeployStep as unknown as StepDefinition,
  codepipelineStep as unknown as StepDefinition,
];

/** The built-in steps and those of the given plugins (what loadPlugins returned). */
export function defaultRegistry(plugins: readonly ShipgatePlugin[] = []): StepRegistry {
  return new StepRegistry([...builtinSteps, ...plugins.flatMap((p) => [...(p.steps ?? [])])]);
}

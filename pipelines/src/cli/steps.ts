// The steps the shipgate CLI knows: its built-in steps and those of the plugins it loaded.
import type { StepDefinition } from '../protocol/step.js';
import type { ShipgatePlugin } from '../protocol/plugin.js';
import { StepRegistry } from '../protocol/step-registry.js';
import { runStep } from '../steps/run/index.js';
import { codedeployStep } from '../steps/codedeploy/index.js';
import { codepipelineStep } from '../steps/codepipeline/index.js';
import { approvalStep } from '../steps/approval/index.js';
import { slackNotifyStep } from '../steps/slack-notify/index.js';
import { qualityGateStep } from '../steps/quality-gate/index.js';
import { imageStep } from '../steps/image/index.js';

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

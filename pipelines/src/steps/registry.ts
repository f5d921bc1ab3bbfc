// The steps `uses:` can name. Built-in steps register here; a team can add its own through
// `StepRegistry.register` when it embeds the engine.
import type { StepDefinition } from './define.js';
import { runStep } from './run/index.js';
import { codedeployStep } from './codedeploy/index.js';
import { codepipelineStep } from './codepipeline/index.js';
import { approvalStep } from './approval/index.js';
import { slackNotifyStep } from './slack-notify/index.js';
import { qualityGateStep } from './quality-gate/index.js';
import { imageStep } from './image/index.js';
import { pluginSteps } from '../plugins.js';

export class StepRegistry {
  readonly #steps = new Map<string, StepDefinition>();

  constructor(steps: Iterable<StepDefinition> = []) {
    for (const step of steps) this.register(step);
  }

  register(step: StepDefinition): this {
    if (this.#steps.has(step.name)) throw new Error(`step "${step.name}" is registered twice`);
    this.#steps.set(step.name, step);
    return this;
  }

  get(name: string): StepDefinition | undefined {
    return this.#steps.get(name);
  }

  names(): string[] {
    return [...this.#steps.keys()].sort();
  }

  list(): StepDefinition[] {
    return this.names().map((name) => this.#steps.get(name)!);
  }
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
];

/** The built-in steps and those of the loaded plugins (see loadPlugins). */
export function defaultRegistry(): StepRegistry {
  return new StepRegistry([...builtinSteps, ...pluginSteps()]);
}

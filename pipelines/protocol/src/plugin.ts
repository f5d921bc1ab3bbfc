// The plugin contract: a package adds steps (and `shipgate` commands) without the engine knowing
// it. The CLI imports each plugin, and builds its step registry from what the plugins return.
import type { Command } from 'commander';
import type { CliIO } from './io.js';
import type { StepDefinition } from './step.js';
import type { StepRegistry } from './step-registry.js';

/** Adds commands to the `shipgate` program; `steps` holds the built-in and plugin steps. */
export type CommandRegistrar = (program: Command, io: CliIO, setExitCode: (code: number) => void, steps: StepRegistry) => void;

/** What a plugin module exports as `default` (or `plugin`). */
export interface ShipgatePlugin {
  name: string;
  steps?: readonly StepDefinition[];
  commands?: readonly CommandRegistrar[];
}

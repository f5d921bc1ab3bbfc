// @shipgate/cli: the `shipgate` command. It composes the built-in steps (core, aws, image,
// quality-gate, slack) and the installed plugins; the exporters live here too.
export { loadPlugins } from './cli/plugins.js';
export type { BundledPlugins } from './cli/plugins.js';
export { runCli } from './cli/program.js';
export { defaultRegistry } from './cli/steps.js';
export { exportGitHubWorkflow } from './export/index.js';

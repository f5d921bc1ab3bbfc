// jest globalSetup: prepares the template once for the whole run (before any worker starts) and
// hands its state to the workers through an environment variable.
import type { PreparedHarness } from '../harness.js';
import { prepareForRun } from '../runner/global-setup.js';
import { configFromJest, stateVariable } from './config.js';

declare global {
  var __shipgateTestHarness: PreparedHarness | undefined;
}

/** Prepares the run once (server, template) and hands its state to the workers. */
export default async function globalSetup(_globalConfig: unknown, projectConfig: { globals?: Record<string, unknown>; rootDir?: string }): Promise<void> {
  const prepared = await prepareForRun(configFromJest(projectConfig));
  globalThis.__shipgateTestHarness = prepared;
  process.env[stateVariable] = JSON.stringify(prepared.state);
}

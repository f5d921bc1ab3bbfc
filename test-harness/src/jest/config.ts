// Where the jest integration reads its configuration: `globals.shipgateTestHarness` in the jest
// config, overridden by SHIPGATE_TEST_* environment variables (so CI can switch the provider).
import type { HarnessConfig } from '../harness.js';

export const stateVariable = 'SHIPGATE_TEST_HARNESS_STATE';

export function configFromJest(projectConfig: { globals?: Record<string, unknown>; rootDir?: string } | undefined): HarnessConfig {
  const fromGlobals = (projectConfig?.globals?.shipgateTestHarness ?? {}) as HarnessConfig;
  return { cwd: projectConfig?.rootDir ?? process.cwd(), ...fromGlobals };
}

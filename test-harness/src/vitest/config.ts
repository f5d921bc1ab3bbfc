// For vitest.config.*: the global set-up and the harness config in one spread. Imports nothing of
// Vitest's runtime, so a config file can load it.
import { fileURLToPath } from 'node:url';
import type { HarnessConfig } from '../harness.js';

const globalSetupFile = fileURLToPath(new URL('./global-setup.js', import.meta.url));

/**
 * The `test` part of a vitest config: the global set-up plus the harness config.
 * `defineConfig({ test: { ...shipgateTestHarness({ migrations: 'db/migrations', seed: 'db/seed' }) } })`
 */
export function shipgateTestHarness(config: Omit<HarnessConfig, 'seed' | 'log'> & { seed?: string }): { globalSetup: string[]; provide: { shipgateTestHarness: HarnessConfig } } {
  return { globalSetup: [globalSetupFile], provide: { shipgateTestHarness: config } };
}

// What the harness passes through Vitest's provide / inject (types only).
import type { HarnessConfig, HarnessState } from '../harness.js';

declare module 'vitest' {
  interface ProvidedContext {
    /** The harness config, from `test.provide` in the vitest config (see shipgateTestHarness()). */
    shipgateTestHarness?: HarnessConfig;
    /** The run's harness state, provided by the global set-up. */
    shipgateTestHarnessState?: HarnessState;
  }
}

export {};

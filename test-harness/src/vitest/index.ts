// The per-test helper for Vitest: the same `useTestDatabase()` as for jest, bound to Vitest's
// hooks. The global set-up (`@shipgate/test-harness/vitest/global-setup`) prepares the template once
// per run and provides its state to every test file through Vitest's provide / inject.
import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest';
import type {} from './context.js';
import { bindTestDatabase, type TestDatabaseHandle, type UseTestDatabaseOptions } from '../runner/test-database.js';

export type { TestDatabaseHandle, UseTestDatabaseOptions } from '../runner/test-database.js';

export { shipgateTestHarness } from './config.js';

export function useTestDatabase(options: UseTestDatabaseOptions = {}): TestDatabaseHandle {
  return bindTestDatabase({ beforeAll, afterAll, beforeEach, afterEach }, () => inject('shipgateTestHarnessState'), options);
}

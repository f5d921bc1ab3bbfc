// The per-test helper for Vitest: the same `useTestDatabase()` as for jest, bound to Vitest's
// hooks. The global set-up (`@shipgate/test-harness/vitest/global-setup`) prepares the template once
// per run and provides its state to every test file through Vitest's provide / inject.
import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest';
import type {} from './context.js';
import { bindTestDatabase, type TestDatabaseHandle, type UseTestDatabaseOptions } from '../runner/test-database.js';

/** What useTestDatabase() returns: `client`, `url` and `name` of the current test's database. */
export type { TestDatabaseHandle } from '../runner/test-database.js';
/** useTestDatabase()'s options: `isolation`, or a whole harness config for a file without the global set-up. */
export type { UseTestDatabaseOptions } from '../runner/test-database.js';

/** The `test` part of a vitest config (also at `@shipgate/test-harness/vitest/config`, which loads no Vitest runtime). */
export { shipgateTestHarness } from './config.js';

/** A fresh database for each test of this file (or per file, or a rolled-back transaction: `isolation`). */
export function useTestDatabase(options: UseTestDatabaseOptions = {}): TestDatabaseHandle {
  return bindTestDatabase({ beforeAll, afterAll, beforeEach, afterEach }, () => inject('shipgateTestHarnessState'), options);
}

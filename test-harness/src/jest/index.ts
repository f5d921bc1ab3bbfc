// The per-test helper for jest: `const db = useTestDatabase()` at the top of a test file, then
// `db.client` and `db.url` inside tests (see ../runner/test-database.ts). The global set-up leaves
// the run's state in an environment variable.
import { afterAll, afterEach, beforeAll, beforeEach } from '@jest/globals';
import type { HarnessState } from '../harness.js';
import { bindTestDatabase, type TestDatabaseHandle, type UseTestDatabaseOptions } from '../runner/test-database.js';
import { stateVariable } from './config.js';

/** What useTestDatabase() returns: `client`, `url` and `name` of the current test's database. */
export type { TestDatabaseHandle } from '../runner/test-database.js';
/** useTestDatabase()'s options: `isolation`, or a whole harness config for a file without the preset. */
export type { UseTestDatabaseOptions } from '../runner/test-database.js';

function runState(): HarnessState | undefined {
  const raw = process.env[stateVariable];
  return raw ? (JSON.parse(raw) as HarnessState) : undefined;
}

/** A fresh database for each test of this file (or per file, or a rolled-back transaction: `isolation`). */
export function useTestDatabase(options: UseTestDatabaseOptions = {}): TestDatabaseHandle {
  return bindTestDatabase({ beforeAll, afterAll, beforeEach, afterEach }, runState, options);
}

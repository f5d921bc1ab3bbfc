// @shipgate/test-harness — a fresh, migrated, seeded database for every test (see README.md).
// The core API, for runners without a preset (node:test, scripts) and for other packages' tests.
// It is deliberately small: everything else in src/ is internal and may change.

/** Starts or reaches the server and builds or reuses the template, once per run; `stop()` ends it. */
export { prepareHarness } from './harness.js';
/** Opens a prepared run's state in a worker or test file; `acquire()` hands out a fresh database. */
export { openHarness } from './harness.js';
/** Where the postgres provider finds initdb and postgres (of `major`, when given); undefined when nowhere. */
export { findPostgresBinaries } from './providers/postgres.js';

/** The harness config: the keys of `globals.shipgateTestHarness` (README, Configuration). */
export type { HarnessConfig } from './harness.js';
/** What prepareHarness() leaves for the workers: plain JSON, passed on through the environment or `provide`. */
export type { HarnessState } from './harness.js';
/** The result of prepareHarness(): the run's `state` and its `stop()`. */
export type { PreparedHarness } from './harness.js';
/** The result of openHarness(): `acquire()` a fresh database, `close()` when done. */
export type { Harness } from './harness.js';
/** A database a test got: `client`, `url` (server providers), `name`, and `release()`. */
export type { TestDatabase } from './harness.js';
/** `pglite`, `postgres`, `testcontainers` or `url`. */
export type { ProviderName } from './harness.js';
/** `test`, `file` or `transaction` (README, Isolation). */
export type { Isolation } from './harness.js';
/** The client every database comes with, node-postgres or PGlite behind one interface: `query(sql, params)`, `exec(script)`. */
export type { SqlClient } from './sql/client.js';
/** The rows (and count) of a `SqlClient.query()`. */
export type { QueryResult } from './sql/client.js';
/** A seed given as a function: `async (client) => { … }` (with `seedKey` naming what it depends on). */
export type { SeedFunction } from './migrations/seed.js';

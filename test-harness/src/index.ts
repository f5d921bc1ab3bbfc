// @shipgate/test-harness — a fresh, migrated, seeded database for every test (see README.md).
export { prepareHarness, openHarness, resolveConfig, providers, isolations } from './harness.js';
export type { HarnessConfig, HarnessState, Harness, PreparedHarness, TestDatabase, ProviderName, Isolation } from './harness.js';
export { discoverMigrations, migrationsDigest } from './migrations/discover.js';
export { lineAndColumn } from './sql/lexer.js';
export type { Migration } from './migrations/discover.js';
export { applyMigrations, runScript } from './migrations/apply.js';
export { loadSeed, applySeed } from './migrations/seed.js';
export type { SeedFunction, SeedSource } from './migrations/seed.js';
export { PgSqlClient, PgliteSqlClient, ident, literal } from './sql/client.js';
export type { SqlClient, QueryResult } from './sql/client.js';
export { startPostgres, findPostgresBinaries } from './providers/postgres.js';
export { connectUrlServer, isClearlyTestServer, maskUrl } from './providers/url.js';
export { reap, ensureTemplate, ClonePool, listHarnessDatabases } from './providers/server.js';
export type { DatabaseServer } from './providers/server.js';

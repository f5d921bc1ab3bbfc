// Integration tests: every test gets a fresh database with db/migrations applied and db/seed
// loaded, thrown away afterwards (@shipgate/test-harness). The provider is pglite (in-process)
// unless SHIPGATE_TEST_PROVIDER says postgres, testcontainers or url.
/** @type {import('jest').Config} */
export default {
  preset: '@shipgate/test-harness/jest',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }] },
  globals: { shipgateTestHarness: { migrations: 'db/migrations', seed: 'db/seed' } },
  testTimeout: 30_000,
};

// One jest run for the whole workspace. TypeScript is transpiled by ts-jest (isolated modules:
// type-checking is `npm run typecheck`'s job, so tests start fast). ESM throughout, hence
// `--experimental-vm-modules` in the `test:jest` script.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/test', '<rootDir>/pipelines', '<rootDir>/test-harness', '<rootDir>/bolt-app', '<rootDir>/actions', '<rootDir>/examples'],
  testMatch: ['**/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/examples/.*/test/integration/'],
  modulePathIgnorePatterns: ['<rootDir>/.*/dist/', '<rootDir>/.tools/'],
  moduleNameMapper: {
    '^@shipgate/protocol$': '<rootDir>/pipelines/protocol/src/index.ts',
    '^@shipgate/core$': '<rootDir>/pipelines/core/src/index.ts',
    '^@shipgate/aws$': '<rootDir>/pipelines/aws/src/index.ts',
    '^@shipgate/image$': '<rootDir>/pipelines/image/src/index.ts',
    '^@shipgate/quality-gate$': '<rootDir>/pipelines/quality-gate/src/index.ts',
    '^@shipgate/slack$': '<rootDir>/pipelines/slack/src/index.ts',
    '^@shipgate/verify$': '<rootDir>/pipelines/verify/src/index.ts',
    '^@shipgate/cli$': '<rootDir>/pipelines/cli/src/index.ts',
    '^@shipgate/danger$': '<rootDir>/pipelines/danger/src/index.ts',
    '^@shipgate/test-harness$': '<rootDir>/test-harness/src/index.ts',
    '^@shipgate/test-harness/jest$': '<rootDir>/test-harness/src/jest/index.ts',
    '^@shipgate/test-harness/plugin$': '<rootDir>/test-harness/src/plugin.ts',
    '^@shipgate/bolt-app$': '<rootDir>/bolt-app/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.tests.json', diagnostics: false }],
  },
  testTimeout: 60000,
  // after everything: no server, cluster folder or container of the test harness left that the next run would not reap
  globalTeardown: '<rootDir>/test-harness/test/leftovers.ts',
};

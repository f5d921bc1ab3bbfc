// actions/db-test: runs a command against a fresh, migrated, seeded database thrown away afterwards.
import type { StepDefinition } from '@shipgate/protocol';
import { forwardTo, type ActionSpec } from './door.js';

export default {
  name: 'db-test',
  inputs: { command: 'string', migrations: 'string', migrate: 'string', inputs: 'lines', seed: 'string', provider: 'string', url: 'secret', engine: 'string', 'postgres-version': 'string' },
  workingDirectoryInput: 'working-directory',
  step: forwardTo(async () => (await import('@shipgate/test-harness/plugin')).dbTestStep as unknown as StepDefinition),
} satisfies ActionSpec;

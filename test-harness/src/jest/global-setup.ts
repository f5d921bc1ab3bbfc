// jest globalSetup: prepares the template once for the whole run (before any worker starts) and
// hands its state to the workers through an environment variable.
import { errorMessage, isShipgateError } from '@shipgate/pipelines/errors';
import { prepareHarness, type PreparedHarness } from '../harness.js';
import { configFromJest, stateVariable } from './config.js';

declare global {
  var __shipgateTestHarness: PreparedHarness | undefined;
}

export default async function globalSetup(_globalConfig: unknown, projectConfig: { globals?: Record<string, unknown>; rootDir?: string }): Promise<void> {
  const started = performance.now();
  const config = configFromJest(projectConfig);
  const log = (line: string) => process.stderr.write(`shipgate test-harness: ${line}\n`);
  try {
    const prepared = await prepareHarness({ ...config, log });
    globalThis.__shipgateTestHarness = prepared;
    process.env[stateVariable] = JSON.stringify(prepared.state);
    log(`${prepared.state.provider}: template ${prepared.state.built ? 'built' : 'reused'} in ${Math.round(performance.now() - started)} ms (isolation: ${prepared.state.isolation})`);
  } catch (error) {
    // a user's mistake (a failing migration) is one clear message, not a stack trace
    if (isShipgateError(error)) {
      const clean = new Error(errorMessage(error));
      clean.stack = clean.message;
      throw clean;
    }
    throw error;
  }
}

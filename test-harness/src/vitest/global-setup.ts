// Vitest globalSetup: prepares the template once for the whole run (before any test file runs),
// provides its state to the test files, and returns the tear-down that stops what it started.
import { errorMessage, isShipgateError } from '@shipgate/pipelines/errors';
import type { TestProject } from 'vitest/node';
import { prepareHarness } from '../harness.js';
import type {} from './context.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = performance.now();
  const log = (line: string) => process.stderr.write(`shipgate test-harness: ${line}\n`);
  const config = project.config.provide?.shipgateTestHarness ?? {};
  try {
    const prepared = await prepareHarness({ cwd: project.config.root, ...config, log });
    project.provide('shipgateTestHarnessState', prepared.state);
    log(`${prepared.state.provider}: template ${prepared.state.built ? 'built' : 'reused'} in ${Math.round(performance.now() - started)} ms (isolation: ${prepared.state.isolation})`);
    return () => prepared.stop();
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

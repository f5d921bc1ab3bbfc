// Vitest globalSetup: prepares the template once for the whole run (before any test file runs),
// provides its state to the test files, and returns the tear-down that stops what it started.
import type { TestProject } from 'vitest/node';
import { prepareForRun } from '../runner/global-setup.js';
import type {} from './context.js';

/** Prepares the run once, provides its state to the test files, and returns the tear-down. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const config = project.config.provide?.shipgateTestHarness ?? {};
  const prepared = await prepareForRun({ cwd: project.config.root, ...config });
  project.provide('shipgateTestHarnessState', prepared.state);
  return () => prepared.stop();
}

// `preset: '@shipgate/test-harness/jest'`: the global set-up and tear-down of the harness.
import { fileURLToPath } from 'node:url';

/** The preset: the harness's global set-up and tear-down (any other jest option stays the project's). */
export default {
  globalSetup: fileURLToPath(new URL('./global-setup.js', import.meta.url)),
  globalTeardown: fileURLToPath(new URL('./global-teardown.js', import.meta.url)),
};

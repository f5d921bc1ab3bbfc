// What the jest and vitest global set-ups share: prepare the template once for the whole run,
// say how long it took, and turn a user's mistake (a failing migration) into one clear message
// instead of a stack trace.
import { errorMessage, isShipgateError } from '@shipgate/protocol';
import { prepareHarness, type HarnessConfig, type PreparedHarness } from '../harness.js';

export async function prepareForRun(config: Omit<HarnessConfig, 'log'>): Promise<PreparedHarness> {
  const started = performance.now();
  const log = (line: string) => process.stderr.write(`shipgate test-harness: ${line}\n`);
  try {
    const prepared = await prepareHarness({ ...config, log });
    log(`${prepared.state.provider}: template ${prepared.state.built ? 'built' : 'reused'} in ${Math.round(performance.now() - started)} ms (isolation: ${prepared.state.isolation})`);
    return prepared;
  } catch (error) {
    if (isShipgateError(error)) {
      const clean = new Error(errorMessage(error));
      clean.stack = clean.message;
      throw clean;
    }
    throw error;
  }
}

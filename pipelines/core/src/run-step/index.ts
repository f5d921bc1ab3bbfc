// `run:` — a shell script. The built-in step every pipeline starts with; written through the same
// defineStep API as every other step.
import * as z from 'zod';
import { defineStep } from '@shipgate/protocol';
import { ShipgateError, ExitCode } from '@shipgate/protocol';

export const runInputs = z.strictObject({
  script: z.string().min(1).describe('The shell script to run (bash -eo pipefail where bash exists).'),
});

export const runStep = defineStep({
  name: 'run',
  description: 'Runs a shell script; lines written to $SHIPGATE_OUTPUT as name=value become outputs.',
  inputs: runInputs,
  async run({ inputs, process, cwd }) {
    const result = await process.shell(inputs.script, { cwd });
    if (result.killed) return; // the engine reports the timeout or cancellation itself
    if (result.exitCode !== 0) {
      throw new ShipgateError('step.exit-code', `script exited with code ${result.exitCode ?? result.signal}`, {
        exitCode: ExitCode.failed,
        hint: 'see the step log above for its output',
      });
    }
  },
});

// actions/run: a whole shipgate pipeline (shipgate.yml, through the shipgate CLI), one shell
// script (the `run` step), or any one step by name (`uses` + `with`).
import { addBundledPlugin, defaultRegistry, defineStep, loadPlugins, runCli, ShipgateError, type StepDefinition } from '@shipgate/pipelines';
import { z } from 'zod';
import type { ActionSpec } from './door.js';

/** `shipgate run` as a step, so the door reports it like any other. */
const pipelineStep = defineStep({
  name: 'pipeline',
  description: 'Runs shipgate.yml with the shipgate CLI.',
  inputs: z.strictObject({ file: z.string().optional(), only: z.string().optional(), from: z.string().optional(), 'keep-going': z.boolean().optional() }),
  outputs: { 'exit-code': 'the shipgate CLI exit code', report: 'path of the run report (.shipgate/report.json)' },
  async run(ctx) {
    const args = ['-C', ctx.cwd, ...(ctx.inputs.file ? ['-f', ctx.inputs.file] : []), 'run'];
    if (ctx.inputs.only) args.push('--only', ctx.inputs.only);
    if (ctx.inputs.from) args.push('--from', ctx.inputs.from);
    if (ctx.inputs['keep-going']) args.push('--keep-going');
    const code = await runCli(args, { stdout: process.stdout, stderr: process.stderr, cwd: ctx.cwd, env: ctx.env, isTTY: false, signal: ctx.signal });
    ctx.setOutput('exit-code', String(code));
    ctx.setOutput('report', '.shipgate/report.json');
    if (code !== 0) throw new ShipgateError('pipeline.failed', `shipgate run exited with code ${code}`, { exitCode: 1, hint: 'see the failed steps in the log and the job summary above' });
  },
});

export default {
  name: 'run',
  inputs: { script: 'string', uses: 'string', with: 'json', file: 'string', only: 'string', from: 'string', 'keep-going': 'boolean' },
  workingDirectoryInput: 'working-directory',
  async step(inputs) {
    // The bundle has no node_modules: give the CLI and the registry the plugin compiled in.
    const harness = await import('@shipgate/test-harness/plugin');
    addBundledPlugin('@shipgate/test-harness/plugin', harness.default);
    await loadPlugins({});
    const { script, uses, with: given, ...pipeline } = inputs;
    if (script !== undefined && uses !== undefined) {
      throw new ShipgateError('action.input', 'give script or uses, not both', { hint: 'script runs a shell script; uses runs one step with the inputs in with' });
    }
    if (script !== undefined) return { step: defaultRegistry().get('run') as StepDefinition, with: { script } };
    if (uses !== undefined) {
      const registry = defaultRegistry();
      const step = registry.get(String(uses));
      if (!step) throw new ShipgateError('action.input', `input uses: no step named "${String(uses)}"`, { hint: `known steps: ${registry.names().join(', ')}` });
      if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) {
        throw new ShipgateError('action.input', 'input with must be a JSON object of the step\'s inputs', { hint: 'e.g. with: \'{"command": "npm test"}\'' });
      }
      return { step, with: (given ?? {}) as Record<string, unknown> };
    }
    return { step: pipelineStep as unknown as StepDefinition, with: pipeline };
  },
} satisfies ActionSpec;

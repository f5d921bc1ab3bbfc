// actions/run: a whole shipgate pipeline (shipgate.yml, through the shipgate CLI), one shell
// script (the `run` step), or any one step by name (`uses` + `with`).
import { addBundledPlugin, defaultRegistry, defineStep, loadPlugins, runCli, ShipgateError, type StepDefinition } from '@shipgate/pipelines';
import { z } from 'zod';
import type { ActionSpec } from './door.js';

/** The job of an exported workflow: `only` names one step (or matrix instance), `needs` / `matrix` are GitHub's contexts. */
function isExportedJob(inputs: { needs?: string | undefined; matrix?: string | undefined }): boolean {
  return inputs.needs !== undefined || inputs.matrix !== undefined;
}

/** The CLI arguments: `shipgate run` for a pipeline, `shipgate step` for one job of an exported workflow. */
export function cliArguments(cwd: string, inputs: { file?: string | undefined; only?: string | undefined; from?: string | undefined; 'keep-going'?: boolean | undefined; needs?: string | undefined; matrix?: string | undefined }): string[] {
  const global = ['-C', cwd, ...(inputs.file ? ['-f', inputs.file] : [])];
  if (!isExportedJob(inputs)) {
    const args = [...global, 'run'];
    if (inputs.only) args.push('--only', inputs.only);
    if (inputs.from) args.push('--from', inputs.from);
    if (inputs['keep-going']) args.push('--keep-going');
    return args;
  }
  // one invocation, as `shipgate export github` writes it: the matrix instance GitHub picked and
  // the upstream outputs GitHub hands over in `needs`
  if (!inputs.only || inputs.only.includes(',')) {
    throw new ShipgateError('action.input', 'with needs or matrix, input only must name one step', { hint: 'e.g. only: build, needs: ${{ toJSON(needs) }}, matrix: ${{ toJSON(matrix) }}' });
  }
  if (inputs.from || inputs['keep-going']) throw new ShipgateError('action.input', 'from and keep-going run a pipeline; with needs or matrix one step runs', { hint: 'leave out needs and matrix to run the pipeline' });
  return [...global, 'step', inputs.only, ...(inputs.matrix ? ['--matrix', inputs.matrix] : []), ...(inputs.needs ? ['--needs', inputs.needs] : [])];
}

/** `shipgate run` (or `shipgate step`) as a step, so the door reports it like any other. */
const pipelineStep = defineStep({
  name: 'pipeline',
  description: 'Runs shipgate.yml with the shipgate CLI.',
  inputs: z.strictObject({
    file: z.string().optional(),
    only: z.string().optional(),
    from: z.string().optional(),
    'keep-going': z.boolean().optional(),
    needs: z.string().optional(),
    matrix: z.string().optional(),
  }),
  outputs: { 'exit-code': 'the shipgate CLI exit code', report: 'path of the run report (.shipgate/report.json)' },
  async run(ctx) {
    const args = cliArguments(ctx.cwd, ctx.inputs);
    const code = await runCli(args, { stdout: process.stdout, stderr: process.stderr, cwd: ctx.cwd, env: ctx.env, isTTY: false, signal: ctx.signal });
    ctx.setOutput('exit-code', String(code));
    const oneStep = isExportedJob(ctx.inputs);
    if (!oneStep) ctx.setOutput('report', '.shipgate/report.json');
    if (code !== 0) {
      throw new ShipgateError('pipeline.failed', `shipgate ${oneStep ? `step ${ctx.inputs.only ?? ''}` : 'run'} exited with code ${code}`, { exitCode: 1, hint: 'see the failed steps in the log and the job summary above' });
    }
  },
});

export default {
  name: 'run',
  inputs: { script: 'string', uses: 'string', with: 'json', file: 'string', only: 'string', from: 'string', 'keep-going': 'boolean', needs: 'string', matrix: 'string' },
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

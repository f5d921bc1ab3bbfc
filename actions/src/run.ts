// actions/run: a whole shipgate pipeline (shipgate.yml, through the shipgate CLI), one shell
// script (the `run` step), or any one step by name (`uses` + `with`).
import { defaultRegistry, loadPlugins, runCli, type BundledPlugins } from '@shipgate/cli';
import { defineStep, ShipgateError, type StepDefinition } from '@shipgate/protocol';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import type { ActionSpec } from './door.js';

/** The bundle has no node_modules: the CLI and the registry get the plugin compiled in. */
export async function bundledPlugins(): Promise<BundledPlugins> {
  const harness = await import('@shipgate/test-harness/plugin');
  return { '@shipgate/test-harness/plugin': harness.default };
}

/** The job of an exported workflow: `only` names one step (or matrix instance), `needs` / `matrix` are GitHub's contexts. */
function isExportedJob(inputs: { needs?: string | undefined; matrix?: string | undefined }): boolean {
  return inputs.needs !== undefined || inputs.matrix !== undefined;
}

type PipelineInputs = {
  file?: string | undefined;
  only?: string | undefined;
  from?: string | undefined;
  'keep-going'?: boolean | undefined;
  needs?: string | undefined;
  matrix?: string | undefined;
  'report-dir'?: string | undefined;
  'merge-reports'?: string | undefined;
};

/** The CLI arguments: `shipgate run` for a pipeline, `shipgate step` for one job of an exported workflow, `shipgate report` to merge run reports. */
export function cliArguments(cwd: string, inputs: PipelineInputs): string[] {
  const global = ['-C', cwd, ...(inputs.file ? ['-f', inputs.file] : [])];
  const reportDir = inputs['report-dir'] ? ['--report-dir', inputs['report-dir']] : [];
  if (inputs['merge-reports'] !== undefined) {
    // the gathering job of an exported workflow: every job's report directory, one page
    if (isExportedJob(inputs) || inputs.only || inputs.from || inputs['keep-going'] || inputs.file) {
      throw new ShipgateError('action.input', 'merge-reports merges reports that exist; it runs no step', { hint: 'give merge-reports (and report-dir for where report.html goes) alone' });
    }
    return ['report', path.resolve(cwd, inputs['merge-reports']), '-o', path.resolve(cwd, inputs['report-dir'] ?? inputs['merge-reports'])];
  }
  if (!isExportedJob(inputs)) {
    const args = [...global, 'run'];
    if (inputs.only) args.push('--only', inputs.only);
    if (inputs.from) args.push('--from', inputs.from);
    if (inputs['keep-going']) args.push('--keep-going');
    return [...args, ...reportDir];
  }
  // one invocation, as `shipgate export github` writes it: the matrix instance GitHub picked and
  // the upstream outputs GitHub hands over in `needs`
  if (!inputs.only || inputs.only.includes(',')) {
    throw new ShipgateError('action.input', 'with needs or matrix, input only must name one step', { hint: 'e.g. only: build, needs: ${{ toJSON(needs) }}, matrix: ${{ toJSON(matrix) }}' });
  }
  if (inputs.from || inputs['keep-going']) throw new ShipgateError('action.input', 'from and keep-going run a pipeline; with needs or matrix one step runs', { hint: 'leave out needs and matrix to run the pipeline' });
  return [...global, 'step', inputs.only, ...(inputs.matrix ? ['--matrix', inputs.matrix] : []), ...(inputs.needs ? ['--needs', inputs.needs] : []), ...reportDir];
}

/** Whether a directory holds a run report, itself or in a subdirectory (as download-artifact lays out one artifact per job). */
export function holdsRunReports(dir: string): boolean {
  if (existsSync(path.join(dir, 'report.json'))) return true;
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory() && existsSync(path.join(dir, e.name, 'report.json')));
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
    'report-dir': z.string().optional(),
    'merge-reports': z.string().optional(),
  }),
  outputs: { 'exit-code': 'the shipgate CLI exit code', report: 'path of the run report (.shipgate/report.json, or in report-dir); with merge-reports, of the merged report.html' },
  async run(ctx) {
    const merging = ctx.inputs['merge-reports'];
    if (merging !== undefined && !holdsRunReports(path.resolve(ctx.cwd, merging))) {
      // no job got far enough to leave a report (all skipped, or failed before their step): say so, fail nothing
      ctx.logger.warn(`merge-reports: no report.json in ${merging} or its subdirectories; no report.html written`);
      ctx.setOutput('exit-code', '0');
      return;
    }
    const args = cliArguments(ctx.cwd, ctx.inputs);
    const code = await runCli(args, { stdout: process.stdout, stderr: process.stderr, cwd: ctx.cwd, env: ctx.env, isTTY: false, signal: ctx.signal }, { bundledPlugins: await bundledPlugins() });
    ctx.setOutput('exit-code', String(code));
    const oneStep = isExportedJob(ctx.inputs);
    const reportDir = ctx.inputs['report-dir'];
    if (merging !== undefined) {
      if (code === 0) {
        const html = path.join(reportDir ?? merging, 'report.html');
        ctx.setOutput('report', html);
        ctx.summary(`Merged run report of every job: \`${html}\``);
      }
    } else if (!oneStep || reportDir) ctx.setOutput('report', reportDir ? path.join(reportDir, 'report.json') : '.shipgate/report.json');
    if (code !== 0) {
      throw new ShipgateError('pipeline.failed', `shipgate ${merging !== undefined ? 'report' : oneStep ? `step ${ctx.inputs.only ?? ''}` : 'run'} exited with code ${code}`, { exitCode: 1, hint: 'see the failed steps in the log and the job summary above' });
    }
  },
});

export default {
  name: 'run',
  inputs: { script: 'string', uses: 'string', with: 'json', file: 'string', only: 'string', from: 'string', 'keep-going': 'boolean', needs: 'string', matrix: 'string', 'report-dir': 'string', 'merge-reports': 'string' },
  workingDirectoryInput: 'working-directory',
  async step(inputs) {
    const plugins = await loadPlugins({}, process.cwd(), await bundledPlugins());
    const { script, uses, with: given, ...pipeline } = inputs;
    if (script !== undefined && uses !== undefined) {
      throw new ShipgateError('action.input', 'give script or uses, not both', { hint: 'script runs a shell script; uses runs one step with the inputs in with' });
    }
    if (script !== undefined) return { step: defaultRegistry(plugins).get('run') as StepDefinition, with: { script } };
    if (uses !== undefined) {
      const registry = defaultRegistry(plugins);
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

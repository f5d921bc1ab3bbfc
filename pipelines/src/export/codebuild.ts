// `shipgate export codebuild`: the pipeline as one CodeBuild batch buildspec. Every invocation (a
// matrix instance each) is a task of a `batch: build-graph:` with `depend-on` from `needs`; every
// task runs this same buildspec, whose one command is `npx shipgate step "$SHIPGATE_STEP"` with the
// task's own SHIPGATE_STEP. What a build graph cannot express is refused, not silently dropped.
import { stringify } from 'yaml';
import type { PipelineSpec } from '../config/model.js';
import { expandMatrix, invocationId } from '../engine/matrix.js';
import { ShipgateError } from '../errors.js';
import { defaultInstallCommands } from '../executors/codebuild-request.js';
import { stepReads } from './expressions.js';
import { generatedHeader, shellWord, type ExportResult } from './common.js';

export interface CodeBuildExportOptions {
  /** Path of the written buildspec inside the repository, which every task runs. Default `buildspec.yml`. */
  buildspecPath?: string | undefined;
  /** Commands before the step. Default `npm ci --no-audit --no-fund`. */
  install?: readonly string[] | undefined;
  /** The directory of shipgate.yml inside the repository. Default `.`. */
  sourceDirectory?: string | undefined;
}

/** The variable that tells a task which invocation it runs. */
export const stepVariable = 'SHIPGATE_STEP';

/** A build-graph identifier: letters, digits and _ (`build[target=api]` → `build_target_api`). */
export function graphIdentifier(id: string): string {
  return id.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}

export function exportCodeBuildBuildspec(spec: PipelineSpec, options: CodeBuildExportOptions = {}): ExportResult {
  const warnings: string[] = [];
  const taken = new Set<string>();
  const idsOf = new Map<string, string[]>();
  const tasks: Array<Record<string, unknown>> = [];
  const dir = options.sourceDirectory && options.sourceDirectory !== '.' ? options.sourceDirectory : '.';
  const fileName = spec.file.split(/[\\/]/).pop()!;

  for (const step of spec.steps) {
    // build-graph tasks share no outputs and have no conditions: refuse rather than run wrongly
    const read = stepReads(step);
    if (read.outputsOf.size || read.outcomeOf.size) {
      throw new ShipgateError('export.unsupported', `step "${step.id}" reads steps.${[...read.outputsOf.keys(), ...read.outcomeOf][0]}, but tasks of a CodeBuild batch cannot pass outputs to each other`, {
        hint: 'run the pipeline with `executor: codebuild:<project>` instead (it passes outputs), or export it to GitHub Actions',
      });
    }
    if (step.if !== undefined) {
      throw new ShipgateError('export.unsupported', `step "${step.id}" has if:, which a CodeBuild build graph cannot evaluate`, {
        hint: 'run the pipeline with `executor: codebuild:<project>` instead, or export it to GitHub Actions',
      });
    }
    if (step.retries > 0) warnings.push(`step "${step.id}": retries are not exported (retry the batch's failed builds in CodeBuild)`);
    if (step.matrix?.maxParallel) warnings.push(`step "${step.id}": matrix max-parallel is not exported (the batch's own limits apply)`);

    const config = step.executor ? spec.executors?.[step.executor] : undefined;
    const combos = step.matrix ? expandMatrix(step.matrix) : [undefined];
    const ids: string[] = [];
    for (const combo of combos) {
      const invocation = invocationId(step.id, combo);
      let identifier = graphIdentifier(invocation);
      for (let n = 2; taken.has(identifier); n += 1) identifier = `${graphIdentifier(invocation)}_${n}`;
      taken.add(identifier);
      ids.push(identifier);
      const dependOn = step.needs.flatMap((need) => idsOf.get(need) ?? []);
      tasks.push({
        identifier,
        buildspec: options.buildspecPath ?? 'buildspec.yml',
        ...(dependOn.length ? { 'depend-on': dependOn } : {}),
        env: {
          ...(config?.kind === 'codebuild' && config.computeType ? { 'compute-type': config.computeType } : {}),
          ...(config?.kind === 'codebuild' && config.image ? { image: config.image } : {}),
          variables: { [stepVariable]: invocation },
        },
        ...(step.continueOnError ? { 'ignore-failure': true } : {}),
      });
    }
    idsOf.set(step.id, ids);
  }

  const global = [dir !== '.' ? `-C ${shellWord(dir)}` : '', fileName === 'shipgate.yml' || fileName === 'shipgate.yaml' ? '' : `-f ${shellWord(fileName)}`].filter(Boolean).join(' ');
  const install = options.install ?? defaultInstallCommands;
  const buildspec = {
    version: 0.2,
    env: { shell: 'bash' },
    // fail-fast as `shipgate run`: the first failed task stops the running ones (continue-on-error tasks ignore-failure)
    batch: { 'fast-fail': true, 'build-graph': tasks },
    phases: {
      ...(install.length ? { install: { commands: [...install] } } : {}),
      build: { commands: [`npx shipgate ${global ? `${global} ` : ''}step "\${${stepVariable}:?start this buildspec as a batch build}"`] },
    },
  };
  return { text: generatedHeader('codebuild') + stringify(buildspec, { lineWidth: 0 }), warnings };
}

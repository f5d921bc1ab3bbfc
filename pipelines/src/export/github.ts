// `shipgate export github`: the pipeline as a GitHub Actions workflow. One job per step, `needs`
// as in shipgate.yml, a matrix step as `strategy.matrix` (GitHub's matrix rules are shipgate's),
// outputs between jobs as job outputs. A step that has a shipgate action runs through it
// (`uses: <owner>/<repo>/actions/<name>@<ref>`); every other step runs `npx shipgate step <id>`,
// which applies the step's env, working directory and matrix exactly as `shipgate run` would.
import { stringify } from 'yaml';
import type { PipelineSpec, StepSpec } from '../config/model.js';
import { secretNamePattern } from '../engine/secrets.js';
import { matrixEnvName } from '../engine/invocation.js';
import { ShipgateError } from '../errors.js';
import { stepReads, toGitHubCondition, toGitHubTemplate } from './expressions.js';
import { generatedHeader, shellWord, type ExportResult } from './common.js';

/**
 * Steps that have a shipgate action (actions/<name>/ in the shipgate repository). An action runs in
 * the repository root: one that reads files the step names (migrations, a coverage report) is only
 * used when shipgate.yml sits there too, or when the action takes the directory as an input.
 */
export const shipgateActions: Readonly<Record<string, { readsFiles: boolean; workingDirectoryInput?: string }>> = {
  'quality-gate': { readsFiles: true },
  image: { readsFiles: true },
  'db-test': { readsFiles: true, workingDirectoryInput: 'working-directory' },
  codedeploy: { readsFiles: true },
  codepipeline: { readsFiles: false },
  approval: { readsFiles: false },
  'slack-notify': { readsFiles: false },
};

export interface GitHubExportOptions {
  /** Where the shipgate actions live: `owner/repo@ref`. Default `shipgate/shipgate@v1`. */
  actionsRef?: string | undefined;
  /** Steps (by `uses:` name) to run through their action. Default: every one of `shipgateActions`. Empty: none. */
  actions?: readonly string[] | undefined;
  /** Default `ubuntu-latest`. */
  runsOn?: string | undefined;
  /** Default `24`. */
  nodeVersion?: string | undefined;
  /** Installs the repository's dependencies (shipgate among them). Default `npm ci`. */
  install?: string | undefined;
  /** The branch whose pushes run the workflow (pull requests always do). Default `main`. */
  branch?: string | undefined;
  /** The directory of shipgate.yml inside the repository. Default `.`. */
  sourceDirectory?: string | undefined;
}

const defaultActionsRef = 'shipgate/shipgate@v1';

function actionsBase(ref: string): { base: string; version: string } {
  const m = /^([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+)@([\w./-]+)$/.exec(ref.trim());
  if (!m) throw new ShipgateError('export.actions-ref', `--actions-ref "${ref}" is not owner/repo@ref`, { hint: `e.g. --actions-ref ${defaultActionsRef} or acme/shipgate@v1.4.0` });
  return { base: m[1]!, version: m[2]! };
}

/** A `with:` value as an action input: scalars as they are, lists and mappings as JSON text. */
function actionInput(value: unknown): string | number | boolean {
  if (typeof value === 'string') return toGitHubTemplate(value);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  return toGitHubTemplate(JSON.stringify(value));
}

export function exportGitHubWorkflow(spec: PipelineSpec, options: GitHubExportOptions = {}): ExportResult {
  const warnings: string[] = [];
  const { base, version } = actionsBase(options.actionsRef ?? defaultActionsRef);
  const withActions = new Set(options.actions ?? Object.keys(shipgateActions));
  const dir = options.sourceDirectory && options.sourceDirectory !== '.' ? options.sourceDirectory : '.';
  const fileName = spec.file.split(/[\\/]/).pop()!;
  const global = [dir !== '.' ? `-C ${shellWord(dir)}` : '', fileName === 'shipgate.yml' || fileName === 'shipgate.yaml' ? '' : `-f ${shellWord(fileName)}`].filter(Boolean).join(' ');

  // which outputs each step must expose as job outputs: the declared ones and any a later step reads
  const exposed = new Map<string, Set<string>>(spec.steps.map((s) => [s.id, new Set(s.outputs)]));
  const reads = new Map(spec.steps.map((s) => [s.id, stepReads(s)]));
  for (const r of reads.values()) for (const [id, names] of r.outputsOf) for (const n of names) exposed.get(id)?.add(n);
  const defined = new Set(Object.keys(spec.env));

  const jobs: Record<string, unknown> = {};
  for (const step of spec.steps) {
    const read = reads.get(step.id)!;
    // `needs.<id>` is only there for a job's direct needs: a step that reads an upstream step
    // further back lists it too (it already ran before, so nothing changes in the order)
    const needs = [...new Set([...step.needs, ...read.outputsOf.keys(), ...read.outcomeOf])];
    const outputs = [...exposed.get(step.id)!];
    // env the step takes from the machine: on GitHub it comes from the repository's secrets or variables
    const fromOutside = [...read.env].filter((name) => !defined.has(name) && (!(name in step.env) || step.env[name]!.includes(`env.${name}`))).sort();
    const jobEnv = Object.fromEntries(fromOutside.map((name) => [name, secretNamePattern.test(name) ? `\${{ secrets.${name} }}` : `\${{ vars.${name} }}`]));
    const action = shipgateActions[step.uses];
    const stepDir = [dir, step.workingDirectory].filter((d) => d && d !== '.').join('/') || '.';
    const useAction = withActions.has(step.uses) && action !== undefined && (stepDir === '.' || !action.readsFiles || action.workingDirectoryInput !== undefined);

    if (step.retries > 0) warnings.push(`step "${step.id}": retries are not exported (re-run the failed job on GitHub)`);
    if (step.executor && step.executor !== 'local') warnings.push(`step "${step.id}": runs on the GitHub runner, not on executor ${step.executor}`);

    const steps: unknown[] = [{ uses: 'actions/checkout@v4' }];
    if (useAction) {
      const env: Record<string, string> = {};
      for (const [k, v] of [...Object.entries(spec.env), ...Object.entries(step.env)]) env[k] = toGitHubTemplate(v);
      if (step.matrix) for (const axis of matrixAxes(step)) env[matrixEnvName(axis)] = `\${{ matrix.${axis} }}`;
      steps.push({
        id: 'shipgate',
        name: step.id,
        uses: `${base}/actions/${step.uses}@${version}`,
        ...(Object.keys(step.with).length || (stepDir !== '.' && action?.workingDirectoryInput)
          ? {
              with: {
                ...Object.fromEntries(Object.entries(step.with).map(([k, v]) => [k, actionInput(v)])),
                ...(stepDir !== '.' && action?.workingDirectoryInput ? { [action.workingDirectoryInput]: toGitHubTemplate(stepDir) } : {}),
              },
            }
          : {}),
        ...(Object.keys(env).length ? { env } : {}),
      });
    } else {
      steps.push(
        { uses: 'actions/setup-node@v4', with: { 'node-version': options.nodeVersion ?? '24', cache: 'npm' } },
        { name: 'Install', run: options.install ?? 'npm ci' },
        {
          id: 'shipgate',
          name: step.id,
          // values reach the shell through env, never pasted into the script
          run: ['npx shipgate', global, 'step', step.id, step.matrix ? '--matrix "$SHIPGATE_MATRIX"' : '', needs.length ? '--needs "$SHIPGATE_NEEDS"' : ''].filter(Boolean).join(' '),
          ...(step.matrix || needs.length
            ? { env: { ...(step.matrix ? { SHIPGATE_MATRIX: '${{ toJSON(matrix) }}' } : {}), ...(needs.length ? { SHIPGATE_NEEDS: '${{ toJSON(needs) }}' } : {}) } }
            : {}),
        },
      );
    }

    jobs[step.id] = {
      name: step.id,
      'runs-on': options.runsOn ?? 'ubuntu-latest',
      ...(needs.length ? { needs } : {}),
      ...(step.if !== undefined ? { if: toGitHubCondition(step.if) } : {}),
      ...(step.matrix ? { strategy: githubStrategy(step) } : {}),
      ...(step.timeoutMs !== undefined ? { 'timeout-minutes': Math.max(1, Math.ceil(step.timeoutMs / 60_000)) } : {}),
      ...(step.continueOnError ? { 'continue-on-error': true } : {}),
      ...(Object.keys(jobEnv).length ? { env: jobEnv } : {}),
      ...(outputs.length ? { outputs: Object.fromEntries(outputs.map((o) => [o, `\${{ steps.shipgate.outputs.${o} }}`])) } : {}),
      steps,
    };
  }

  const workflow = {
    name: spec.name,
    on: { push: { branches: [options.branch ?? 'main'] }, pull_request: {}, workflow_dispatch: {} },
    permissions: { contents: 'read' },
    jobs,
  };
  return { text: generatedHeader('github') + stringify(workflow, { lineWidth: 0, aliasDuplicateObjects: false }), warnings };
}

function matrixAxes(step: StepSpec): string[] {
  const m = step.matrix!;
  return [...new Set([...Object.keys(m.axes), ...m.include.flatMap((c) => Object.keys(c))])];
}

function githubStrategy(step: StepSpec): Record<string, unknown> {
  const m = step.matrix!;
  return {
    'fail-fast': !step.continueOnError,
    ...(m.maxParallel ? { 'max-parallel': m.maxParallel } : {}),
    matrix: {
      ...Object.fromEntries(Object.entries(m.axes).map(([k, v]) => [k, [...v]])),
      ...(m.include.length ? { include: m.include.map((c) => ({ ...c })) } : {}),
      ...(m.exclude.length ? { exclude: m.exclude.map((c) => ({ ...c })) } : {}),
    },
  };
}

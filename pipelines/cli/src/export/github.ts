// `shipgate export github`: the pipeline as a GitHub Actions workflow. One job per step, `needs`
// as in shipgate.yml, a matrix step as `strategy.matrix` (GitHub's matrix rules are shipgate's),
// outputs between jobs as job outputs. Every job runs its step through this repository's own
// action, `<action-repo>/actions/run@<ref>` with `only: <step>` (or, for a step that has an action
// of its own, that action): no job fetches a package by a name this project does not control.
// A job checks out, installs the dependencies once, downloads the files the steps it needs
// declared (`cache.outputs`, `artifacts:`), runs its step, and uploads its own declared files.
import { stringify } from 'yaml';
import type { PipelineSpec, StepSpec } from '@shipgate/core';
import { secretNamePattern } from '@shipgate/core';
import { matrixEnvName } from '@shipgate/core';
import { ShipgateError } from '@shipgate/protocol';
import { stepReads, toGitHubCondition, toGitHubTemplate } from './expressions.js';
import { actionSource, firstFreeName, generatedHeader, pipelineLocation, type ActionSource, type ExportResult } from './common.js';
import { fileFlow, installPlan, npmInstallFor, type FileFlow, type InstallPlan } from './files.js';

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

export interface GitHubExportOptions extends ActionSource {
  /** Steps (by `uses:` name) to run through their own action. Default: every one of `shipgateActions`. Empty: none. */
  actions?: readonly string[] | undefined;
  /** Default `ubuntu-latest`. */
  runsOn?: string | undefined;
  /** Default `24`. */
  nodeVersion?: string | undefined;
  /** Installs the repository's dependencies, once per job. Default: the pipeline's install step's script, else `npm ci` (`npm install` when the checkout has no lock file, none without a package.json); `''` for none. */
  install?: string | undefined;
  /** The branch whose pushes run the workflow (pull requests always do). Default `main`; the CLI passes the repository's default branch. */
  branch?: string | undefined;
  /** The directory of shipgate.yml inside the repository. Default `.`. */
  sourceDirectory?: string | undefined;
  /** Files a fresh checkout has, relative to shipgate.yml's directory (for the undeclared-files warning). */
  checkout?: readonly string[] | undefined;
}

/** GitHub's limit on a workflow file ("Actions limits": a larger file starts no runs). */
const maxWorkflowBytes = 500 * 1024;

/** The artifact a step's job uploads: one per matrix instance, so parallel instances never collide. */
function artifactName(step: StepSpec): string {
  return step.matrix ? `shipgate.${step.id}.\${{ strategy.job-index }}` : `shipgate.${step.id}`;
}

/** Where each job's run writes its report (relative to shipgate.yml's directory). */
export const jobReportDir = '.shipgate/report';
/** The prefix of every job's report artifact; the report job downloads them all by it. */
export const reportArtifactPrefix = 'shipgate-report-';
/** The merged report's artifact. */
export const mergedReportArtifact = 'shipgate-report';
/** Where the report job puts the downloaded reports (one directory per artifact) and the merged report.html. */
export const mergedReportDir = 'shipgate-reports';

/** A job's report artifact: one per matrix instance too (`.<index>`: step ids have no dots, so no two jobs share a name). */
function reportArtifactName(step: StepSpec): string {
  return `${reportArtifactPrefix}${step.id}${step.matrix ? '.${{ strategy.job-index }}' : ''}`;
}

/** A `with:` value as an action input: scalars as they are, lists and mappings as JSON text. */
function actionInput(value: unknown): string | number | boolean {
  if (typeof value === 'string') return toGitHubTemplate(value);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  return toGitHubTemplate(JSON.stringify(value));
}

function inDir(dir: string, relative: string): string {
  return dir === '.' ? relative : `${dir}/${relative}`;
}

/** What every job of the workflow depends on: the options, where the pipeline is, the install and the file flow. */
interface WorkflowPlan {
  spec: PipelineSpec;
  options: GitHubExportOptions;
  repo: string;
  ref: string;
  /** Steps (by `uses:`) that may run through their own action. */
  withActions: ReadonlySet<string>;
  dir: string;
  fileName: string;
  install: InstallPlan;
  flow: FileFlow;
  /** setup-node's npm cache settings (none without a lock file in the checkout). */
  npmCache: Record<string, string>;
  /** Step id → the outputs its job exposes. */
  exposed: ReadonlyMap<string, ReadonlySet<string>>;
  reads: ReadonlyMap<string, ReturnType<typeof stepReads>>;
}

function workflowPlan(spec: PipelineSpec, options: GitHubExportOptions): WorkflowPlan {
  const { repo, ref } = actionSource(options);
  const { dir, fileName } = pipelineLocation(spec, options.sourceDirectory);
  // the checkout is relative to shipgate.yml, the install runs at the repository's root: only the same place tells
  const install = installPlan(spec, options.install, npmInstallFor(dir === '.' ? options.checkout : undefined, 'npm ci'));
  const flow = fileFlow(spec, { install, checkout: options.checkout });
  // setup-node's npm cache fails the job when there is no lock file: only where the checkout has one
  const lockFile = ['package-lock.json', 'npm-shrinkwrap.json'].find((f) => options.checkout?.includes(f));
  const npmCache = /^npm\b/.test(install.command) && lockFile ? { cache: 'npm', ...(dir !== '.' ? { 'cache-dependency-path': inDir(dir, lockFile) } : {}) } : {};
  // which outputs each step must expose as job outputs: the declared ones and any a later step reads
  const exposed = new Map<string, Set<string>>(spec.steps.map((s) => [s.id, new Set(s.outputs)]));
  const reads = new Map(spec.steps.map((s) => [s.id, stepReads(s)]));
  for (const r of reads.values()) for (const [id, names] of r.outputsOf) for (const n of names) exposed.get(id)?.add(n);
  const withActions = new Set(options.actions ?? Object.keys(shipgateActions));
  return { spec, options, repo, ref, withActions, dir, fileName, install, flow, npmCache, exposed, reads };
}

/** How a step runs in its job: through its own action when that action can see the files it reads, else through actions/run. */
function jobRunner(step: StepSpec, plan: WorkflowPlan): { ownAction: boolean; readsFiles: boolean; stepDir: string } {
  const action = shipgateActions[step.uses];
  const stepDir = [plan.dir, step.workingDirectory].filter((d) => d && d !== '.').join('/') || '.';
  const ownAction = plan.withActions.has(step.uses) && action !== undefined && (stepDir === '.' || !action.readsFiles || action.workingDirectoryInput !== undefined);
  return { ownAction, readsFiles: !ownAction || action!.readsFiles, stepDir };
}

/** Env the step takes from the machine: on GitHub it comes from the repository's secrets or variables. */
function jobEnvironment(step: StepSpec, plan: WorkflowPlan): Record<string, string> {
  const defined = new Set(Object.keys(plan.spec.env));
  const read = plan.reads.get(step.id)!;
  const fromOutside = [...read.env].filter((name) => !defined.has(name) && (!(name in step.env) || step.env[name]!.includes(`env.${name}`))).sort();
  return Object.fromEntries(fromOutside.map((name) => [name, secretNamePattern.test(name) ? `\${{ secrets.${name} }}` : `\${{ vars.${name} }}`]));
}

/** Before the step: check out, and when it reads files, set up node, install once and download the files of the steps it needs. */
function setupSteps(step: StepSpec, plan: WorkflowPlan, readsFiles: boolean): unknown[] {
  const { install, dir } = plan;
  const steps: unknown[] = [{ uses: 'actions/checkout@v4' }];
  if (!readsFiles) return steps;
  if (install.command) {
    steps.push({ uses: 'actions/setup-node@v4', with: { 'node-version': plan.options.nodeVersion ?? '24', ...plan.npmCache } });
    // the install step's own job installs by running the step: once, not twice
    if (install.stepId !== step.id) steps.push({ name: 'Install', run: install.command });
  }
  for (const from of plan.flow.downloads.get(step.id) ?? []) {
    const producer = plan.spec.steps.find((s) => s.id === from)!;
    steps.push({
      name: `Files from ${from}`,
      uses: 'actions/download-artifact@v4',
      with: producer.matrix ? { pattern: `shipgate.${from}.*`, 'merge-multiple': true, path: dir } : { name: `shipgate.${from}`, path: dir },
    });
  }
  return steps;
}

/** The step through its own action (`<repo>/actions/<uses>@<ref>`): inputs as `with:`, env and matrix values as env. */
function ownActionStep(step: StepSpec, plan: WorkflowPlan, stepDir: string): unknown {
  const action = shipgateActions[step.uses];
  const env: Record<string, string> = {};
  for (const [k, v] of [...Object.entries(plan.spec.env), ...Object.entries(step.env)]) env[k] = toGitHubTemplate(v);
  if (step.matrix) for (const axis of matrixAxes(step)) env[matrixEnvName(axis)] = `\${{ matrix.${axis} }}`;
  const directoryInput = stepDir !== '.' ? action?.workingDirectoryInput : undefined;
  return {
    id: 'shipgate',
    name: step.id,
    uses: `${plan.repo}/actions/${step.uses}@${plan.ref}`,
    ...(Object.keys(step.with).length || directoryInput
      ? {
          with: {
            ...Object.fromEntries(Object.entries(step.with).map(([k, v]) => [k, actionInput(v)])),
            ...(directoryInput ? { [directoryInput]: toGitHubTemplate(stepDir) } : {}),
          },
        }
      : {}),
    ...(Object.keys(env).length ? { env } : {}),
  };
}

/** The step through actions/run (`only: <step>`), then its job's run report kept for the report job. */
function runActionSteps(step: StepSpec, plan: WorkflowPlan): unknown[] {
  const { dir, fileName } = plan;
  return [
    {
      id: 'shipgate',
      name: step.id,
      uses: `${plan.repo}/actions/run@${plan.ref}`,
      // `needs` makes the run action run this one step as `shipgate step` does: the matrix
      // instance GitHub picked, upstream outputs from the needs context, outputs to the job
      with: {
        only: step.id,
        needs: '${{ toJSON(needs) }}',
        ...(step.matrix ? { matrix: '${{ toJSON(matrix) }}' } : {}),
        // the job's part of the merged report: report.html, report.json, junit.xml, logs/
        'report-dir': jobReportDir,
        ...(dir !== '.' ? { 'working-directory': dir } : {}),
        ...(fileName === 'shipgate.yml' ? {} : { file: fileName }),
      },
    },
    {
      name: `Keep ${step.id}'s run report`,
      if: 'always()',
      uses: 'actions/upload-artifact@v4',
      with: { name: reportArtifactName(step), path: inDir(dir, jobReportDir), 'if-no-files-found': 'ignore', 'include-hidden-files': true },
    },
  ];
}

/** After the step: upload the files it declared that later jobs need. */
function keepFilesSteps(step: StepSpec, plan: WorkflowPlan): unknown[] {
  const upload = plan.flow.uploads.get(step.id);
  if (!upload) return [];
  return [
    {
      name: `Keep ${step.id}'s files for later jobs`,
      uses: 'actions/upload-artifact@v4',
      with: {
        name: artifactName(step),
        // shipgate.yml anchors the artifact's root at its directory: upload-artifact stores paths
        // relative to the common ancestor of what it is given, and download puts them back there
        path: [plan.fileName, ...upload].map((g) => inDir(plan.dir, g)).join('\n'),
        'include-hidden-files': true,
        'retention-days': 1,
      },
    },
  ];
}

/** The job of one step. */
function githubJob(step: StepSpec, plan: WorkflowPlan, warnings: string[]): Record<string, unknown> {
  const read = plan.reads.get(step.id)!;
  // `needs.<id>` is only there for a job's direct needs: a step that reads an upstream step
  // further back lists it too (it already ran before, so nothing changes in the order)
  const needs = [...new Set([...step.needs, ...read.outputsOf.keys(), ...read.outcomeOf])];
  const outputs = [...plan.exposed.get(step.id)!];
  const jobEnv = jobEnvironment(step, plan);
  const { ownAction, readsFiles, stepDir } = jobRunner(step, plan);
  if (step.retries > 0) warnings.push(`step "${step.id}": retries are not exported (re-run the failed job on GitHub)`);
  if (step.executor && step.executor !== 'local') warnings.push(`step "${step.id}": runs on the GitHub runner, not on executor ${step.executor}`);
  const steps = [...setupSteps(step, plan, readsFiles), ...(ownAction ? [ownActionStep(step, plan, stepDir)] : runActionSteps(step, plan)), ...keepFilesSteps(step, plan)];
  return {
    name: step.id,
    'runs-on': plan.options.runsOn ?? 'ubuntu-latest',
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

export function exportGitHubWorkflow(spec: PipelineSpec, options: GitHubExportOptions = {}): ExportResult {
  const warnings: string[] = [];
  const plan = workflowPlan(spec, options);
  const jobs: Record<string, unknown> = {};
  for (const step of spec.steps) jobs[step.id] = githubJob(step, plan, warnings);
  if (Object.keys(jobs).length) {
    const reportJob = firstFreeName('report', (id) => id in jobs, (n) => `shipgate-report${n === 2 ? '' : `-${n}`}`);
    jobs[reportJob] = gatheringJob(Object.keys(jobs), plan.repo, plan.ref, options.runsOn);
  }

  const workflow = {
    name: spec.name,
    on: { push: { branches: [options.branch ?? 'main'] }, pull_request: {}, workflow_dispatch: {} },
    permissions: { contents: 'read' },
    jobs,
  };
  const text = generatedHeader('github') + stringify(workflow, { lineWidth: 0, aliasDuplicateObjects: false });
  if (Buffer.byteLength(text) > maxWorkflowBytes) {
    throw new ShipgateError('export.too-large', `the workflow would be ${Math.ceil(Buffer.byteLength(text) / 1024)} KB; GitHub does not start a workflow file over 500 KB`, {
      hint: 'split the pipeline into several workflows, or run it in fewer jobs with actions/run in pipeline mode',
    });
  }
  return { text, warnings: [...warnings, ...plan.flow.warnings] };
}

/**
 * The job that gathers results: after every other job, whatever their results (`if: always()`), it
 * downloads each job's report artifact into a directory of its own, merges them with the run
 * action's bundled CLI (`merge-reports`, `shipgate report`) into one report.html — one waterfall of
 * the whole workflow — uploads that as `shipgate-report` and names it in the job summary.
 */
function gatheringJob(needs: readonly string[], repo: string, ref: string, runsOn: string | undefined): Record<string, unknown> {
  return {
    name: 'report',
    'runs-on': runsOn ?? 'ubuntu-latest',
    needs: [...needs],
    if: 'always()',
    steps: [
      {
        name: 'Run reports of every job',
        uses: 'actions/download-artifact@v4',
        with: { pattern: `${reportArtifactPrefix}*`, 'merge-multiple': false, path: mergedReportDir },
      },
      { id: 'merge', name: 'Merge them into one report.html', uses: `${repo}/actions/run@${ref}`, with: { 'merge-reports': mergedReportDir } },
      {
        id: 'upload',
        name: 'Keep the merged report',
        uses: 'actions/upload-artifact@v4',
        // the whole directory: report.html links each row to its log under <artifact>/logs/
        with: { name: mergedReportArtifact, path: mergedReportDir, 'if-no-files-found': 'ignore', 'include-hidden-files': true },
      },
      {
        name: 'Point the job summary at it',
        if: "steps.upload.outputs.artifact-url != ''",
        env: { REPORT_URL: '${{ steps.upload.outputs.artifact-url }}' },
        run: `echo "Waterfall of every job: report.html in the [${mergedReportArtifact}]($REPORT_URL) artifact" >> "$GITHUB_STEP_SUMMARY"`,
      },
    ],
  };
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

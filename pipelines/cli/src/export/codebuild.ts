// `shipgate export codebuild`: the pipeline as one CodeBuild batch buildspec. Every invocation (a
// matrix instance each) is a task of a `batch: build-graph:` with `depend-on` from `needs`; every
// task runs this same buildspec, which installs the dependencies once, fetches this repository's
// own runner (`<action-repo>` at `<ref>`: the committed actions bundle, whose shipgate.mjs is the
// whole CLI with nothing to install) and runs the task's SHIPGATE_STEP with it (`shipgate step`). Tasks share no disk: the files a step declares
// (`cache.outputs`, `artifacts:`) that later tasks need travel as one tarball per task under an S3
// prefix (`--artifacts s3://bucket/prefix`), keyed by the commit the batch builds. What a build
// graph cannot express is refused, not silently dropped.
import { stringify } from 'yaml';
import type { PipelineSpec, StepSpec } from '@shipgate/core';
import { expandMatrix, invocationId } from '@shipgate/core';
import { ShipgateError } from '@shipgate/protocol';
import { defaultInstallCommands } from '@shipgate/aws';
import { stepReads } from './expressions.js';
import { actionSource, firstFreeName, generatedHeader, pipelineLocation, shellWord, type ActionSource, type ExportResult } from './common.js';
import { fileFlow, installPlan, npmInstallFor, type FileFlow, type InstallPlan } from './files.js';

export interface CodeBuildExportOptions extends ActionSource {
  /** Path of the written buildspec inside the repository, which every task runs. Default `buildspec.yml`. */
  buildspecPath?: string | undefined;
  /** Commands before the step, once per task. Default: the pipeline's install step's script, else `npm ci --no-audit --no-fund`. */
  install?: readonly string[] | undefined;
  /** The directory of shipgate.yml inside the repository. Default `.`. */
  sourceDirectory?: string | undefined;
  /** `s3://bucket/prefix` where tasks leave the files later tasks need. Required when any do. */
  artifacts?: string | undefined;
  /** Files a fresh checkout has, relative to shipgate.yml's directory (for the undeclared-files warning). */
  checkout?: readonly string[] | undefined;
}

/** Where the runner is cloned to in a build. */
const runnerDir = '"$HOME/.shipgate-runner"';

/** The variable that tells a task which invocation it runs. */
export const stepVariable = 'SHIPGATE_STEP';

/** Set on the gathering task only: the tasks whose run reports it merges. */
export const reportVariable = 'SHIPGATE_REPORT';
/** Where each task's run leaves its report, relative to the source root. */
const taskReportDir = '.shipgate/report';

/** A build-graph identifier: letters, digits and _ (`build[target=api]` → `build_target_api`). */
export function graphIdentifier(id: string): string {
  return id.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}

/** What every part of the buildspec depends on: the options, where the pipeline is, the install and the file flow. */
interface BuildspecPlan {
  options: CodeBuildExportOptions;
  dir: string;
  fileName: string;
  install: InstallPlan;
  flow: FileFlow;
  buildspecPath: string;
}

/** Files crossing tasks need somewhere to go, and that place must be an S3 URL. */
function checkArtifacts(flow: FileFlow, artifacts: string | undefined): void {
  if (flow.uploads.size && !artifacts) {
    const [producer] = flow.uploads.keys();
    throw new ShipgateError('export.artifacts', `step "${producer}" declares files later steps need, but the tasks of a CodeBuild batch share no disk`, {
      hint: 'pass --artifacts s3://<bucket>/<prefix>: each task leaves its files there and the tasks after it fetch them',
    });
  }
  if (artifacts !== undefined && !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[\w!.*'()/-]*)?$/.test(artifacts)) {
    throw new ShipgateError('export.artifacts', `--artifacts "${artifacts}" is not s3://bucket/prefix`, { hint: 'e.g. --artifacts s3://acme-ci/shipgate' });
  }
}

/** Build-graph tasks share no outputs and have no conditions: refuse rather than run wrongly; warn about what is dropped. */
function checkStep(step: StepSpec, warnings: string[]): void {
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
}

/** The `batch: build-graph:` tasks: identifiers unique among them, and each step's task ids for `depend-on`. */
class BuildGraph {
  readonly tasks: Array<Record<string, unknown>> = [];
  readonly #taken = new Set<string>();
  readonly #idsOf = new Map<string, string[]>();

  constructor(
    private readonly spec: PipelineSpec,
    private readonly plan: BuildspecPlan,
  ) {}

  /** The tasks of these steps (every matrix instance), in order. */
  #tasksOf(stepIds: readonly string[]): string[] {
    return stepIds.flatMap((id) => this.#idsOf.get(id) ?? []);
  }

  #identifier(wanted: string): string {
    const identifier = firstFreeName(wanted, (name) => this.#taken.has(name), (n) => `${wanted}_${n}`);
    this.#taken.add(identifier);
    return identifier;
  }

  /** One task per invocation of the step (a matrix instance each). */
  addStep(step: StepSpec): void {
    const { install, flow, fileName } = this.plan;
    const config = step.executor ? this.spec.executors?.[step.executor] : undefined;
    const fetch = this.#tasksOf(flow.downloads.get(step.id) ?? []);
    const keep = flow.uploads.get(step.id);
    const dependOn = this.#tasksOf(step.needs);
    const ids: string[] = [];
    for (const combo of step.matrix ? expandMatrix(step.matrix) : [undefined]) {
      const invocation = invocationId(step.id, combo);
      const identifier = this.#identifier(graphIdentifier(invocation));
      ids.push(identifier);
      this.tasks.push({
        identifier,
        buildspec: this.plan.buildspecPath,
        ...(dependOn.length ? { 'depend-on': dependOn } : {}),
        env: {
          ...(config?.kind === 'codebuild' && config.computeType ? { 'compute-type': config.computeType } : {}),
          ...(config?.kind === 'codebuild' && config.image ? { image: config.image } : {}),
          variables: {
            [stepVariable]: invocation,
            // the install step's task installs by running the step: once, not twice
            ...(install.stepId === step.id ? { SHIPGATE_INSTALL: '0' } : {}),
            ...(fetch.length ? { SHIPGATE_FETCH: fetch.join(' ') } : {}),
            ...(keep ? { SHIPGATE_KEEP: [fileName, ...keep].join(' ') } : {}),
          },
        },
        ...(step.continueOnError ? { 'ignore-failure': true } : {}),
      });
    }
    this.#idsOf.set(step.id, ids);
  }

  /** The last task, which gathers every task's run report into one report.html. */
  addReportTask(): void {
    const stepTasks = this.tasks.map((t) => t.identifier as string);
    if (stepTasks.length === 0) return;
    const identifier = firstFreeName('report', (name) => this.#taken.has(name), (n) => `shipgate_report${n === 2 ? '' : `_${n}`}`);
    this.tasks.push({
      identifier,
      buildspec: this.plan.buildspecPath,
      'depend-on': stepTasks,
      env: { variables: { [reportVariable]: stepTasks.join(' '), SHIPGATE_INSTALL: '0' } },
      // a report that cannot be gathered never fails a batch whose steps passed
      'ignore-failure': true,
    });
  }
}

/** The phases every task runs: install once, fetch the files it needs, run its step, keep its files and report. */
function buildspecPhases(plan: BuildspecPlan): Record<string, unknown> {
  const { options, dir, fileName, install, flow } = plan;
  const cd = dir === '.' ? '' : `cd ${shellWord(dir)} && `;
  const global = [dir !== '.' ? `-C ${shellWord(dir)}` : '', fileName === 'shipgate.yml' || fileName === 'shipgate.yaml' ? '' : `-f ${shellWord(fileName)}`].filter(Boolean).join(' ');
  const where = '"$SHIPGATE_ARTIFACTS/$CODEBUILD_RESOLVED_SOURCE_VERSION"';
  const cli = `node ${runnerDir}/actions/shared/dist/shipgate.mjs ${global ? `${global} ` : ''}`;
  const reportCli = `node ${runnerDir}/actions/shared/dist/shipgate.mjs `;
  return {
    install: {
      commands: [
        ...(install.command ? [`[ "\${SHIPGATE_INSTALL:-1}" = 0 ] || { ${install.command}; }`] : []),
        // the runner: this repository's committed actions bundle, which needs nothing installed
        `git clone --quiet --depth 1 --branch "$SHIPGATE_REF" "https://github.com/$SHIPGATE_ACTION_REPO.git" ${runnerDir}`,
      ],
    },
    ...(flow.uploads.size
      ? {
          pre_build: {
            commands: [`for from in \${SHIPGATE_FETCH:-}; do aws s3 cp --quiet ${where}/"$from.tgz" - | tar -xzf - -C ${shellWord(dir)}; done`],
          },
        }
      : {}),
    build: {
      commands: options.artifacts
        ? [
            `[ -n "\${${reportVariable}:-}" ] || ${cli}step "\${${stepVariable}:?start this buildspec as a batch build}" --report-dir ${taskReportDir}`,
            // the gathering task: every task's report in a directory of its own, merged, published beside them
            `[ -z "\${${reportVariable}:-}" ] || { for task in $${reportVariable}; do mkdir -p "shipgate-reports/$task" && { aws s3 cp --quiet ${where}/reports/"$task.tgz" - | tar -xzf - -C "shipgate-reports/$task" || echo "no run report from $task"; }; done; ${reportCli}report shipgate-reports -o shipgate-reports && tar -czf - -C shipgate-reports . | aws s3 cp --quiet - ${where}/report.tgz && aws s3 cp --quiet - ${where}/report.html < shipgate-reports/report.html; }`,
          ]
        : [`${cli}step "\${${stepVariable}:?start this buildspec as a batch build}" --report-dir ${taskReportDir}`],
    },
    ...(flow.uploads.size || options.artifacts
      ? {
          post_build: {
            commands: [
              // shipgate.yml is in every tarball, so tar never refuses an empty archive
              ...(flow.uploads.size
                ? [`if [ "$CODEBUILD_BUILD_SUCCEEDING" = 1 ] && [ -n "\${SHIPGATE_KEEP:-}" ]; then (${cd}shopt -s globstar nullglob dotglob && tar -czf - --no-recursion $SHIPGATE_KEEP | aws s3 cp --quiet - ${where}/"$CODEBUILD_BATCH_BUILD_IDENTIFIER.tgz"); fi`]
                : []),
              // the task's run report, failed or not: the gathering task merges them
              `if [ -z "\${${reportVariable}:-}" ] && [ -d ${taskReportDir} ]; then tar -czf - -C ${taskReportDir} . | aws s3 cp --quiet - ${where}/reports/"$CODEBUILD_BATCH_BUILD_IDENTIFIER.tgz"; fi`,
            ],
          },
        }
      : {}),
  };
}

export function exportCodeBuildBuildspec(spec: PipelineSpec, options: CodeBuildExportOptions = {}): ExportResult {
  const warnings: string[] = [];
  const { repo, ref } = actionSource(options);
  const { dir, fileName } = pipelineLocation(spec, options.sourceDirectory);
  const explicitInstall = options.install === undefined ? undefined : options.install.join(' && ');
  const install = installPlan(spec, explicitInstall, npmInstallFor(dir === '.' ? options.checkout : undefined, defaultInstallCommands.join(' && ')));
  const flow = fileFlow(spec, { install, checkout: options.checkout });
  checkArtifacts(flow, options.artifacts);
  const plan: BuildspecPlan = { options, dir, fileName, install, flow, buildspecPath: options.buildspecPath ?? 'buildspec.yml' };

  const graph = new BuildGraph(spec, plan);
  for (const step of spec.steps) {
    checkStep(step, warnings);
    graph.addStep(step);
  }
  // with somewhere to put them, the last task gathers every task's run report into one report.html
  if (options.artifacts) graph.addReportTask();

  const buildspec = {
    version: 0.2,
    env: {
      shell: 'bash',
      variables: { SHIPGATE_ACTION_REPO: repo, SHIPGATE_REF: ref, ...(options.artifacts ? { SHIPGATE_ARTIFACTS: options.artifacts.replace(/\/+$/, '') } : {}) },
    },
    // fail-fast as `shipgate run`: the first failed task stops the running ones (continue-on-error tasks ignore-failure)
    batch: { 'fast-fail': true, 'build-graph': graph.tasks },
    phases: buildspecPhases(plan),
  };
  return { text: generatedHeader('codebuild') + stringify(buildspec, { lineWidth: 0 }), warnings: [...warnings, ...flow.warnings] };
}

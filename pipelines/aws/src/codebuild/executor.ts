// The CodeBuild executor: runs each step invocation as a build of a CodeBuild project, at the
// run's commit, with a buildspec override whose one command is `npx shipgate step --invocation
// <base64>`. It streams the build's CloudWatch log into the step's log (masked), maps the build
// status to the step's outcome, reads the outputs back from the marker line `shipgate step` prints,
// and stops the build when the step is cancelled. The instances of a matrix step that are ready
// together go out as one batch build (StartBuildBatch with a build-list), each followed on its own.
// This file starts builds; `follow.ts` follows one to its result, `batch.ts` groups and follows a
// matrix batch, `request.ts` and `outcome.ts` hold the pure halves of what is sent and read back.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { Build, BuildBatch } from '@aws-sdk/client-codebuild';
import { consoleUrl, systemClock, type Clock } from '../sdk/index.js';
import { encodeInvocation } from '@shipgate/protocol';
import type { CodeBuildExecutorConfig, PipelineSpec } from '@shipgate/core';
import { codebuildProjectPattern } from '@shipgate/core';
import { expandMatrix } from '@shipgate/core';
import { ShipgateError } from '@shipgate/protocol';
import { createCodeBuildApi, type CodeBuildApi } from './api.js';
import { followBatch, MatrixBatchQueue, type BatchMember, type ReadyMember } from './batch.js';
import { followBuild, type FollowedBuild } from './follow.js';
import { abortedResult, asError, failure } from './outcome.js';
import { batchIdentifier, batchRequest, batchTimeoutMinutes, buildTimeoutMinutes, prepareRemoteInvocation, renderBuildspec, stepCommand, type RemoteInvocation } from './request.js';
import type { ExecutionEnvironment, Executor, InvocationResult, StepInvocation } from '@shipgate/protocol';

export interface CodeBuildExecutorOptions {
  /** The executor's name in the pipeline (`codebuild:orders-build`), used in messages. */
  name: string;
  config: CodeBuildExecutorConfig;
  /** The pipeline: its matrix sizes tell when every instance of a matrix step has arrived. */
  pipeline: PipelineSpec;
  /** Default: the AWS SDK, loaded on first use. */
  api?: CodeBuildApi;
  /** Region, `SHIPGATE_CODEBUILD_PROJECT` and AWS settings come from here. Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Between status polls. Default: the config's poll-interval, else 5 s. */
  pollIntervalMs?: number;
  /** How long ready matrix instances wait for their siblings before the batch starts. Default 250 ms. */
  batchWindowMs?: number;
  /** Directory of shipgate.yml inside the source. Default: what git says (`rev-parse --show-prefix`). */
  sourceDirectory?: string;
  /** How long to keep polling a build after asking it to stop. Default 2 min. */
  stopWaitMs?: number;
  clock?: Clock;
}

type Env = Readonly<Record<string, string | undefined>>;

const run = promisify(execFile);

/**
 * The directory of shipgate.yml relative to the root of its git repository (`.` at the root, or
 * outside a repository): builds and CI jobs check out the repository root, the pipeline may sit below.
 */
export async function sourceDirectoryOf(workspace: string): Promise<string> {
  return run('git', ['rev-parse', '--show-prefix'], { cwd: workspace, timeout: 5000 }).then(
    ({ stdout }) => stdout.trim().replace(/\/$/, '') || '.',
    () => '.',
  );
}

export class CodeBuildExecutor implements Executor {
  readonly name: string;
  readonly #options: CodeBuildExecutorOptions;
  readonly #env: Env;
  readonly #clock: Clock;
  readonly #pollMs: number;
  #api: Promise<CodeBuildApi> | undefined;
  #sourceDirectory: Promise<string> | undefined;
  readonly #batches: MatrixBatchQueue;

  constructor(options: CodeBuildExecutorOptions) {
    this.name = options.name;
    this.#options = options;
    this.#env = options.env ?? process.env;
    this.#clock = options.clock ?? systemClock;
    this.#pollMs = options.pollIntervalMs ?? options.config.pollIntervalMs ?? 5000;
    this.#batches = new MatrixBatchQueue({
      expected: (stepId) => this.#expected(stepId),
      windowMs: options.batchWindowMs ?? 250,
      start: (members) => void this.#runBatch(members),
    });
  }

  /** The project builds run in; a ShipgateError when none is configured. */
  project(): string {
    const project = this.#options.config.project ?? this.#env.SHIPGATE_CODEBUILD_PROJECT?.trim();
    if (!project) {
      throw new ShipgateError('executor.codebuild-project', `${this.name}: no CodeBuild project: executor: codebuild names none and SHIPGATE_CODEBUILD_PROJECT is not set`, {
        hint: 'write executor: codebuild:<project>, or export SHIPGATE_CODEBUILD_PROJECT=<project>',
      });
    }
    if (!codebuildProjectPattern.test(project)) {
      throw new ShipgateError('executor.codebuild-project', `SHIPGATE_CODEBUILD_PROJECT "${project}" is not a CodeBuild project name`, { hint: 'project names are 2–255 letters, digits, - and _' });
    }
    return project;
  }

  async execute(invocation: StepInvocation, environment: ExecutionEnvironment): Promise<InvocationResult> {
    if (!invocation.matrix) return this.#runOne(invocation, environment);
    return new Promise((resolve) => this.#batches.add({ invocation, environment, resolve }));
  }

  #client(): Promise<CodeBuildApi> {
    this.#api ??= this.#options.api ? Promise.resolve(this.#options.api) : createCodeBuildApi({ project: this.project(), region: this.#options.config.region, env: this.#env });
    return this.#api;
  }

  #sourceDir(workspace: string): Promise<string> {
    if (this.#options.sourceDirectory !== undefined) return Promise.resolve(this.#options.sourceDirectory);
    this.#sourceDirectory ??= sourceDirectoryOf(workspace);
    return this.#sourceDirectory;
  }

  #common(environment: ExecutionEnvironment, project: string) {
    const { config } = this.#options;
    const sha = environment.ci.sha;
    if (!sha) environment.logger.warn(`${this.name}: the CI context has no commit sha; the build uses the project's default source version`);
    return {
      projectName: project,
      ...(sha ? { sourceVersion: sha } : {}),
      ...(config.image ? { imageOverride: config.image } : {}),
      ...(config.computeType ? { computeTypeOverride: config.computeType as never } : {}),
    };
  }

  async #runOne(invocation: StepInvocation, environment: ExecutionEnvironment): Promise<InvocationResult> {
    const started = performance.now();
    let remote: RemoteInvocation;
    let api: CodeBuildApi;
    let project: string;
    try {
      project = this.project();
      remote = prepareRemoteInvocation(invocation, this.#options.config, environment.secrets, this.name);
      api = await this.#client();
    } catch (error) {
      return failure(started, asError(error));
    }
    if (environment.signal.aborted) return abortedResult(environment.signal, 0);
    const data = encodeInvocation(remote.invocation);
    const timeout = buildTimeoutMinutes(invocation.timeoutMs);
    let build: Build;
    try {
      build = await api.startBuild({
        ...this.#common(environment, project),
        buildspecOverride: renderBuildspec({ install: this.#options.config.install, command: stepCommand(await this.#sourceDir(environment.workspace), data) }),
        ...(remote.environment.length ? { environmentVariablesOverride: remote.environment } : {}),
        ...(timeout ? { timeoutInMinutesOverride: timeout } : {}),
        // a retried StartBuild (a dropped response) must not start a second build
        idempotencyToken: randomUUID(),
      });
    } catch (error) {
      return failure(started, asError(error));
    }
    const id = build.id!;
    this.#announce(environment, `started build ${id}`, build, project);
    return this.#follow(api, id, { invocation, environment, started, data: [data], stop: () => api.stopBuild(id) });
  }

  #announce(environment: ExecutionEnvironment, what: string, build: Build | BuildBatch, project: string): void {
    const region = this.#options.config.region ?? this.#env.AWS_REGION ?? this.#env.AWS_DEFAULT_REGION;
    const link = region && build.id ? ` — ${consoleUrl(region, `codesuite/codebuild/projects/${project}/${'buildGroups' in build ? 'batch' : 'build'}/${encodeURIComponent(build.id)}`)}` : '';
    environment.logger.info(`${this.name}: ${what}${link}`);
  }

  // ---- matrix batches -------------------------------------------------------------------------

  #expected(stepId: string): number {
    const step = this.#options.pipeline.steps.find((s) => s.id === stepId);
    return step?.matrix ? expandMatrix(step.matrix).length : 1;
  }

  async #runBatch(members: BatchMember[]): Promise<void> {
    const started = performance.now();
    const environment = members[0]!.environment;
    let api: CodeBuildApi;
    let project: string;
    try {
      project = this.project();
      api = await this.#client();
    } catch (error) {
      for (const m of members) m.resolve(failure(started, asError(error)));
      return;
    }
    const ready = this.#prepareBatch(members, started);
    if (ready.length === 0) return;
    let batch: BuildBatch;
    try {
      const sourceDirectory = await this.#sourceDir(environment.workspace);
      batch = await api.startBuildBatch({ ...this.#common(environment, project), ...batchRequest(ready, { install: this.#options.config.install, sourceDirectory }), idempotencyToken: randomUUID() });
    } catch (error) {
      for (const m of ready) m.resolve(failure(started, asError(error)));
      return;
    }
    const batchId = batch.id!;
    this.#announce(environment, `started batch build ${batchId} for ${ready.map((m) => m.invocation.id).join(', ')}`, batch, project);
    await followBatch(batchId, ready, {
      name: this.name,
      api,
      clock: this.#clock,
      pollMs: this.#pollMs,
      started,
      timeoutMinutes: batchTimeoutMinutes(ready.map((m) => m.timeoutMs)),
      follow: (id, m) => this.#follow(api, id, { invocation: m.invocation, environment: m.environment, started, data: [m.data], stop: () => api.stopBuild(id) }),
    });
  }

  /** The members whose request can be sent; one that cannot fails alone, the others still run. */
  #prepareBatch(members: readonly BatchMember[], started: number): ReadyMember[] {
    const ready: ReadyMember[] = [];
    for (const m of members) {
      try {
        const remote = prepareRemoteInvocation(m.invocation, this.#options.config, m.environment.secrets, this.name);
        ready.push({ ...m, identifier: batchIdentifier(m.invocation.id, ready.length), data: encodeInvocation(remote.invocation), overrides: remote.environment, timeoutMs: m.invocation.timeoutMs });
      } catch (error) {
        m.resolve(failure(started, asError(error)));
      }
    }
    return ready;
  }

  #follow(api: CodeBuildApi, id: string, run: FollowedBuild): Promise<InvocationResult> {
    return followBuild(id, run, { name: this.name, api, clock: this.#clock, pollMs: this.#pollMs, stopWaitMs: this.#options.stopWaitMs ?? 120_000 });
  }
}

// The CodeBuild executor: runs each step invocation as a build of a CodeBuild project, at the
// run's commit, with a buildspec override whose one command is `npx shipgate step --invocation
// <base64>`. It streams the build's CloudWatch log into the step's log (masked), maps the build
// status to the step's outcome, reads the outputs back from the marker line `shipgate step` prints,
// and stops the build when the step is cancelled. The instances of a matrix step that are ready
// together go out as one batch build (StartBuildBatch with a build-list), each followed on its own.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { Build, BuildBatch } from '@aws-sdk/client-codebuild';
import { consoleUrl, systemClock, type Clock } from '../sdk/index.js';
import { decodeOutputs, encodeInvocation, outputsMarker } from '@shipgate/protocol';
import type { CodeBuildExecutorConfig, PipelineSpec } from '@shipgate/core';
import { codebuildProjectPattern } from '@shipgate/core';
import { expandMatrix } from '@shipgate/core';
import { SecretMasker } from '@shipgate/core';
import { errorMessage, isShipgateError, ShipgateError } from '@shipgate/protocol';
import { createCodeBuildApi, type CodeBuildApi } from './api.js';
import { buildOutcome, displayLine, stepErrorFromLog } from './outcome.js';
import {
  batchIdentifier,
  buildIdFromArn,
  buildTimeoutMinutes,
  invocationVariable,
  prepareRemoteInvocation,
  renderBuildspec,
  splitBatchEnvironment,
  stepCommand,
  type EnvironmentVariableOverride,
  type RemoteInvocation,
} from './request.js';
import type { ExecutionEnvironment, Executor, InvocationResult, InvocationStatus, StepInvocation } from '@shipgate/protocol';

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

interface Member {
  invocation: StepInvocation;
  environment: ExecutionEnvironment;
  resolve: (result: InvocationResult) => void;
}

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

function statusOnAbort(signal: AbortSignal): InvocationStatus {
  return (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError' ? 'timed-out' : 'cancelled';
}

function failure(started: number, error: NonNullable<InvocationResult['error']>): InvocationResult {
  return { status: 'failure', outputs: {}, durationMs: performance.now() - started, summaries: [], error };
}

function asError(error: unknown): NonNullable<InvocationResult['error']> {
  if (isShipgateError(error)) return { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  return { code: 'executor.codebuild', message: errorMessage(error) };
}

export class CodeBuildExecutor implements Executor {
  readonly name: string;
  readonly #options: CodeBuildExecutorOptions;
  readonly #env: Env;
  readonly #clock: Clock;
  readonly #pollMs: number;
  #api: Promise<CodeBuildApi> | undefined;
  #sourceDirectory: Promise<string> | undefined;
  readonly #waiting = new Map<string, { members: Member[]; timer: NodeJS.Timeout | undefined }>();

  constructor(options: CodeBuildExecutorOptions) {
    this.name = options.name;
    this.#options = options;
    this.#env = options.env ?? process.env;
    this.#clock = options.clock ?? systemClock;
    this.#pollMs = options.pollIntervalMs ?? options.config.pollIntervalMs ?? 5000;
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
    return new Promise((resolve) => this.#enqueue({ invocation, environment, resolve }));
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
    if (environment.signal.aborted) return { status: statusOnAbort(environment.signal), outputs: {}, durationMs: 0, summaries: [] };
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
    return this.#follow(id, { invocation, environment, started, data: [data], stop: () => api.stopBuild(id) });
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

  #enqueue(member: Member): void {
    const key = member.invocation.stepId;
    const group = this.#waiting.get(key) ?? { members: [], timer: undefined };
    this.#waiting.set(key, group);
    group.members.push(member);
    member.environment.signal.addEventListener(
      'abort',
      () => {
        // cancelled before its batch started: it simply leaves the queue
        const at = group.members.indexOf(member);
        if (at !== -1 && this.#waiting.get(key) === group) {
          group.members.splice(at, 1);
          member.resolve({ status: statusOnAbort(member.environment.signal), outputs: {}, durationMs: 0, summaries: [] });
        }
      },
      { once: true },
    );
    if (group.timer) clearTimeout(group.timer);
    const flush = () => {
      this.#waiting.delete(key);
      if (group.members.length) void this.#runBatch(group.members);
    };
    // every instance is here (or the rest are held back by max-parallel / -j): start now, or after
    // a short window in which siblings that became ready at the same moment can still join
    if (group.members.length >= this.#expected(key)) flush();
    else group.timer = setTimeout(flush, this.#options.batchWindowMs ?? 250);
  }

  async #runBatch(members: Member[]): Promise<void> {
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
    // an instance whose request cannot be sent fails alone; the others still run
    const ready: Array<Member & { data: string; identifier: string; requestEnv: EnvironmentVariableOverride[] }> = [];
    for (const m of members) {
      try {
        const remote = prepareRemoteInvocation(m.invocation, this.#options.config, m.environment.secrets, this.name);
        ready.push({ ...m, data: encodeInvocation(remote.invocation), identifier: batchIdentifier(m.invocation.id, ready.length), requestEnv: remote.environment });
      } catch (error) {
        m.resolve(failure(started, asError(error)));
      }
    }
    if (ready.length === 0) return;
    const { shared: overrides, own } = splitBatchEnvironment(ready.map((m) => m.requestEnv));
    const timeout = Math.max(0, ...ready.map((m) => buildTimeoutMinutes(m.invocation.timeoutMs) ?? 0));
    let batch: BuildBatch;
    try {
      batch = await api.startBuildBatch({
        ...this.#common(environment, project),
        buildspecOverride: renderBuildspec({
          install: this.#options.config.install,
          command: stepCommand(await this.#sourceDir(environment.workspace), `"$${invocationVariable}"`),
          buildList: ready.map((m, i) => ({ identifier: m.identifier, invocation: m.data, variables: own[i]! })),
        }),
        ...(overrides.length ? { environmentVariablesOverride: overrides } : {}),
        ...(timeout ? { buildTimeoutInMinutesOverride: timeout } : {}),
        idempotencyToken: randomUUID(),
      });
    } catch (error) {
      for (const m of ready) m.resolve(failure(started, asError(error)));
      return;
    }
    const batchId = batch.id!;
    this.#announce(environment, `started batch build ${batchId} for ${ready.map((m) => m.invocation.id).join(', ')}`, batch, project);

    // Stopping: an instance stops its own build; when every instance is cancelled, the batch too.
    const buildIds = new Map<string, string>();
    const aborted = new Set<string>();
    let batchStopped = false;
    const stopBatch = () => {
      if (batchStopped) return;
      batchStopped = true;
      api.stopBuildBatch(batchId).catch((error: unknown) => environment.logger.warn(`${this.name}: could not stop batch ${batchId}: ${errorMessage(error)}`));
    };
    for (const m of ready) {
      m.environment.signal.addEventListener(
        'abort',
        () => {
          // its own build is stopped by #follow (at once if it starts after this); the batch only
          // when no instance is left, so one instance's time-out never stops its siblings
          aborted.add(m.identifier);
          if (aborted.size === ready.length) stopBatch();
        },
        { once: true },
      );
    }

    // wait for CodeBuild to create the builds of the list, then follow each one on its own
    const maxPolls = Math.ceil(((timeout || 60) * 60_000) / this.#pollMs) + 10;
    let last: BuildBatch | undefined;
    for (let poll = 0; poll < maxPolls && buildIds.size < ready.length; poll += 1) {
      try {
        [last] = await api.getBuildBatches([batchId]);
      } catch (error) {
        for (const m of ready) if (!buildIds.has(m.identifier)) m.resolve(failure(started, asError(error)));
        return;
      }
      for (const group of last?.buildGroups ?? []) {
        const arn = group.currentBuildSummary?.arn;
        const member = ready.find((m) => m.identifier === group.identifier);
        if (!arn || !member || buildIds.has(member.identifier)) continue;
        const id = buildIdFromArn(arn);
        buildIds.set(member.identifier, id);
        void this.#follow(id, { invocation: member.invocation, environment: member.environment, started, data: [member.data], stop: () => api.stopBuild(id) }).then(member.resolve);
      }
      if (buildIds.size === ready.length) return;
      if (last?.buildBatchStatus && last.buildBatchStatus !== 'IN_PROGRESS') break;
      if (batchStopped && aborted.size === ready.length) break;
      await this.#clock.sleep(this.#pollMs);
    }
    // instances that never got a build: the batch ended (or was stopped) before creating them
    const phase = last?.phases?.find((p) => p.phaseStatus && p.phaseStatus !== 'SUCCEEDED');
    for (const m of ready) {
      if (buildIds.has(m.identifier)) continue;
      if (m.environment.signal.aborted) {
        m.resolve({ status: statusOnAbort(m.environment.signal), outputs: {}, durationMs: performance.now() - started, summaries: [] });
        continue;
      }
      m.resolve(
        failure(started, {
          code: 'codebuild.batch-failed',
          message: `CodeBuild batch ${batchId} ended (${last?.buildBatchStatus ?? 'no status'}${phase ? ` in phase ${phase.phaseType}` : ''}) without a build for ${m.invocation.id}`,
          hint: 'the project needs batch builds enabled (a batch service role); see the batch in the CodeBuild console',
        }),
      );
    }
  }

  // ---- following one build --------------------------------------------------------------------

  async #follow(
    id: string,
    run: { invocation: StepInvocation; environment: ExecutionEnvironment; started: number; data: string[]; stop: () => Promise<void> },
  ): Promise<InvocationResult> {
    const { environment } = run;
    const api = await this.#client();
    const masker = new SecretMasker(environment.secrets);
    const lines: string[] = [];
    let stream: { logGroupName: string; logStreamName: string } | undefined;
    let token: string | undefined;
    let stopAt: number | undefined;
    const onAbort = () => {
      stopAt = this.#clock.now();
      environment.logger.info(`${this.name}: stopping build ${id}`);
      run.stop().catch((error: unknown) => environment.logger.warn(`${this.name}: could not stop build ${id}: ${errorMessage(error)}`));
    };
    if (environment.signal.aborted) onAbort();
    else environment.signal.addEventListener('abort', onAbort, { once: true });

    /** Reads what the log stream gained since the last read; bounded per call. */
    const readLog = async (): Promise<void> => {
      if (!stream) return;
      for (let page = 0; page < 50; page += 1) {
        const got = await api.getLogEvents({ ...stream, nextToken: token });
        if (!got) return;
        for (const event of got.events) {
          for (const line of (event.message ?? '').replace(/\r?\n$/, '').split(/\r?\n/)) {
            lines.push(line);
            const shown = displayLine(line, run.data, outputsMarker);
            if (shown !== undefined) environment.logger.info(masker.mask(shown));
          }
        }
        // GetLogEvents returns the token it was given once the end of the stream is reached
        if (!got.nextForwardToken || got.nextForwardToken === token) return;
        token = got.nextForwardToken;
      }
    };

    const timeout = buildTimeoutMinutes(run.invocation.timeoutMs) ?? 2160;
    const maxPolls = Math.ceil((timeout * 60_000 + (this.#options.stopWaitMs ?? 120_000)) / this.#pollMs) + 10;
    let result: InvocationResult | undefined;
    try {
      for (let poll = 0; poll < maxPolls && !result; poll += 1) {
        const [build] = await api.getBuilds([id]);
        if (!stream && build?.logs?.groupName && build.logs.streamName) stream = { logGroupName: build.logs.groupName, logStreamName: build.logs.streamName };
        await readLog();
        const outcome = build ? buildOutcome(build, stopAt !== undefined) : { done: false as const };
        if (outcome.done) {
          // CloudWatch can lag the build's end by a few seconds: read until the outputs line is in
          for (let extra = 0; extra < 3 && outcome.status === 'success' && !lines.some((l) => l.includes(outputsMarker)); extra += 1) {
            await this.#clock.sleep(this.#pollMs);
            await readLog();
          }
          result = this.#result(run, outcome, lines);
          break;
        }
        if (stopAt !== undefined && this.#clock.now() - stopAt > (this.#options.stopWaitMs ?? 120_000)) {
          environment.logger.warn(`${this.name}: build ${id} did not report STOPPED in time; leaving it`);
          break;
        }
        await this.#clock.sleep(this.#pollMs);
      }
    } catch (error) {
      if (!environment.signal.aborted) {
        result = failure(run.started, asError(error));
        // no one follows the build any more (its log, its outputs): do not leave it running
        environment.logger.warn(`${this.name}: stopping build ${id}, which can no longer be followed: ${errorMessage(error)}`);
        await run.stop().catch(() => undefined);
      }
    } finally {
      environment.signal.removeEventListener('abort', onAbort);
    }
    if (environment.signal.aborted) return { status: statusOnAbort(environment.signal), outputs: {}, durationMs: performance.now() - run.started, summaries: [] };
    return result ?? failure(run.started, { code: 'codebuild.unfinished', message: `CodeBuild build ${id} did not finish within ${timeout} min`, hint: 'see the build in the CodeBuild console' });
  }

  #result(
    run: { invocation: StepInvocation; environment: ExecutionEnvironment; started: number },
    outcome: Extract<ReturnType<typeof buildOutcome>, { done: true }>,
    lines: string[],
  ): InvocationResult {
    const durationMs = performance.now() - run.started;
    const outputs = decodeOutputs(lines) ?? {};
    if (outcome.status === 'success') {
      if (!lines.some((l) => l.includes(outputsMarker))) run.environment.logger.warn(`${this.name}: the build's log has no outputs line; the step's outputs are empty`);
      for (const [name, value] of Object.entries(outputs)) run.environment.onOutput?.(name, value);
      return { status: 'success', outputs, durationMs, summaries: [] };
    }
    // the step's own reason (as `shipgate step` printed it) says more than "phase BUILD failed"
    const error = (outcome.status === 'failure' ? stepErrorFromLog(lines) : undefined) ?? outcome.error;
    return { status: outcome.status, outputs, durationMs, summaries: [], ...(error ? { error } : {}) };
  }
}

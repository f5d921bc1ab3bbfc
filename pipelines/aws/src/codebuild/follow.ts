// Following one CodeBuild build until it ends: poll its status, stream what its CloudWatch log
// gained into the step's log (masked, without the invocation's base64 or the outputs line), stop it
// when the step is cancelled, and turn the finished build into the step's result, with the outputs
// read back from the marker line `shipgate step` printed.
import { SecretMasker } from '@shipgate/core';
import { decodeOutputs, errorMessage, outputsMarker } from '@shipgate/protocol';
import type { ExecutionEnvironment, InvocationResult, StepInvocation } from '@shipgate/protocol';
import type { Build } from '@aws-sdk/client-codebuild';
import type { Clock } from '../sdk/index.js';
import type { CodeBuildApi } from './api.js';
import { abortedResult, asError, buildOutcome, displayLine, failure, stepErrorFromLog, type BuildOutcome } from './outcome.js';
import { buildTimeoutMinutes } from './request.js';

/** One invocation and the build that runs it. */
export interface FollowedBuild {
  invocation: StepInvocation;
  environment: ExecutionEnvironment;
  /** `performance.now()` when the invocation started. */
  started: number;
  /** The invocation base64 the build's command carries: shown as `<invocation>` in the log. */
  data: string[];
  /** Asks CodeBuild to stop the build. */
  stop: () => Promise<void>;
}

export interface FollowSettings {
  /** The executor's name, in messages. */
  name: string;
  api: CodeBuildApi;
  clock: Clock;
  pollMs: number;
  /** How long to keep polling a build after asking it to stop. */
  stopWaitMs: number;
}

type FinishedOutcome = Extract<BuildOutcome, { done: true }>;

/** A build's CloudWatch log stream, read from where the last read ended. */
class BuildLog {
  readonly lines: string[] = [];
  #stream: { logGroupName: string; logStreamName: string } | undefined;
  #token: string | undefined;
  readonly #masker: SecretMasker;

  constructor(
    private readonly api: CodeBuildApi,
    private readonly run: FollowedBuild,
  ) {
    this.#masker = new SecretMasker(run.environment.secrets);
  }

  /** The stream is known once the build reports it (it has started logging). */
  locate(build: Build | undefined): void {
    if (!this.#stream && build?.logs?.groupName && build.logs.streamName) this.#stream = { logGroupName: build.logs.groupName, logStreamName: build.logs.streamName };
  }

  get hasOutputs(): boolean {
    return this.lines.some((l) => l.includes(outputsMarker));
  }

  /** Reads what the log stream gained since the last read; bounded per call. */
  async read(): Promise<void> {
    if (!this.#stream) return;
    for (let page = 0; page < 50; page += 1) {
      const got = await this.api.getLogEvents({ ...this.#stream, nextToken: this.#token });
      if (!got) return;
      for (const event of got.events) this.#add(event.message ?? '');
      // GetLogEvents returns the token it was given once the end of the stream is reached
      if (!got.nextForwardToken || got.nextForwardToken === this.#token) return;
      this.#token = got.nextForwardToken;
    }
  }

  #add(message: string): void {
    for (const line of message.replace(/\r?\n$/, '').split(/\r?\n/)) {
      this.lines.push(line);
      const shown = displayLine(line, this.run.data, outputsMarker);
      if (shown !== undefined) this.run.environment.logger.info(this.#masker.mask(shown));
    }
  }
}

/** Stops the build once the step's signal aborts (at once when it already has), and remembers when. */
class StopOnAbort {
  /** The clock's reading when the stop was asked for. */
  requestedAt: number | undefined;
  readonly #onAbort: () => void;

  constructor(
    private readonly id: string,
    private readonly run: FollowedBuild,
    settings: FollowSettings,
  ) {
    const { logger } = run.environment;
    this.#onAbort = () => {
      this.requestedAt = settings.clock.now();
      logger.info(`${settings.name}: stopping build ${id}`);
      run.stop().catch((error: unknown) => logger.warn(`${settings.name}: could not stop build ${id}: ${errorMessage(error)}`));
    };
    if (run.environment.signal.aborted) this.#onAbort();
    else run.environment.signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  dispose(): void {
    this.run.environment.signal.removeEventListener('abort', this.#onAbort);
  }
}

/** The step's result from a finished build and its log. */
export function finishedResult(name: string, run: FollowedBuild, outcome: FinishedOutcome, lines: readonly string[]): InvocationResult {
  const durationMs = performance.now() - run.started;
  const outputs = decodeOutputs(lines) ?? {};
  if (outcome.status === 'success') {
    if (!lines.some((l) => l.includes(outputsMarker))) run.environment.logger.warn(`${name}: the build's log has no outputs line; the step's outputs are empty`);
    for (const [output, value] of Object.entries(outputs)) run.environment.onOutput?.(output, value);
    return { status: 'success', outputs, durationMs, summaries: [] };
  }
  // the step's own reason (as `shipgate step` printed it) says more than "phase BUILD failed"
  const error = (outcome.status === 'failure' ? stepErrorFromLog(lines) : undefined) ?? outcome.error;
  return { status: outcome.status, outputs, durationMs, summaries: [], ...(error ? { error } : {}) };
}

/** Polls the build until it ends (its result), or until it outlives a stop or the poll bound (undefined). */
async function pollUntilFinished(id: string, run: FollowedBuild, settings: FollowSettings, maxPolls: number): Promise<InvocationResult | undefined> {
  const { api, clock, pollMs } = settings;
  const log = new BuildLog(api, run);
  const stop = new StopOnAbort(id, run, settings);
  try {
    for (let poll = 0; poll < maxPolls; poll += 1) {
      const [build] = await api.getBuilds([id]);
      log.locate(build);
      await log.read();
      const outcome = build ? buildOutcome(build, stop.requestedAt !== undefined) : { done: false as const };
      if (outcome.done) {
        // CloudWatch can lag the build's end by a few seconds: read until the outputs line is in
        for (let extra = 0; extra < 3 && outcome.status === 'success' && !log.hasOutputs; extra += 1) {
          await clock.sleep(pollMs);
          await log.read();
        }
        return finishedResult(settings.name, run, outcome, log.lines);
      }
      if (stop.requestedAt !== undefined && clock.now() - stop.requestedAt > settings.stopWaitMs) {
        run.environment.logger.warn(`${settings.name}: build ${id} did not report STOPPED in time; leaving it`);
        return undefined;
      }
      await clock.sleep(pollMs);
    }
    return undefined;
  } finally {
    stop.dispose();
  }
}

/** Follows build `id` to the step's result; a build that can no longer be followed is stopped. */
export async function followBuild(id: string, run: FollowedBuild, settings: FollowSettings): Promise<InvocationResult> {
  const { environment } = run;
  const timeout = buildTimeoutMinutes(run.invocation.timeoutMs) ?? 2160;
  const maxPolls = Math.ceil((timeout * 60_000 + settings.stopWaitMs) / settings.pollMs) + 10;
  let result: InvocationResult | undefined;
  try {
    result = await pollUntilFinished(id, run, settings, maxPolls);
  } catch (error) {
    if (!environment.signal.aborted) {
      result = failure(run.started, asError(error));
      // no one follows the build any more (its log, its outputs): do not leave it running
      environment.logger.warn(`${settings.name}: stopping build ${id}, which can no longer be followed: ${errorMessage(error)}`);
      await run.stop().catch(() => undefined);
    }
  }
  if (environment.signal.aborted) return abortedResult(environment.signal, performance.now() - run.started);
  return result ?? failure(run.started, { code: 'codebuild.unfinished', message: `CodeBuild build ${id} did not finish within ${timeout} min`, hint: 'see the build in the CodeBuild console' });
}

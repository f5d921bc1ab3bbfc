// Matrix batches: the instances of a matrix step that are ready together wait a moment for their
// siblings, then go out as one batch build (StartBuildBatch with a build-list). Once CodeBuild has
// created the builds of the list, each is followed on its own; an instance whose build never
// appears fails (or is cancelled) alone, and the batch is stopped only when every instance is.
import type { BuildBatch } from '@aws-sdk/client-codebuild';
import { errorMessage } from '@shipgate/protocol';
import type { ExecutionEnvironment, InvocationResult, StepInvocation } from '@shipgate/protocol';
import type { Clock } from '../sdk/index.js';
import type { CodeBuildApi } from './api.js';
import { abortedResult, asError, failure } from './outcome.js';
import { buildIdFromArn, type BatchEntry } from './request.js';

/** A matrix instance waiting for its result. */
export interface BatchMember {
  invocation: StepInvocation;
  environment: ExecutionEnvironment;
  resolve: (result: InvocationResult) => void;
}

/** A member whose request is ready to send. */
export type ReadyMember = BatchMember & BatchEntry;

export interface MatrixBatchQueueOptions {
  /** How many instances the step has (every one can go in one batch). */
  expected: (stepId: string) => number;
  /** How long ready instances wait for siblings that are not there yet. */
  windowMs: number;
  /** Runs a batch; its members are resolved by it. */
  start: (members: BatchMember[]) => void;
}

/** Groups ready matrix instances by step until all have arrived or the window ends. */
export class MatrixBatchQueue {
  readonly #waiting = new Map<string, { members: BatchMember[]; timer: NodeJS.Timeout | undefined }>();

  constructor(private readonly options: MatrixBatchQueueOptions) {}

  add(member: BatchMember): void {
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
          member.resolve(abortedResult(member.environment.signal, 0));
        }
      },
      { once: true },
    );
    if (group.timer) clearTimeout(group.timer);
    const flush = () => {
      this.#waiting.delete(key);
      if (group.members.length) this.options.start(group.members);
    };
    // every instance is here (or the rest are held back by max-parallel / -j): start now, or after
    // a short window in which siblings that became ready at the same moment can still join
    if (group.members.length >= this.options.expected(key)) flush();
    else group.timer = setTimeout(flush, this.options.windowMs);
  }
}

export interface BatchFollowSettings {
  /** The executor's name, in messages. */
  name: string;
  api: CodeBuildApi;
  clock: Clock;
  pollMs: number;
  /** `performance.now()` when the batch's invocations started. */
  started: number;
  /** The batch's time-out in minutes (0: none, a bound of an hour is used while waiting). */
  timeoutMinutes: number;
  /** Follows one build of the list to its instance's result. */
  follow: (buildId: string, member: ReadyMember) => Promise<InvocationResult>;
}

/**
 * Stopping: an instance stops its own build (the follower does, at once if the build starts after
 * the abort); the batch only when no instance is left, so one instance's time-out never stops its
 * siblings.
 */
class BatchStopper {
  readonly #aborted = new Set<string>();
  #stopped = false;

  constructor(
    private readonly batchId: string,
    private readonly ready: readonly ReadyMember[],
    private readonly settings: BatchFollowSettings,
  ) {
    for (const m of ready) m.environment.signal.addEventListener('abort', () => this.#instanceAborted(m.identifier), { once: true });
  }

  /** The batch was stopped because every instance was cancelled. */
  get allStopped(): boolean {
    return this.#stopped && this.#aborted.size === this.ready.length;
  }

  #instanceAborted(identifier: string): void {
    this.#aborted.add(identifier);
    if (this.#aborted.size !== this.ready.length || this.#stopped) return;
    this.#stopped = true;
    const { api, name } = this.settings;
    const { logger } = this.ready[0]!.environment;
    api.stopBuildBatch(this.batchId).catch((error: unknown) => logger.warn(`${name}: could not stop batch ${this.batchId}: ${errorMessage(error)}`));
  }
}

/** Why an instance got no build: the batch ended (or was stopped) before creating it. */
function noBuildResult(batchId: string, last: BuildBatch | undefined, member: ReadyMember, started: number): InvocationResult {
  if (member.environment.signal.aborted) return abortedResult(member.environment.signal, performance.now() - started);
  const phase = last?.phases?.find((p) => p.phaseStatus && p.phaseStatus !== 'SUCCEEDED');
  return failure(started, {
    code: 'codebuild.batch-failed',
    message: `CodeBuild batch ${batchId} ended (${last?.buildBatchStatus ?? 'no status'}${phase ? ` in phase ${phase.phaseType}` : ''}) without a build for ${member.invocation.id}`,
    hint: 'the project needs batch builds enabled (a batch service role); see the batch in the CodeBuild console',
  });
}

/**
 * Waits for CodeBuild to create the builds of the list and follows each one on its own as it
 * appears; resolves every member, including those whose build never appears.
 */
export async function followBatch(batchId: string, ready: readonly ReadyMember[], settings: BatchFollowSettings): Promise<void> {
  const { api, clock, pollMs, started } = settings;
  const stopper = new BatchStopper(batchId, ready, settings);
  const followed = new Set<string>();
  const maxPolls = Math.ceil(((settings.timeoutMinutes || 60) * 60_000) / pollMs) + 10;
  let last: BuildBatch | undefined;
  for (let poll = 0; poll < maxPolls && followed.size < ready.length; poll += 1) {
    try {
      [last] = await api.getBuildBatches([batchId]);
    } catch (error) {
      for (const m of ready) if (!followed.has(m.identifier)) m.resolve(failure(started, asError(error)));
      return;
    }
    for (const group of last?.buildGroups ?? []) {
      const arn = group.currentBuildSummary?.arn;
      const member = ready.find((m) => m.identifier === group.identifier);
      if (!arn || !member || followed.has(member.identifier)) continue;
      followed.add(member.identifier);
      void settings.follow(buildIdFromArn(arn), member).then(member.resolve);
    }
    if (followed.size === ready.length) return;
    if (last?.buildBatchStatus && last.buildBatchStatus !== 'IN_PROGRESS') break;
    if (stopper.allStopped) break;
    await clock.sleep(pollMs);
  }
  for (const m of ready) if (!followed.has(m.identifier)) m.resolve(noBuildResult(batchId, last, m, started));
}

// Following a long AWS operation (a deployment, a pipeline execution, a build) to its end: a
// polling loop bounded both in time and in count, whose clock and sleep are injected so tests run
// a 30-minute deployment in milliseconds.
import { setTimeout as sleep } from 'node:timers/promises';

export interface Clock {
  /** Milliseconds, monotonic enough for deadlines. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : {}).then(() => undefined, () => Promise.reject(signal?.reason as Error)),
};

/** A clock for tests: `sleep` advances `now` at once, so deadlines pass without waiting. */
export function fakeClock(start = 0): Clock & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      slept.push(ms);
      now += ms;
      await Promise.resolve();
      signal?.throwIfAborted();
    },
  };
}

export interface PollOptions {
  intervalMs: number;
  timeoutMs: number;
  /** Hard cap on checks whatever the clock says. Default: timeout / interval + 2. */
  maxPolls?: number | undefined;
  clock?: Clock | undefined;
  signal?: AbortSignal | undefined;
}

export type PollOutcome<T> = { timedOut: false; value: T; polls: number } | { timedOut: true; polls: number };

/**
 * Calls `check` until it returns a value other than `undefined`, sleeping `intervalMs` in between.
 * Resolves `{ timedOut: true }` when the time or the count runs out (the caller decides what to
 * stop); rejects with the abort reason when `signal` fires.
 */
export async function pollUntil<T>(check: (poll: number) => Promise<T | undefined>, options: PollOptions): Promise<PollOutcome<T>> {
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + options.timeoutMs;
  const maxPolls = options.maxPolls ?? Math.ceil(options.timeoutMs / Math.max(1, options.intervalMs)) + 2;
  for (let poll = 1; poll <= maxPolls; poll += 1) {
    options.signal?.throwIfAborted();
    const value = await check(poll);
    if (value !== undefined) return { timedOut: false, value, polls: poll };
    const left = deadline - clock.now();
    if (left <= 0) return { timedOut: true, polls: poll };
    await clock.sleep(Math.min(options.intervalMs, left), options.signal);
  }
  return { timedOut: true, polls: maxPolls };
}

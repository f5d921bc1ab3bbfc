import { describe, expect, it } from '@jest/globals';
import { fakeClock, pollUntil, systemClock } from '../../src/sdk/index.js';

describe('pollUntil', () => {
  it('returns the first answer and sleeps the interval between checks', async () => {
    const clock = fakeClock();
    const answers = [undefined, undefined, 'done'];
    const outcome = await pollUntil(async (n) => answers[n - 1], { intervalMs: 1000, timeoutMs: 60_000, clock });
    expect(outcome).toEqual({ timedOut: false, value: 'done', polls: 3 });
    expect(clock.slept).toEqual([1000, 1000]);
  });

  it('times out on the clock, never sleeping past the deadline', async () => {
    const clock = fakeClock();
    const outcome = await pollUntil(async () => undefined, { intervalMs: 4000, timeoutMs: 10_000, clock });
    expect(outcome.timedOut).toBe(true);
    expect(clock.slept).toEqual([4000, 4000, 2000]);
  });

  it('stops after maxPolls even if the clock never moves', async () => {
    const still = { now: () => 0, sleep: async () => {} };
    const outcome = await pollUntil(async () => undefined, { intervalMs: 1, timeoutMs: 1_000, maxPolls: 7, clock: still });
    expect(outcome).toEqual({ timedOut: true, polls: 7 });
  });

  it('rejects with the abort reason when the signal fires while sleeping', async () => {
    const controller = new AbortController();
    const pending = pollUntil(async () => undefined, { intervalMs: 10_000, timeoutMs: 60_000, clock: systemClock, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop now')), 10);
    await expect(pending).rejects.toThrow('stop now');
  });
});

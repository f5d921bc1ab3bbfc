// The driver's I/O with real processes: retry timers that a stop clears, and a cancel raised by a
// listener while the driver is carrying out decisions (it waits its turn, then reaches the attempt).
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StepRegistry } from '@shipgate/protocol';
import { parsePipeline } from '../../src/config/index.js';
import { planPipeline } from '../../src/plan/plan.js';
import { runStep } from '../../src/run-step/index.js';
import type { RunEvent } from '../../src/scheduler/events.js';
import { runPipeline, type RunOptions, type RunResult } from '../../src/scheduler/run-pipeline.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function run(yaml: string, options: Partial<RunOptions> & { onEvents?: (e: RunEvent, abort: () => void) => void } = {}): Promise<RunResult & { events: RunEvent[]; wallMs: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-driver-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'shipgate.yml'), yaml);
  const registry = new StepRegistry([runStep]);
  const plan = planPipeline(parsePipeline(yaml, path.join(dir, 'shipgate.yml'), { registry }));
  const events: RunEvent[] = [];
  const controller = new AbortController();
  const t0 = performance.now();
  const result = await runPipeline(plan, {
    registry,
    stateDir: path.join(dir, '.shipgate'),
    maxParallel: 4,
    gracePeriodMs: 300,
    signal: controller.signal,
    onEvent: (e) => {
      events.push(e);
      options.onEvents?.(e, () => controller.abort());
    },
    ...options,
  });
  return { ...result, events, wallMs: performance.now() - t0 };
}

describe('scheduler driver', () => {
  it('fail-fast ends a step waiting 20 s to retry at once, counting only the attempt that ran', async () => {
    const r = await run('name: p\nsteps:\n  a: { run: "sleep 0.3; exit 3" }\n  b: { run: "exit 1", retries: 3 }\n', { retryBaseDelayMs: 20_000 });
    expect(r.outcome).toBe('failure');
    expect(r.invocations.b).toMatchObject({ outcome: 'failure', attempts: 1 });
    expect(r.events.find((e) => e.type === 'step-retry')).toMatchObject({ id: 'b', attempt: 2 });
    expect(r.wallMs).toBeLessThan(10_000);
  });

  it('a cancel during a back-off clears the timer and ends the run as cancelled', async () => {
    const r = await run('name: p\nsteps:\n  a: { run: "exit 1", retries: 2 }\n', {
      retryBaseDelayMs: 20_000,
      onEvents: (e, abort) => e.type === 'step-retry' && abort(),
    });
    expect(r.outcome).toBe('cancelled');
    expect(r.exitCode).toBe(130);
    expect(r.invocations.a).toMatchObject({ outcome: 'failure', attempts: 1 });
    expect(r.wallMs).toBeLessThan(10_000);
  });

  it('a cancel raised by a listener as an attempt starts reaches that attempt', async () => {
    const r = await run('name: p\nsteps:\n  a: { run: "sleep 30" }\n  b: { run: "true", needs: [a] }\n', {
      onEvents: (e, abort) => e.type === 'step-start' && abort(),
    });
    expect(r.outcome).toBe('cancelled');
    expect(r.invocations.a).toMatchObject({ outcome: 'cancelled', attempts: 1 });
    expect(r.invocations.b).toMatchObject({ outcome: 'skipped', reason: 'the run was cancelled' });
    expect(r.wallMs).toBeLessThan(10_000);
  });

  it('a signal aborted before the run skips everything and starts nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    const r = await run('name: p\nsteps:\n  a: { run: "true" }\n  b: { run: "true", needs: [a] }\n', { signal: controller.signal });
    expect(r.outcome).toBe('cancelled');
    expect(Object.values(r.invocations).map((i) => [i.id, i.outcome, i.reason])).toEqual([
      ['a', 'skipped', 'the run was cancelled'],
      ['b', 'skipped', 'the run was cancelled'],
    ]);
    expect(r.events.some((e) => e.type === 'step-start')).toBe(false);
  });
});

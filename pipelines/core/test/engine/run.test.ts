import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePipeline } from '../../src/config/index.js';
import { planPipeline, type PlanOptions } from '../../src/plan/plan.js';
import { runPipeline, type RunOptions, type RunResult } from '../../src/scheduler/run-pipeline.js';
import type { RunEvent } from '../../src/scheduler/events.js';
import { defaultRegistry } from '../../../cli/src/cli/steps.js';
import { alive } from '../../../test/helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Run extends RunResult {
  events: RunEvent[];
  dir: string;
  read(file: string): string;
}

async function run(yaml: string, options: Partial<RunOptions> & { plan?: PlanOptions; dir?: string } = {}): Promise<Run> {
  const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), 'sg-run-'));
  if (!options.dir) dirs.push(dir);
  writeFileSync(path.join(dir, 'shipgate.yml'), yaml);
  const registry = defaultRegistry();
  const spec = parsePipeline(yaml, path.join(dir, 'shipgate.yml'), { registry });
  const events: RunEvent[] = [];
  const result = await runPipeline(planPipeline(spec, options.plan), {
    registry,
    stateDir: path.join(dir, '.shipgate'),
    maxParallel: 4,
    gracePeriodMs: 300,
    retryBaseDelayMs: 10,
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { ...result, events, dir, read: (f) => readFileSync(path.join(dir, f), 'utf8').trim() };
}

const outcomes = (r: RunResult) => Object.fromEntries(Object.values(r.invocations).map((i) => [i.id, i.outcome]));
// Each step records when it started and ended (ns) so overlap is proven from the steps themselves.
const timed = (name: string, seconds = 0.3) => `{ run: 'echo $(date +%s%N) > ${name}.start; sleep ${seconds}; echo $(date +%s%N) > ${name}.end' }`;
const span = (r: Run, name: string) => [Number(r.read(`${name}.start`)), Number(r.read(`${name}.end`))] as const;


describe('runPipeline: scheduling', () => {
  it('starts independent steps at once (their run times overlap)', async () => {
    const r = await run(`name: p\nsteps:\n  a: ${timed('a')}\n  b: ${timed('b')}\n`);
    expect(r.outcome).toBe('success');
    const [a0, a1] = span(r, 'a');
    const [b0, b1] = span(r, 'b');
    expect(a0 < b1 && b0 < a1).toBe(true);
  });

  it('never runs more than --max-parallel at once', async () => {
    const r = await run(`name: p\nsteps:\n  a: ${timed('a', 0.1)}\n  b: ${timed('b', 0.1)}\n`, { maxParallel: 1 });
    const [a0, a1] = span(r, 'a');
    const [b0, b1] = span(r, 'b');
    expect(a1 <= b0 || b1 <= a0).toBe(true);
  });

  it('a dependent waits for every matrix instance and reads upstream outputs', async () => {
    const r = await run(
      [
        'name: p',
        'steps:',
        '  build:',
        '    matrix: { target: [api, worker] }',
        '    run: touch built-${{ matrix.target }}; echo "v=${{ matrix.target }}-1" >> "$SHIPGATE_OUTPUT"',
        '  ship:',
        '    needs: [build]',
        '    run: ls built-* > seen; echo "${{ steps.build.outputs.v }} $SHIPGATE_MATRIX_TARGET" > got',
      ].join('\n'),
    );
    expect(r.outcome).toBe('success');
    expect(r.read('seen')).toBe('built-api\nbuilt-worker');
    expect(r.read('got')).toBe('worker-1'); // matrix outputs merge, last instance wins; no matrix env on ship
    expect(r.invocations['build[target=api]']?.outputs).toEqual({ v: 'api-1' });
  });
});

describe('runPipeline: failures', () => {
  it('fail-fast: stops running siblings (whole process group) and skips dependents', async () => {
    const yaml = [
      'name: p',
      'steps:',
      "  slow: { run: 'echo $$ > slow.pid; sleep 30' }",
      "  bad: { run: 'sleep 0.3; exit 3' }",
      '  after: { run: touch after, needs: [slow] }',
    ].join('\n');
    const r = await run(yaml);
    expect(r.outcome).toBe('failure');
    expect(r.exitCode).toBe(1);
    expect(outcomes(r)).toEqual({ slow: 'cancelled', bad: 'failure', after: 'skipped' });
    expect(r.invocations.bad?.error?.message).toBe('script exited with code 3');
    expect(r.invocations.after?.reason).toBe('needs slow, which was cancelled');
    expect(alive(Number(r.read('slow.pid')))).toBe(false);
    expect(existsSync(path.join(r.dir, 'after'))).toBe(false);
  });

  it('--keep-going lets independent steps finish, still skipping dependents of the failure', async () => {
    const yaml = ['name: p', 'steps:', "  bad: { run: 'exit 1' }", "  other: { run: 'sleep 0.3; touch other' }", '  child: { run: touch child, needs: [bad] }'].join('\n');
    const r = await run(yaml, { keepGoing: true });
    expect(outcomes(r)).toEqual({ bad: 'failure', other: 'success', child: 'skipped' });
    expect(r.exitCode).toBe(1);
  });

  it('continue-on-error: the failure is recorded but the run and its dependents go on', async () => {
    const yaml = ['name: p', 'steps:', "  flaky: { run: 'exit 1', continue-on-error: true }", '  next: { run: touch next, needs: [flaky] }'].join('\n');
    const r = await run(yaml);
    expect(outcomes(r)).toEqual({ flaky: 'failure', next: 'success' });
    expect(r.outcome).toBe('success');
  });

  it('retries a failed step with back-off and succeeds on the second attempt', async () => {
    const yaml = ['name: p', 'steps:', "  flaky: { run: 'n=$(cat n 2>/dev/null || echo 0); echo $((n+1)) > n; [ $n -ge 1 ]', retries: 2 }"].join('\n');
    const r = await run(yaml);
    expect(r.invocations.flaky).toMatchObject({ outcome: 'success', attempts: 2 });
    expect(r.read('n')).toBe('2');
    expect(r.events.filter((e) => e.type === 'step-retry')).toHaveLength(1);
    expect(r.events.filter((e) => e.type === 'step-start').map((e) => (e as { attempt: number }).attempt)).toEqual([1, 2]);
  });

  it('stops a step at its timeout and reports timed-out', async () => {
    const r = await run("name: p\nsteps:\n  slow: { run: 'sleep 10', timeout: 300ms }\n");
    expect(r.invocations.slow?.outcome).toBe('timed-out');
    expect(r.exitCode).toBe(1);
  });

  it('runs if: failure() and if: always() steps after a failure, not plain ones', async () => {
    const yaml = [
      'name: p',
      'steps:',
      "  deploy: { run: 'exit 1' }",
      '  notify: { run: touch notified, needs: [deploy], if: failure() }',
      '  cleanup: { run: touch cleaned, needs: [deploy], if: always() }',
      '  smoke: { run: touch smoked, needs: [deploy] }',
    ].join('\n');
    const r = await run(yaml);
    expect(outcomes(r)).toEqual({ deploy: 'failure', notify: 'success', cleanup: 'success', smoke: 'skipped' });
  });

  it('skips a step whose if: is false, saying so', async () => {
    const r = await run("name: p\nsteps:\n  a: { run: touch a, if: \"ci.branch == 'release'\" }\n", { ci: { provider: 'local', branch: 'main' } });
    expect(r.invocations.a).toMatchObject({ outcome: 'skipped', reason: "if: ci.branch == 'release' was false" });
    expect(r.outcome).toBe('success');
  });
});

describe('runPipeline: cache', () => {
  it('skips an unchanged step and restores its outputs; runs it again when an input file changes', async () => {
    const yaml = [
      'name: p',
      'steps:',
      '  build:',
      "    run: 'cat src/a.txt >> runs; echo \"digest=$(cat src/a.txt)\" >> \"$SHIPGATE_OUTPUT\"'",
      '    cache: { inputs: ["src/**"] }',
      '  use: { run: \'echo "${{ steps.build.outputs.digest }}" > used\', needs: [build] }',
    ].join('\n');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-cache-'));
    dirs.push(dir);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.join(dir, 'src'));
    writeFileSync(path.join(dir, 'src', 'a.txt'), 'one');

    const first = await run(yaml, { dir });
    expect(first.invocations.build?.outcome).toBe('success');
    const second = await run(yaml, { dir });
    expect(second.invocations.build?.outcome).toBe('cached');
    expect(second.read('used')).toBe('one'); // outputs restored for the dependent
    expect(second.read('runs')).toBe('one'); // the script did not run again

    writeFileSync(path.join(dir, 'src', 'a.txt'), 'two');
    const third = await run(yaml, { dir });
    expect(third.invocations.build?.outcome).toBe('success');
    expect(third.read('used')).toBe('two');

    const forced = await run(yaml, { dir, noCache: true });
    expect(forced.invocations.build?.outcome).toBe('success');
  });

  it('--only restores the outputs of unselected needs from their last success, or says to run them first', async () => {
    const yaml = ['name: p', 'steps:', "  a: { run: 'echo \"v=7\" >> \"$SHIPGATE_OUTPUT\"' }", "  b: { run: 'echo ${{ steps.a.outputs.v }} > got', needs: [a] }"].join('\n');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-only-'));
    dirs.push(dir);
    await expect(run(yaml, { dir, plan: { only: ['b'] } })).rejects.toThrow(/"a" is needed but not selected, and it has never succeeded here/);
    await run(yaml, { dir });
    rmSync(path.join(dir, 'got'));
    const only = await run(yaml, { dir, plan: { only: ['b'] } });
    expect(Object.keys(only.invocations)).toEqual(['b']);
    expect(only.read('got')).toBe('7');
  });
});

describe('runPipeline: cancellation and dry run', () => {
  it('Ctrl-C cancels running steps cleanly and exits 130', async () => {
    const controller = new AbortController();
    const yaml = "name: p\nsteps:\n  long: { run: 'echo $$ > long.pid; sleep 30' }\n  next: { run: touch next, needs: [long] }\n";
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-cancel-'));
    dirs.push(dir);
    const pending = run(yaml, { dir, signal: controller.signal, onEvent: (e) => e.type === 'step-log' || (e.type === 'step-start' && setTimeout(() => controller.abort('SIGINT'), 300)) });
    const r = await pending;
    expect(r.outcome).toBe('cancelled');
    expect(r.exitCode).toBe(130);
    expect(outcomes(r)).toEqual({ long: 'cancelled', next: 'skipped' });
    expect(alive(Number(readFileSync(path.join(dir, 'long.pid'), 'utf8')))).toBe(false);
  });

  it('--dry-run runs nothing and reports every invocation', async () => {
    const r = await run('name: p\nsteps:\n  a: { run: touch a }\n  b: { run: touch b, needs: [a], matrix: { n: [1, 2] } }\n', { dryRun: true });
    expect(outcomes(r)).toEqual({ a: 'skipped', 'b[n=1]': 'skipped', 'b[n=2]': 'skipped' });
    expect(existsSync(path.join(r.dir, 'a'))).toBe(false);
  });
});

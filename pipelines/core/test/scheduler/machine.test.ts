// Table tests for the scheduler's state machine: each row is a pipeline, then events with the
// decisions each must produce, written as short lines so a row reads like the run it describes.
import { describe, expect, it, jest } from '@jest/globals';
import { StepRegistry } from '@shipgate/protocol';
import { parsePipeline } from '../../src/config/index.js';
import { planPipeline } from '../../src/plan/plan.js';
import { runStep } from '../../src/run-step/index.js';
import { next, retryDelayMs, type Decision, type SchedulerEvent } from '../../src/scheduler/machine.js';
import { initialState, type SchedulerConfig, type SchedulerState } from '../../src/scheduler/state.js';

const registry = new StepRegistry([runStep]);

function machine(yaml: string, config: Partial<SchedulerConfig> = {}, restored: Record<string, Record<string, string>> = {}): SchedulerState {
  const plan = planPipeline(parsePipeline(`name: p\n${yaml}`, '/w/shipgate.yml', { registry }));
  const full: SchedulerConfig = { maxParallel: 4, keepGoing: false, noCache: false, retryBaseDelayMs: 10, executors: ['local'], env: { STAGE: 'prod' }, ci: { provider: 'local' }, ...config };
  return initialState(plan, full, new Map(Object.entries(restored)));
}

/** `ok a x=1` · `fail a` · `timeout a` · `cancelled a` · `hit a x=1` · `miss a` · `due a` · `cancel` · `dispatch` · `run` */
function parseEvent(line: string): SchedulerEvent {
  const [verb, id = '', ...pairs] = line.split(' ');
  const outputs = Object.fromEntries(pairs.map((p) => p.split('=') as [string, string]));
  const ended = (status: 'success' | 'failure' | 'timed-out' | 'cancelled'): SchedulerEvent => ({ type: 'attempt-ended', id, status, outputs, random: 0.5 });
  const events: Record<string, () => SchedulerEvent> = {
    run: () => ({ type: 'run-started' }),
    dispatch: () => ({ type: 'dispatch' }),
    ok: () => ended('success'),
    fail: () => ended('failure'),
    timeout: () => ended('timed-out'),
    cancelled: () => ended('cancelled'),
    hit: () => ({ type: 'cache-hit', id, outputs }),
    miss: () => ({ type: 'cache-miss', id }),
    due: () => ({ type: 'retry-due', id }),
    cancel: () => ({ type: 'cancel-requested' }),
  };
  return events[verb!]!();
}

function show(d: Decision): string {
  switch (d.type) {
    case 'start':
      return `start ${d.id}`;
    case 'look-up-cache':
      return `look up ${d.id}`;
    case 'attempt':
      return `attempt ${d.id} #${d.attempt}`;
    case 'retry':
      return `retry ${d.id} #${d.attempt} in ${d.delayMs}ms`;
    case 'skip':
      return `skip ${d.id}: ${d.reason}`;
    case 'finish':
      return `finish ${d.id} ${d.outcome}${d.error ? ` [${d.error.code}]` : ''}`;
    case 'cancel-attempts':
      return `cancel ${d.ids.join(',')} (${d.cause.kind === 'fail-fast' ? `fail-fast: ${d.cause.failedBy}` : 'requested'})`;
    case 'record-outputs':
      return `record ${d.stepId}`;
    case 'finish-run':
      return `run ${d.outcome}`;
  }
}

/** Sends each event and returns the decisions, one list per event. */
function play(state: SchedulerState, events: readonly string[]): string[][] {
  return events.map((line) => next(state, parseEvent(line)).decisions.map(show));
}

type Row = [name: string, yaml: string, config: Partial<SchedulerConfig>, script: [event: string, decisions: string[]][]];

const failFastReason = 'the run stopped after a failed (fail-fast; --keep-going lets independent steps finish)';

const rows: Row[] = [
  [
    'starts what has no needs, then each dependent once its needs are done',
    'steps:\n  a: { run: x }\n  b: { run: x, needs: [a] }\n  c: { run: x, needs: [a] }\n',
    {},
    [
      ['run', ['start a', 'attempt a #1']],
      ['ok a', ['finish a success', 'record a']],
      ['dispatch', ['start b', 'attempt b #1', 'start c', 'attempt c #1']],
      ['ok c', ['finish c success', 'record c']],
      ['ok b', ['finish b success', 'record b', 'run success']],
    ],
  ],
  [
    'never starts more than maxParallel; a finished one frees its slot at the next dispatch',
    'steps:\n  a: { run: x }\n  b: { run: x }\n  c: { run: x }\n',
    { maxParallel: 2 },
    [
      ['run', ['start a', 'attempt a #1', 'start b', 'attempt b #1']],
      ['ok b', ['finish b success', 'record b']],
      ['dispatch', ['start c', 'attempt c #1']],
      ['dispatch', []],
    ],
  ],
  [
    'with equal expected durations, the step heading the longer path starts first',
    'steps:\n  x: { run: x }\n  y: { run: x }\n  z: { run: x, needs: [y] }\n',
    { maxParallel: 1 },
    [['run', ['start y', 'attempt y #1']]],
  ],
  [
    'expected durations weigh the paths: a long step alone beats a short chain',
    'steps:\n  x: { run: x }\n  y: { run: x }\n  z: { run: x, needs: [y] }\n',
    { maxParallel: 1, durationsMs: { x: 5000, y: 100, z: 100 } },
    [['run', ['start x', 'attempt x #1']]],
  ],
  [
    'retries with back-off (base × 2^(n−1)), a timeout counts as a failure; the last failure finishes it',
    'steps:\n  a: { run: x, retries: 2 }\n',
    {},
    [
      ['run', ['start a', 'attempt a #1']],
      ['fail a', ['retry a #2 in 10ms']],
      ['due a', ['attempt a #2']],
      ['timeout a', ['retry a #3 in 20ms']],
      ['due a', ['attempt a #3']],
      ['fail a', ['finish a failure', 'run failure']],
    ],
  ],
  [
    'a retried step that then succeeds is a success',
    'steps:\n  a: { run: x, retries: 1 }\n',
    {},
    [
      ['run', ['start a', 'attempt a #1']],
      ['timeout a', ['retry a #2 in 10ms']],
      ['due a', ['attempt a #2']],
      ['ok a', ['finish a success', 'record a', 'run success']],
    ],
  ],
  [
    'a cancelled attempt is never retried',
    'steps:\n  a: { run: x, retries: 3 }\n',
    {},
    [
      ['run', ['start a', 'attempt a #1']],
      ['cancelled a', ['finish a cancelled', 'run success']],
    ],
  ],
  [
    'fail-fast: the first failure cancels running attempts and skips what has not started',
    'steps:\n  a: { run: x }\n  b: { run: x }\n  c: { run: x, needs: [a] }\n  d: { run: x }\n',
    { maxParallel: 2 },
    [
      ['run', ['start a', 'attempt a #1', 'start b', 'attempt b #1']],
      ['fail a', ['finish a failure', 'cancel b (fail-fast: a)']],
      ['cancelled b', ['finish b cancelled']],
      // d was queued before c became ready, and they weigh the same
      ['dispatch', [`skip d: ${failFastReason}`, 'skip c: needs a, which failed', 'run failure']],
    ],
  ],
  [
    'keep-going: independent steps still start after a failure; dependents of it are skipped',
    'steps:\n  a: { run: x }\n  b: { run: x }\n  c: { run: x, needs: [a] }\n  d: { run: x }\n',
    { maxParallel: 2, keepGoing: true },
    [
      ['run', ['start a', 'attempt a #1', 'start b', 'attempt b #1']],
      ['fail a', ['finish a failure']],
      ['dispatch', ['start d', 'attempt d #1', 'skip c: needs a, which failed']],
      ['ok b', ['finish b success', 'record b']],
      ['ok d', ['finish d success', 'record d', 'run failure']],
    ],
  ],
  [
    'continue-on-error: the failure is recorded, but neither the run nor its dependents stop',
    'steps:\n  a: { run: x, continue-on-error: true }\n  b: { run: x, needs: [a] }\n',
    {},
    [
      ['run', ['start a', 'attempt a #1']],
      ['fail a', ['finish a failure']],
      ['dispatch', ['start b', 'attempt b #1']],
      ['ok b', ['finish b success', 'record b', 'run success']],
    ],
  ],
  [
    'if: failure() and if: always() run after a failure, a plain dependent does not',
    "steps:\n  a: { run: x }\n  report: { run: x, needs: [a] }\n  notify: { run: x, needs: [a], if: failure() }\n  cleanup: { run: x, needs: [a], if: always() }\n  happy: { run: x, needs: [a], if: success() }\n",
    {},
    [
      ['run', ['start a', 'attempt a #1']],
      ['fail a', ['finish a failure']],
      ['dispatch', ['skip report: needs a, which failed', 'start notify', 'attempt notify #1', 'start cleanup', 'attempt cleanup #1', 'skip happy: if: success() was false']],
      ['ok notify', ['finish notify success', 'record notify']],
      ['ok cleanup', ['finish cleanup success', 'record cleanup', 'run failure']],
    ],
  ],
  [
    'if: failure() is skipped when everything succeeded; an if: on env decides by its value',
    "steps:\n  a: { run: x }\n  notify: { run: x, needs: [a], if: failure() }\n  prod: { run: x, needs: [a], if: env.STAGE == 'prod' }\n  dev: { run: x, needs: [a], if: \"env.STAGE == 'dev'\" }\n",
    {},
    [
      ['run', ['start a', 'attempt a #1']],
      ['ok a', ['finish a success', 'record a']],
      ['dispatch', ['skip notify: if: failure() was false', 'start prod', 'attempt prod #1', "skip dev: if: env.STAGE == 'dev' was false"]],
    ],
  ],
  [
    'a skip propagates down the chain in one dispatch, each saying which need stopped it',
    'steps:\n  a: { run: x }\n  b: { run: x, needs: [a] }\n  c: { run: x, needs: [b] }\n  d: { run: x, needs: [c] }\n',
    {},
    [
      ['run', ['start a', 'attempt a #1']],
      ['fail a', ['finish a failure']],
      ['dispatch', ['skip b: needs a, which failed', 'skip c: needs b, which was skipped', 'skip d: needs c, which was skipped', 'run failure']],
    ],
  ],
  [
    'cancellation: running attempts are cancelled, what is queued is skipped, the run ends cancelled',
    'steps:\n  a: { run: x }\n  b: { run: x }\n  c: { run: x }\n  d: { run: x, needs: [a] }\n',
    { maxParallel: 2 },
    [
      ['run', ['start a', 'attempt a #1', 'start b', 'attempt b #1']],
      ['cancel', ['cancel a,b (requested)', 'skip c: the run was cancelled']],
      ['cancel', []],
      ['cancelled a', ['finish a cancelled']],
      ['cancelled b', ['finish b cancelled']],
      ['dispatch', ['skip d: the run was cancelled', 'run cancelled']],
    ],
  ],
  [
    'cancellation ends a back-off at once, with the outcome of the last attempt',
    'steps:\n  a: { run: x, retries: 3 }\n',
    {},
    [
      ['run', ['start a', 'attempt a #1']],
      ['fail a', ['retry a #2 in 10ms']],
      ['cancel', ['finish a failure', 'run cancelled']],
      ['due a', []],
    ],
  ],
  [
    'fail-fast ends another step’s back-off at once; a step whose if: decides for itself keeps retrying',
    'steps:\n  a: { run: x }\n  b: { run: x, retries: 3 }\n  c: { run: x, retries: 3, if: always() }\n',
    {},
    [
      ['run', ['start a', 'attempt a #1', 'start b', 'attempt b #1', 'start c', 'attempt c #1']],
      ['fail b', ['retry b #2 in 10ms']],
      ['fail c', ['retry c #2 in 10ms']],
      ['fail a', ['finish a failure', 'finish b failure']],
      ['due c', ['attempt c #2']],
      ['ok c', ['finish c success', 'record c', 'run failure']],
    ],
  ],
  [
    'the cache: a hit finishes cached (its outputs are not recorded again); a miss runs the step',
    'steps:\n  a: { run: x, cache: { inputs: [src] } }\n  b: { run: x, cache: { inputs: [src] } }\n',
    {},
    [
      ['run', ['start a', 'look up a', 'start b', 'look up b']],
      ['hit a v=1', ['finish a cached']],
      ['miss b', ['attempt b #1']],
      ['ok b', ['finish b success', 'record b', 'run success']],
    ],
  ],
  [
    'noCache skips the look-up',
    'steps:\n  a: { run: x, cache: { inputs: [src] } }\n',
    { noCache: true },
    [['run', ['start a', 'attempt a #1']]],
  ],
  [
    'fail-fast while a cached step is being looked up: it is cancelled before its first attempt',
    'steps:\n  a: { run: x }\n  b: { run: x, cache: { inputs: [src] } }\n',
    {},
    [
      ['run', ['start a', 'attempt a #1', 'start b', 'look up b']],
      ['fail a', ['finish a failure']],
      ['miss b', ['finish b cancelled', 'run failure']],
    ],
  ],
  [
    'matrix: the step’s max-parallel limits its instances; dependents wait for every instance',
    'steps:\n  m: { run: x, matrix: { n: [1, 2, 3], max-parallel: 2 } }\n  z: { run: x }\n  after: { run: x, needs: [m] }\n',
    {},
    [
      ['run', ['start m[n=1]', 'attempt m[n=1] #1', 'start m[n=2]', 'attempt m[n=2] #1', 'start z', 'attempt z #1']],
      ['ok m[n=2]', ['finish m[n=2] success']],
      ['dispatch', ['start m[n=3]', 'attempt m[n=3] #1']],
      ['ok m[n=3]', ['finish m[n=3] success']],
      ['ok m[n=1]', ['finish m[n=1] success', 'record m']],
      ['dispatch', ['start after', 'attempt after #1']],
    ],
  ],
  [
    'matrix: one failed instance fails the step and skips its dependents',
    'steps:\n  m: { run: x, matrix: { n: [1, 2] } }\n  after: { run: x, needs: [m] }\n',
    { keepGoing: true },
    [
      ['run', ['start m[n=1]', 'attempt m[n=1] #1', 'start m[n=2]', 'attempt m[n=2] #1']],
      ['fail m[n=1]', ['finish m[n=1] failure']],
      ['ok m[n=2]', ['finish m[n=2] success']],
      ['dispatch', ['skip after: needs m, which failed', 'run failure']],
    ],
  ],
  [
    // the shape of a real library's pipeline it was tried on (install, typecheck, lint, sharded
    // vitest, vite build, a smoke import, failure() and always() steps), one test shard failing
    'a library pipeline under --keep-going: a failing test shard skips only what needs it',
    'steps:\n  install: { run: x }\n  typecheck: { run: x, needs: [install] }\n  lint: { run: x, needs: [install] }\n' +
      '  test: { run: x, needs: [install], matrix: { shard: [1, 2, 3], max-parallel: 2 } }\n  build: { run: x, needs: [typecheck] }\n' +
      '  smoke: { run: x, needs: [build, test] }\n  on-failure: { run: x, needs: [lint, test, smoke], if: failure() }\n  always: { run: x, needs: [smoke], if: always() }\n',
    { maxParallel: 2, keepGoing: true },
    [
      ['run', ['start install', 'attempt install #1']],
      ['ok install', ['finish install success', 'record install']],
      // the longest path first: typecheck → build → smoke → always, then the test shards, lint last
      ['dispatch', ['start typecheck', 'attempt typecheck #1', 'start test[shard=1]', 'attempt test[shard=1] #1']],
      ['ok test[shard=1]', ['finish test[shard=1] success']],
      ['dispatch', ['start test[shard=2]', 'attempt test[shard=2] #1']],
      ['ok typecheck', ['finish typecheck success', 'record typecheck']],
      ['dispatch', ['start test[shard=3]', 'attempt test[shard=3] #1']],
      ['fail test[shard=2]', ['finish test[shard=2] failure']],
      ['dispatch', ['start build', 'attempt build #1']],
      ['ok test[shard=3]', ['finish test[shard=3] success']],
      ['dispatch', ['start lint', 'attempt lint #1']],
      ['ok build', ['finish build success', 'record build']],
      ['dispatch', ['skip smoke: needs test, which failed', 'start always', 'attempt always #1']],
      ['ok lint', ['finish lint success', 'record lint']],
      ['dispatch', ['start on-failure', 'attempt on-failure #1']],
      ['ok always', ['finish always success', 'record always']],
      ['ok on-failure', ['finish on-failure success', 'record on-failure', 'run failure']],
    ],
  ],
  [
    'an unknown executor fails the invocation before it starts, and stops the run',
    'steps:\n  a: { run: x, executor: codebuild }\n  b: { run: x, needs: [a] }\n',
    {},
    [
      ['run', ['finish a failure [executor.unknown]', 'skip b: needs a, which failed', 'run failure']],
    ],
  ],
  [
    'an output nobody wrote fails the reader with its own code',
    'steps:\n  a: { run: x, outputs: [v] }\n  b: { run: "echo ${{ steps.a.outputs.v }}", needs: [a] }\n',
    {},
    [
      ['run', ['start a', 'attempt a #1']],
      ['ok a', ['finish a success', 'record a']],
      ['dispatch', ['finish b failure [step.output-missing]', 'run failure']],
    ],
  ],
];

describe('scheduler machine: decisions for each event', () => {
  it.each(rows)('%s', (_name, yaml, config, script) => {
    const state = machine(yaml, config);
    const got = play(state, script.map(([event]) => event));
    expect(script.map(([event], i) => [event, got[i]])).toEqual(script);
  });
});

describe('scheduler machine: what the decisions carry', () => {
  it('resolves a dependent’s invocation against its needs’ outputs, matrix instances merged in matrix order', () => {
    const state = machine('steps:\n  m: { run: x, matrix: { n: [1, 2] } }\n  ship: { run: "echo ${{ steps.m.outputs.v }}", needs: [m] }\n');
    play(state, ['run', 'ok m[n=2] v=two', 'ok m[n=1] v=one']);
    const start = next(state, { type: 'dispatch' }).decisions.find((d) => d.type === 'start');
    // the last instance in matrix order wins, whatever order they finished in
    expect(start).toMatchObject({ type: 'start', id: 'ship', executor: 'local', invocation: { with: { script: 'echo two' } } });
  });

  it('hands the cache look-up the outputs of the needs, restored ones included', () => {
    const state = machine('steps:\n  a: { run: x }\n  b: { run: x, needs: [a, up], cache: { inputs: [src] } }\n  up: { run: x }\n', {}, {});
    const restoredState = initialState(planPipeline(state.plan.pipeline, { only: ['a', 'b'] }), state.config, new Map([['up', { tag: 'v1' }]]));
    play(restoredState, ['run', 'ok a x=1']);
    const lookUp = next(restoredState, { type: 'dispatch' }).decisions.find((d) => d.type === 'look-up-cache');
    expect(lookUp).toEqual({ type: 'look-up-cache', id: 'b', upstream: { a: { x: '1' }, up: { tag: 'v1' } } });
  });

  it('a plan with no invocations is done at once', () => {
    const state = machine('steps:\n  a: { run: x }\n');
    const empty = initialState({ ...state.plan, steps: [], nodes: [], levels: [] }, state.config);
    expect(play(empty, ['run', 'dispatch'])).toEqual([['run success'], []]);
  });

  it('record-outputs carries the step’s merged outputs', () => {
    const state = machine('steps:\n  a: { run: x }\n');
    play(state, ['run']);
    expect(next(state, parseEvent('ok a v=1 w=2')).decisions).toContainEqual({ type: 'record-outputs', stepId: 'a', outputs: { v: '1', w: '2' } });
  });

  it('ignores events for invocations not in the phase they speak of (a late timer, a duplicate end)', () => {
    const state = machine('steps:\n  a: { run: x }\n  b: { run: x }\n');
    expect(play(state, ['run', 'due a', 'miss a', 'hit a', 'ok a', 'ok a', 'due a'])).toEqual([
      ['start a', 'attempt a #1', 'start b', 'attempt b #1'],
      [],
      [],
      [],
      ['finish a success', 'record a'],
      [],
      [],
    ]);
  });

  it('is deterministic and reads no clock and no randomness of its own', () => {
    const yaml = 'steps:\n  a: { run: x, retries: 1 }\n  b: { run: x, needs: [a] }\n';
    const script = ['run', 'fail a', 'due a', 'ok a', 'dispatch', 'ok b'];
    const now = jest.spyOn(Date, 'now').mockImplementation(() => {
      throw new Error('the machine read the clock');
    });
    const random = jest.spyOn(Math, 'random').mockImplementation(() => {
      throw new Error('the machine drew a random number');
    });
    try {
      expect(play(machine(yaml), script)).toEqual(play(machine(yaml), script));
    } finally {
      now.mockRestore();
      random.mockRestore();
    }
  });
});

describe('retryDelayMs', () => {
  it.each([
    [1000, 1, 0.5, 1000],
    [1000, 2, 0.5, 2000],
    [1000, 3, 0, 2000],
    [1000, 3, 0.999, 5996],
    [1000, 10, 0.5, 30_000],
    [10, 1, 0, 5],
  ])('base %d ms, attempt %d, jitter draw %d → %d ms', (base, attempt, random, expected) => {
    expect(retryDelayMs(base, attempt, random)).toBeCloseTo(expected, 6);
  });
});

import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { defineStep, ShipgateError, StepRegistry } from '@shipgate/protocol';
import { parseDuration, parsePipeline } from '../../src/config/index.js';
import { runStep } from '../../src/run-step/index.js';

const deployStep = defineStep({
  name: 'deploy',
  description: 'test step',
  inputs: z.strictObject({ environment: z.enum(['staging', 'prod']), replicas: z.number().int().min(1).default(1) }),
  async run() {},
});
const registry = new StepRegistry([runStep, deployStep]);

function problems(yaml: string): string[] {
  try {
    parsePipeline(yaml, 'shipgate.yml', { registry });
  } catch (error) {
    if (!(error instanceof ShipgateError)) throw error;
    return [error, ...error.related].map((e) => `${e.location?.line}:${e.location?.column} ${e.code} ${e.message}`);
  }
  throw new Error('expected the pipeline to be rejected');
}

describe('parsePipeline: a valid file', () => {
  it('turns every key into the StepSpec the engine runs', () => {
    const spec = parsePipeline(
      [
        'name: orders',
        'env: { NODE_ENV: test, RETRIES: 3 }',
        'steps:',
        '  build:',
        '    matrix: { target: [api, worker], max-parallel: 1 }',
        '    run: npm run build -- ${{ matrix.target }}',
        '    cache: { inputs: ["src/**"] }',
        '  ship:',
        '    needs: build',
        '    uses: deploy',
        '    with: { environment: prod }',
        "    if: ${{ ci.branch == 'main' }}",
        '    timeout: 1h30m',
        '    retries: 2',
        '    continue-on-error: true',
        '    working-directory: services/orders',
        '    outputs: [url]',
        '    env: { REGION: eu-west-1 }',
        '    executor: codebuild',
      ].join('\n'),
      '/repo/shipgate.yml',
      { registry },
    );
    expect(spec).toMatchObject({ name: 'orders', root: '/repo', env: { NODE_ENV: 'test', RETRIES: '3' } });
    expect(spec.steps[0]).toMatchObject({
      id: 'build',
      uses: 'run',
      with: { script: 'npm run build -- ${{ matrix.target }}' },
      matrix: { axes: { target: ['api', 'worker'] }, include: [], exclude: [], maxParallel: 1 },
      cache: { inputs: ['src/**'] },
      retries: 0,
      continueOnError: false,
    });
    expect(spec.steps[1]).toMatchObject({
      id: 'ship',
      uses: 'deploy',
      with: { environment: 'prod' },
      needs: ['build'],
      if: "${{ ci.branch == 'main' }}",
      timeoutMs: 5_400_000,
      retries: 2,
      continueOnError: true,
      workingDirectory: 'services/orders',
      outputs: ['url'],
      env: { REGION: 'eu-west-1' },
      executor: 'codebuild',
      location: { file: '/repo/shipgate.yml', line: 8, column: 3 },
    });
  });
});

describe('parsePipeline: every mistake with file:line:col', () => {
  it.each([
    ['a YAML syntax error', 'name: x\nsteps:\n  a: [unclosed\n', /^\d+:\d+ config.yaml /],
    ['a duplicate key', 'name: x\nsteps:\n  a: { run: echo }\n  a: { run: echo }\n', /^4:3 config.duplicate-key /],
    ['an unknown top-level key, with did-you-mean', 'name: x\nstep:\n  a: { run: echo }\n', /^2:1 config.unknown-key unknown key "step" at the top level — did you mean "steps"\?/],
    ['an unknown step key, with did-you-mean', 'name: x\nsteps:\n  a:\n    run: echo\n    need: [b]\n', /^5:5 config.unknown-key unknown key "need" in steps.a — did you mean "needs"\?/],
    ['a wrong type, naming the value', 'name: x\nsteps:\n  a:\n    run: echo\n    retries: two\n', /^5:14 config.type steps.a.retries: .*got "two"/],
    ['a missing name', 'steps:\n  a: { run: echo }\n', /^1:1 config.type name is required/],
    ['both run and uses', 'name: x\nsteps:\n  a: { run: echo, uses: deploy, with: { environment: prod } }\n', /^3:3 config.run-and-uses step "a" needs exactly one of run: or uses: \(it has both\)/],
    ['an unknown need, with did-you-mean', 'name: x\nsteps:\n  build: { run: echo }\n  test: { run: echo, needs: [biuld] }\n', /^4:30 config.unknown-need step "test" needs "biuld", which is not a step — did you mean "build"\?/],
    ['an unknown step, listing the registered ones', 'name: x\nsteps:\n  a: { uses: deplyo }\n', /^3:14 config.unknown-step step "a": no step named "deplyo" — did you mean "deploy"\?/],
    ['a bad step input value with the allowed values', 'name: x\nsteps:\n  a:\n    uses: deploy\n    with: { environment: qa }\n', /^5:26 config.step-input step "a": input environment: must be one of staging, prod \(got "qa"\)/],
    ['a missing step input', 'name: x\nsteps:\n  a:\n    uses: deploy\n', /^3:3 config.step-input step "a": deploy needs the input "environment"/],
    ['an unknown step input', 'name: x\nsteps:\n  a:\n    uses: deploy\n    with: { environment: prod, replica: 2 }\n', /^5:32 config.step-input step "a": deploy has no input "replica" — did you mean "replicas"\?/],
    ['a bad duration', 'name: x\nsteps:\n  a: { run: echo, timeout: 10 minutes }\n', /^3:28 config.duration step "a": timeout "10 minutes" is not a duration/],
    ['an exclude naming no axis', 'name: x\nsteps:\n  a:\n    matrix: { os: [linux], exclude: [{ oss: linux }] }\n    run: echo\n', /^4:40 config.matrix step "a": exclude\[0\] names "oss", which is not an axis — did you mean "os"\?/],
    ['an exclude that removes every combination', 'name: x\nsteps:\n  a:\n    matrix: { os: [linux] }\n    run: echo\n  b:\n    matrix:\n      os: [linux, mac]\n      exclude: [{ os: linux }, { os: mac }]\n    run: echo\n', /^9:7 config.matrix step "b": exclude removes every combination/],
    ['an empty matrix axis', 'name: x\nsteps:\n  a:\n    matrix: { os: [] }\n    run: echo\n', /^4:19 config.type steps.a.matrix.os: a matrix axis needs at least one value/],
    ['an expression syntax error, pointing into the string', 'name: x\nsteps:\n  a: { run: "echo ${{ env.X == }}" }\n', /^3:32 config.expression step "a": the expression ends too early/],
    ['an unknown expression context', 'name: x\nsteps:\n  a: { run: "echo ${{ github.sha }}" }\n', /^3:\d+ config.expression step "a": unknown context "github"/],
    ['a matrix key that is not an axis', 'name: x\nsteps:\n  a:\n    matrix: { target: [api] }\n    run: echo ${{ matrix.tagret }}\n', /^5:19 config.expression step "a": matrix.tagret is not an axis of its matrix — did you mean "target"\?/],
    ['reading outputs of a step that does not run before', 'name: x\nsteps:\n  a: { run: echo }\n  b: { run: "echo ${{ steps.a.outputs.v }}" }\n', /config.expression step "b" reads steps.a, which does not run before it/],
    ['a bad if: condition', "name: x\nsteps:\n  a:\n    run: echo\n    if: ci.branch === 'main'\n", /^5:9 config.expression step "a": unexpected character "=" at column 13/],
  ])('%s', (_name, yaml, expected) => {
    expect(problems(yaml)[0]).toMatch(expected);
  });

  it('prints a cycle as the path that closes it', () => {
    const found = problems('name: x\nsteps:\n  a: { run: echo, needs: [c] }\n  b: { run: echo, needs: [a] }\n  c: { run: echo, needs: [b] }\n');
    // one error, at the needs: entry of b that closes a → c → b → a
    expect(found).toEqual(['4:27 config.cycle step "b" needs "a", which closes a cycle: a → c → b → a (each needs the next)']);
  });

  it('reports every problem at once, sorted by position', () => {
    const found = problems('name: x\nsteps:\n  a: { run: echo, needs: [zz] }\n  b: { uses: nope }\n');
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/^3:\d+ config.unknown-need/);
    expect(found[1]).toMatch(/^4:\d+ config.unknown-step/);
  });

  it('formats as file:line:col: message [code] with a hint line', () => {
    try {
      parsePipeline('name: x\nsteps:\n  a: { run: echo, nedes: [b] }\n', 'ci/shipgate.yml', { registry });
    } catch (error) {
      expect((error as ShipgateError).format()).toBe(
        'ci/shipgate.yml:3:19: unknown key "nedes" in steps.a — did you mean "needs"? [config.unknown-key]\n' +
          '  hint: allowed keys: run, uses, with, needs, matrix, env, if, timeout, retries, continue-on-error, working-directory, outputs, cache, artifacts, executor',
      );
      return;
    }
    throw new Error('expected an error');
  });

  it('does not type-check with: values that are expressions (known only at run time)', () => {
    const spec = parsePipeline('name: x\nsteps:\n  a: { run: echo }\n  b:\n    needs: [a]\n    uses: deploy\n    with: { environment: "${{ steps.a.outputs.env }}" }\n', 'f.yml', { registry });
    expect(spec.steps[1]!.with).toEqual({ environment: '${{ steps.a.outputs.env }}' });
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['90s', 90_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
  ])('%s = %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['10', 'ten minutes', '5 m', '0s', ''])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/is not a duration/);
  });
});

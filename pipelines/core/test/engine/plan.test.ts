import { describe, expect, it } from '@jest/globals';
import { expandMatrix, invocationId } from '../../src/plan/matrix.js';
import { criticalPath, planPipeline } from '../../src/plan/plan.js';
import { parsePipeline } from '../../src/config/index.js';
import { defaultRegistry } from '../../../cli/src/cli/steps.js';

describe('expandMatrix (GitHub Actions rules)', () => {
  it.each([
    ['the product of the axes, in order', { axes: { os: ['linux', 'mac'], node: [22, 24] }, include: [], exclude: [] }, [
      { os: 'linux', node: 22 }, { os: 'linux', node: 24 }, { os: 'mac', node: 22 }, { os: 'mac', node: 24 },
    ]],
    ['a partial exclude removes every match', { axes: { os: ['linux', 'mac'], node: [22, 24] }, include: [], exclude: [{ os: 'mac' }] }, [
      { os: 'linux', node: 22 }, { os: 'linux', node: 24 },
    ]],
    ['an include extends the combinations it does not contradict', { axes: { os: ['linux', 'mac'] }, include: [{ os: 'mac', arch: 'arm64' }], exclude: [] }, [
      { os: 'linux' }, { os: 'mac', arch: 'arm64' },
    ]],
    ['an include that fits nothing is a combination of its own', { axes: { os: ['linux'] }, include: [{ os: 'windows' }], exclude: [] }, [
      { os: 'linux' }, { os: 'windows' },
    ]],
    ['include-only matrices', { axes: {}, include: [{ target: 'a' }, { target: 'b' }], exclude: [] }, [{ target: 'a' }, { target: 'b' }]],
  ])('%s', (_name, spec, expected) => {
    expect(expandMatrix(spec)).toEqual(expected);
  });

  it('names invocations step[axis=value,…]', () => {
    expect(invocationId('build', { target: 'api', node: 24 })).toBe('build[target=api,node=24]');
    expect(invocationId('lint')).toBe('lint');
  });
});

const spec = parsePipeline(
  [
    'name: p',
    'steps:',
    '  build: { run: echo, matrix: { target: [api, worker] } }',
    '  lint: { run: echo }',
    '  unit: { run: echo, needs: [build] }',
    '  e2e: { run: echo, needs: [build] }',
    '  deploy: { run: echo, needs: [unit, e2e, lint] }',
  ].join('\n'),
  '/w/shipgate.yml',
  { registry: defaultRegistry() },
);

describe('planPipeline', () => {
  it('groups steps into levels and expands matrices into invocations', () => {
    const plan = planPipeline(spec);
    expect(plan.levels).toEqual([['build', 'lint'], ['unit', 'e2e'], ['deploy']]);
    expect(plan.nodes.map((n) => n.id)).toEqual(['build[target=api]', 'build[target=worker]', 'lint', 'unit', 'e2e', 'deploy']);
    expect(plan.restored).toEqual([]);
  });

  it('--from selects the step and everything downstream; needs outside become restored', () => {
    const plan = planPipeline(spec, { from: 'unit' });
    expect(plan.steps.map((s) => s.id)).toEqual(['unit', 'deploy']);
    expect([...plan.restored].sort()).toEqual(['build', 'e2e', 'lint']);
  });

  it('--only selects exactly those steps', () => {
    const plan = planPipeline(spec, { only: ['lint', 'e2e'] });
    expect(plan.levels).toEqual([['lint', 'e2e']]);
    expect(plan.restored).toEqual(['build']);
  });

  it('rejects an unknown step name with did-you-mean', () => {
    expect(() => planPipeline(spec, { only: ['lnt'] })).toThrow(/--only: "lnt" is not a step of p — did you mean "lint"\?/);
  });

  it('finds the critical path by duration', () => {
    const plan = planPipeline(spec);
    expect(criticalPath(plan, { build: 100, lint: 200, unit: 50, e2e: 300, deploy: 10 })).toEqual({ path: ['build', 'e2e', 'deploy'], totalMs: 410 });
    expect(criticalPath(plan, { build: 100, lint: 900, unit: 50, e2e: 300, deploy: 10 })).toEqual({ path: ['lint', 'deploy'], totalMs: 910 });
  });
});

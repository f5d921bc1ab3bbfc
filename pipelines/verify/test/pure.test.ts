// Table tests for the verify step's pure parts: the verdict state machine, template quoting, check
// evaluation, PromQL syntax and reading Prometheus' answers.
import { describe, expect, it } from '@jest/globals';
import os from 'node:os';
import { runStepInProcess } from '@shipgate/core';
import { evaluateCheck, evaluationOffsets, evaluationStatus, initialVerdictState, measurementFromResponse, nextVerdictState, prometheusAuthFromEnv, promqlSyntaxError, rollbackDeadlineMs, substituteTemplate, verifyInputs, verifyStep, type CheckStatus, type ScheduleOptions } from '@shipgate/verify';

const schedule = (over: Partial<ScheduleOptions> = {}): ScheduleOptions => ({ count: 5, intervalMs: 1000, initialDelayMs: 0, failureLimit: 1, inconclusiveLimit: 0, ...over });

function run(statuses: CheckStatus[], options: ScheduleOptions) {
  let state = initialVerdictState;
  let used = 0;
  for (const s of statuses) {
    if (state.verdict) break;
    state = nextVerdictState(state, s, options);
    used += 1;
  }
  return { verdict: state.verdict, used };
}

describe('verdict state machine', () => {
  it.each([
    ['all pass → passed after count', ['pass', 'pass', 'pass', 'pass', 'pass'], schedule(), 'passed', 5],
    ['failures within the limit → passed', ['fail', 'pass', 'pass', 'pass', 'pass'], schedule(), 'passed', 5],
    ['failure-limit + 1 failures → failed at once', ['pass', 'fail', 'fail', 'pass', 'pass'], schedule(), 'failed', 3],
    ['failure-limit 0: the first failure decides', ['fail', 'pass'], schedule({ failureLimit: 0 }), 'failed', 1],
    ['one inconclusive over a limit of 0 → inconclusive', ['pass', 'inconclusive', 'pass'], schedule(), 'inconclusive', 2],
    ['inconclusive within its limit → passed', ['inconclusive', 'pass', 'pass'], schedule({ count: 3, inconclusiveLimit: 1 }), 'passed', 3],
    ['only inconclusive, all tolerated → inconclusive, never passed', ['inconclusive', 'inconclusive'], schedule({ count: 2, inconclusiveLimit: 5 }), 'inconclusive', 2],
    ['a failure beats an inconclusive limit not yet crossed', ['inconclusive', 'fail', 'fail'], schedule({ inconclusiveLimit: 3 }), 'failed', 3],
    ['not decided before count', ['pass', 'pass'], schedule(), undefined, 2],
  ] as const)('%s', (_name, statuses, options, verdict, used) => {
    expect(run([...statuses], options)).toEqual({ verdict, used });
  });

  it('does not move once decided', () => {
    const decided = { ...initialVerdictState, failed: 2, evaluations: 2, verdict: 'failed' as const };
    expect(nextVerdictState(decided, 'pass', schedule())).toBe(decided);
  });

  it.each([
    [['pass', 'pass'], 'pass'],
    [['pass', 'inconclusive'], 'inconclusive'],
    [['inconclusive', 'fail'], 'fail'],
    [[], 'inconclusive'],
  ] as const)('an evaluation of %j is %s', (checks, status) => expect(evaluationStatus([...checks])).toBe(status));

  it('runs on a fixed schedule and knows its rollback deadline', () => {
    expect(evaluationOffsets({ count: 4, intervalMs: 500, initialDelayMs: 2000 })).toEqual([2000, 2500, 3000, 3500]);
    expect(rollbackDeadlineMs({ intervalMs: 500, initialDelayMs: 2000, failureLimit: 2 })).toBe(3500);
  });
});

describe('PromQL-safe template substitution', () => {
  const vars = { version: '1.2.3', environment: 'prod', evil: '"} or vector(1) or {a="', quote: "it's", nl: 'a\nb' };
  it.each([
    ['inside a "string"', 'up{version="{{ version }}"}', 'up{version="1.2.3"}'],
    ['regex matcher escapes the regex too', 'up{version=~"{{version}}"}', 'up{version=~"1\\\\.2\\\\.3"}'],
    ['an injection attempt stays one string', 'up{v="{{ evil }}"}', 'up{v="\\"} or vector(1) or {a=\\""}'],
    ["inside a 'single-quoted' string", "up{v='{{ quote }}'}", "up{v='it\\'s'}"],
    ['a newline is escaped', 'up{v="{{ nl }}"}', 'up{v="a\\nb"}'],
    ['outside a string it becomes a string literal', 'label_replace(up, "v", {{ version }}, "", "")', 'label_replace(up, "v", "1.2.3", "", "")'],
    ['raw strings take the value as is', 'up{v=`{{ environment }}`}', 'up{v=`prod`}'],
    ['escaped quotes do not end the string', 'up{v="a\\"{{ version }}"}', 'up{v="a\\"1.2.3"}'],
    ['no placeholder: unchanged', 'sum(rate(x[1m]))', 'sum(rate(x[1m]))'],
  ])('%s', (_name, query, expected) => {
    expect(substituteTemplate(query, vars)).toBe(expected);
    expect(promqlSyntaxError(substituteTemplate(query, vars))).toBeUndefined();
  });

  it('names a variable without a value', () => {
    expect(() => substituteTemplate('up{v="{{ colour }}"}', vars)).toThrow(expect.objectContaining({ code: 'verify.unknown-variable' }));
  });
  it('refuses a backtick in a raw string', () => {
    expect(() => substituteTemplate('up{v=`{{ x }}`}', { x: 'a`b' })).toThrow(expect.objectContaining({ code: 'verify.unsafe-variable' }));
  });
});

describe('evaluating a check', () => {
  it.each([
    ['under max passes', { max: 0.05 }, { value: 0.01 }, undefined, 'pass', undefined],
    ['over max fails', { max: 0.05 }, { value: 0.2 }, undefined, 'fail', '0.2 > 0.05'],
    ['at max passes', { max: 0.05 }, { value: 0.05 }, undefined, 'pass', undefined],
    ['under min fails', { min: 10 }, { value: 3 }, undefined, 'fail', '3 < 10'],
    ['outside range fails', { range: [1, 2] as const }, { value: 2.5 }, undefined, 'fail', '2.5 is outside 1..2'],
    ['inside range passes', { range: [1, 2] as const }, { value: 1 }, undefined, 'pass', undefined],
    ['NaN is inconclusive', { max: 1 }, { value: Number.NaN }, undefined, 'inconclusive', 'the query gave NaN (no traffic to divide by?)'],
    ['no data is inconclusive', { max: 1 }, { missing: 'no data (empty vector)' }, undefined, 'inconclusive', 'no data (empty vector)'],
    ['baseline: worse by more than the margin fails', { baseline: { margin: 0.1, better: 'lower' as const } }, { value: 0.12 }, { value: 0.1 }, 'fail', '0.12 is worse than the baseline 0.1 by more than 10%'],
    ['baseline: within the margin passes', { baseline: { margin: 0.1, better: 'lower' as const } }, { value: 0.105 }, { value: 0.1 }, 'pass', undefined],
    ['baseline higher-is-better', { baseline: { margin: 0.2, better: 'higher' as const } }, { value: 70 }, { value: 100 }, 'fail', '70 is worse than the baseline 100 by more than 20%'],
    ['baseline zero: the margin is an absolute floor', { baseline: { margin: 0.01, better: 'lower' as const } }, { value: 0.005 }, { value: 0 }, 'pass', undefined],
    ['baseline without data is inconclusive', { baseline: { margin: 0.1, better: 'lower' as const } }, { value: 0.1 }, { missing: 'no data (empty vector)' }, 'inconclusive', 'baseline: no data (empty vector)'],
  ])('%s', (_name, limits, measured, baseline, status, reason) => {
    const outcome = evaluateCheck(limits, measured, baseline);
    expect([outcome.status, outcome.reason]).toEqual([status, reason]);
  });
  it('describes its limit for the table', () => {
    expect(evaluateCheck({ max: 0.05, baseline: { margin: 0.1, better: 'lower' } }, { value: 0.01 }, { value: 0.02 }).limit).toBe('≤ 0.05, ≤ baseline 0.02 +10%');
  });
});

describe('PromQL syntax (Lezer grammar)', () => {
  it.each([
    ['sum(rate(http_requests_total{code=~"5.."}[1m])) / sum(rate(http_requests_total[1m]))', undefined],
    ['histogram_quantile(0.9, sum by (le) (rate(x_bucket{version="{{ version }}"}[1m])))', undefined],
    ['label_replace(up, "v", {{ version }}, "", "")', undefined],
    // real alert rules write `> 0.`: Prometheus accepts it, the bare Lezer grammar did not
    ['abs(ceph_monitor_clock_skew_seconds) > 0.', undefined],
    ['sum(cilium_bpf_map_pressure{map_name=~"cilium_policy_.*"}) by (pod) > 0.', undefined],
    ['x > 1. and y < 2', undefined],
    ['up{job="a0."} > 0', undefined],
    ['sum(rate(x[1m])', 15],
    ['rate(x[5x])', 8],
    ['up{a="b"', 8],
    ['', 0],
  ])('%s → error at %s', (query, offset) => {
    expect(promqlSyntaxError(query)?.offset).toBe(offset);
  });
  it('is part of the inputs schema, at the path of the query', () => {
    const parsed = verifyInputs.safeParse({ prometheus: 'http://127.0.0.1:9090', checks: [{ name: 'ok', query: 'up', max: 1 }, { name: 'bad', query: 'sum(rate(x[1m])', max: 1 }] });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['checks.1.query', 'PromQL syntax error at column 16 of the query (it ends too early)']]);
  });
});

describe("reading Prometheus' answer", () => {
  it.each([
    ['one sample', { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, '0.25'] }] } }, { value: 0.25 }],
    ['a scalar', { status: 'success', data: { resultType: 'scalar', result: [1, '3'] } }, { value: 3 }],
    ['NaN stays NaN (evaluateCheck makes it inconclusive)', { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, 'NaN'] }] } }, { value: Number.NaN }],
    ['an empty vector', { status: 'success', data: { resultType: 'vector', result: [] } }, { missing: 'no data (empty vector)' }],
    ['two series', { status: 'success', data: { resultType: 'vector', result: [{ value: [1, '1'] }, { value: [1, '2'] }] } }, { missing: '2 series, not one number: aggregate the query (sum, max, …)' }],
    ['a query error', { status: 'error', error: 'parse error' }, { missing: 'query error: parse error' }],
    ['a matrix', { status: 'success', data: { resultType: 'matrix', result: [] } }, { missing: 'the query gave a matrix, not one number' }],
  ])('%s', (_name, body, expected) => expect(measurementFromResponse(body)).toEqual(expected));
});

describe('Prometheus auth from the environment', () => {
  it.each([
    ['bearer token', { PROMETHEUS_TOKEN: 'tok-1' }, { header: 'Bearer tok-1', secrets: ['tok-1'] }],
    ['basic auth', { PROMETHEUS_USERNAME: 'ana', PROMETHEUS_PASSWORD: 'pw' }, { header: `Basic ${Buffer.from('ana:pw').toString('base64')}`, secrets: ['pw', Buffer.from('ana:pw').toString('base64')] }],
    ['the token wins over basic', { PROMETHEUS_TOKEN: 't', PROMETHEUS_USERNAME: 'ana', PROMETHEUS_PASSWORD: 'pw' }, { header: 'Bearer t', secrets: ['t'] }],
    ['none', {}, undefined],
  ])('%s', (_name, env, expected) => expect(prometheusAuthFromEnv(env)).toEqual(expected));
  it('refuses half a basic auth', () => {
    expect(() => prometheusAuthFromEnv({ PROMETHEUS_USERNAME: 'ana' })).toThrow(expect.objectContaining({ code: 'verify.auth-incomplete' }));
  });
});

describe('verifyStep without rollbacks', () => {
  it('fails before its first evaluation when on-failure names a rollback it was not given', async () => {
    const started = performance.now();
    const result = await runStepInProcess(verifyStep, { prometheus: 'http://127.0.0.1:9', checks: [{ name: 'e', query: 'up', max: 1 }], interval: '1m', 'initial-delay': '1m', 'on-failure': { codedeploy: { application: 'orders', 'deployment-group': 'production' } } }, { cwd: os.tmpdir(), env: {} });
    expect(result.status).toBe('failure');
    expect(result.error).toMatchObject({ code: 'verify.rollback-unavailable', message: 'on-failure names codedeploy, but this verify step has no codedeploy rollback' });
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

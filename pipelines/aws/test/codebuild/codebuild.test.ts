// The CodeBuild executor's pure parts: the executor: key, the request (buildspec, env overrides,
// secrets), and reading a build back (status, failed phase, the step's error line).
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { parsePipeline } from '../../../core/src/config/index.js';
import { resolveExecutor } from '../../../core/src/config/executor.js';
import type { CodeBuildExecutorConfig } from '../../../core/src/config/model.js';
import type { StepInvocation } from '../../../protocol/src/executor.js';
import { abortedResult, asError, buildOutcome, displayLine, failure, stepErrorFromLog, type BuildLike } from '../../src/codebuild/outcome.js';
import { batchIdentifier, batchRequest, batchTimeoutMinutes, buildIdFromArn, buildTimeoutMinutes, prepareRemoteInvocation, renderBuildspec, shellWord, splitBatchEnvironment, stepCommand } from '../../src/codebuild/request.js';
import { ShipgateError } from '../../../protocol/src/errors.js';
import { defaultRegistry } from '../../../cli/src/cli/steps.js';

describe('executor: in shipgate.yml', () => {
  it.each([
    ['local', 'local', { kind: 'local' }],
    ['codebuild', 'codebuild', { kind: 'codebuild', secrets: {} }],
    ['codebuild:orders-build', 'codebuild:orders-build', { kind: 'codebuild', project: 'orders-build', secrets: {} }],
    [{ codebuild: { project: 'orders-build' } }, 'codebuild:orders-build', { kind: 'codebuild', project: 'orders-build', secrets: {} }],
  ] as const)('%j is executor %s', (raw, name, config) => {
    expect(resolveExecutor(raw as never)).toEqual({ ok: true, name, config });
  });

  it('an object form with settings gets its own name, stable for the same settings', () => {
    const raw = { codebuild: { project: 'orders-build', region: 'eu-west-1', 'compute-type': 'BUILD_GENERAL1_LARGE' as const, secrets: { DB_PASSWORD: 'parameter-store:/orders/db', API_TOKEN: 'secrets-manager:orders/api:token' }, 'poll-interval': '2s' } };
    const a = resolveExecutor(raw);
    expect(a).toMatchObject({
      ok: true,
      name: expect.stringMatching(/^codebuild:orders-build\+[0-9a-f]{8}$/),
      config: {
        region: 'eu-west-1',
        computeType: 'BUILD_GENERAL1_LARGE',
        pollIntervalMs: 2000,
        secrets: { DB_PASSWORD: { type: 'PARAMETER_STORE', value: '/orders/db' }, API_TOKEN: { type: 'SECRETS_MANAGER', value: 'orders/api:token' } },
      },
    });
    expect(resolveExecutor(structuredClone(raw))).toEqual(a);
    expect(resolveExecutor({ codebuild: { ...raw.codebuild, region: 'us-east-1' } })).not.toMatchObject({ name: (a as { name: string }).name });
  });

  it.each([
    ['lcoal', /unknown executor "lcoal" — did you mean "local"\?/],
    ['codebuild:no spaces', /"no spaces" is not a CodeBuild project name/],
    ['local:x', /local takes no argument/],
  ])('rejects %j', (raw, message) => {
    const r = resolveExecutor(raw);
    expect(r.ok).toBe(false);
    expect((r as { message: string }).message).toMatch(message);
  });

  it('rejects a poll interval under 1 s (CodeBuild throttles fast pollers)', () => {
    expect(resolveExecutor({ codebuild: { project: 'p1', 'poll-interval': '200ms' } })).toMatchObject({ ok: false, message: expect.stringMatching(/below 1s/) });
  });

  const load = (yaml: string) => parsePipeline(yaml, '/repo/shipgate.yml', { registry: defaultRegistry() });
  const problem = (yaml: string): string => {
    try {
      load(yaml);
    } catch (error) {
      return (error as ShipgateError).format();
    }
    throw new Error('expected a config error');
  };

  it("the README's executor: example is a valid pipeline", () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### `executor:` — where a step runs'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const spec = load(`name: readme\n${yaml}`);
    expect(spec.steps.map((s) => s.executor)).toEqual(['local', undefined, expect.stringMatching(/^codebuild:orders-build\+/)]);
    expect(spec.executors![spec.steps[2]!.executor!]).toMatchObject({ region: 'eu-west-1', computeType: 'BUILD_GENERAL1_MEDIUM', secrets: { DB_PASSWORD: { type: 'PARAMETER_STORE', value: '/orders/db-password' } }, pollIntervalMs: 5000 });
  });

  it('loads the pipeline default and a step override, with the settings of each name', () => {
    const spec = load(
      'name: x\nexecutor: codebuild:orders-build\nsteps:\n  a: { run: "true" }\n  b: { run: "true", executor: local }\n  c:\n    run: "true"\n    executor: { codebuild: { project: big-box, compute-type: BUILD_GENERAL1_LARGE } }\n',
    );
    expect(spec.executor).toBe('codebuild:orders-build');
    expect(spec.steps.map((s) => s.executor)).toEqual([undefined, 'local', expect.stringMatching(/^codebuild:big-box\+/)]);
    expect(Object.keys(spec.executors!).sort()).toEqual(['codebuild:orders-build', 'local', spec.steps[2]!.executor].sort());
    expect(spec.executors![spec.steps[2]!.executor!]).toMatchObject({ kind: 'codebuild', project: 'big-box', computeType: 'BUILD_GENERAL1_LARGE' });
  });

  it('points at a bad executor value, a misspelt setting and an unknown compute type', () => {
    expect(problem('name: x\nsteps:\n  a: { run: "true", executor: "codebuild:a b" }\n')).toMatch(/^\/repo\/shipgate.yml:3:31: step "a": executor "codebuild:a b": "a b" is not a CodeBuild project name \[config.executor\]/);
    expect(problem('name: x\nexecutor: { codebuild: { project: p1, regoin: eu-west-1 } }\nsteps:\n  a: { run: "true" }\n')).toMatch(/2:39: unknown key "regoin" in executor.codebuild — did you mean "region"\? \[config.unknown-key\]/);
    expect(problem('name: x\nsteps:\n  a:\n    run: "true"\n    executor: { codebuild: { project: p1, compute-type: HUGE } }\n')).toMatch(/steps.a.executor.codebuild.compute-type: .*BUILD_GENERAL1_SMALL.*\(got "HUGE"\) \[config.type\]/);
  });
});

const config = (extra: Partial<CodeBuildExecutorConfig> = {}): CodeBuildExecutorConfig => ({ kind: 'codebuild', project: 'orders-build', secrets: {}, ...extra });
const invocation = (extra: Partial<StepInvocation> = {}): StepInvocation => ({ id: 'unit', stepId: 'unit', uses: 'run', with: { script: 'npm test' }, env: { NODE_ENV: 'test' }, workingDirectory: '.', ...extra });

describe('prepareRemoteInvocation: secrets never travel as values', () => {
  it('sends plain env inside the invocation and as PLAINTEXT overrides (not CodeBuild\'s own names)', () => {
    const inv = invocation({ env: { NODE_ENV: 'test', CODEBUILD_X: 'y', A_FLAG: '1' } });
    expect(prepareRemoteInvocation(inv, config(), [], 'codebuild:orders-build')).toEqual({
      invocation: inv,
      environment: [
        { name: 'A_FLAG', value: '1', type: 'PLAINTEXT' },
        { name: 'NODE_ENV', value: 'test', type: 'PLAINTEXT' },
      ],
    });
  });

  it('splits a batch: what all instances share is one override, what differs goes to each build', () => {
    const ref = { name: 'DB_PASSWORD', value: '/orders/db', type: 'PARAMETER_STORE' as const };
    const { shared, own } = splitBatchEnvironment([
      [{ name: 'NODE_ENV', value: 'test', type: 'PLAINTEXT' }, { name: 'SHIPGATE_MATRIX_TARGET', value: 'api', type: 'PLAINTEXT' }, ref, { name: 'SHIPGATE_SECRETS', value: 'DB_PASSWORD', type: 'PLAINTEXT' }],
      [{ name: 'NODE_ENV', value: 'test', type: 'PLAINTEXT' }, { name: 'SHIPGATE_MATRIX_TARGET', value: 'worker', type: 'PLAINTEXT' }, ref, { name: 'SHIPGATE_SECRETS', value: 'DB_PASSWORD', type: 'PLAINTEXT' }],
    ]);
    expect(shared).toEqual([{ name: 'NODE_ENV', value: 'test', type: 'PLAINTEXT' }, ref, { name: 'SHIPGATE_SECRETS', value: 'DB_PASSWORD', type: 'PLAINTEXT' }]);
    expect(own).toEqual([{ SHIPGATE_MATRIX_TARGET: 'api' }, { SHIPGATE_MATRIX_TARGET: 'worker' }]);
  });

  it('takes mapped secrets out of the invocation and sends references, plus SHIPGATE_SECRETS for masking', () => {
    const cfg = config({ secrets: { DB_PASSWORD: { type: 'PARAMETER_STORE', value: '/orders/db' }, API_TOKEN: { type: 'SECRETS_MANAGER', value: 'orders/api:token' }, UNUSED_TOKEN: { type: 'PARAMETER_STORE', value: '/x' } } });
    const inv = invocation({ env: { NODE_ENV: 'test', DB_PASSWORD: 'hunter2-very-secret' }, with: { script: 'curl -H "Authorization: $API_TOKEN" https://x' } });
    const remote = prepareRemoteInvocation(inv, cfg, ['hunter2-very-secret'], 'codebuild:orders-build');
    expect(remote.invocation.env).toEqual({ NODE_ENV: 'test' });
    expect(remote.environment).toEqual([
      { name: 'NODE_ENV', value: 'test', type: 'PLAINTEXT' },
      { name: 'API_TOKEN', value: 'orders/api:token', type: 'SECRETS_MANAGER' },
      { name: 'DB_PASSWORD', value: '/orders/db', type: 'PARAMETER_STORE' },
      { name: 'SHIPGATE_SECRETS', value: 'API_TOKEN,DB_PASSWORD', type: 'PLAINTEXT' },
    ]);
    expect(JSON.stringify(remote)).not.toContain('hunter2');
  });

  it.each([
    ['an env name that looks secret', invocation({ env: { DEPLOY_TOKEN: 'abcd1234' } }), [], /env DEPLOY_TOKEN holds a secret/],
    ['a known secret value under an innocent name', invocation({ env: { NOTE: 'xx-s3cr3t-xx' } }), ['s3cr3t'], /env NOTE holds a secret/],
    ['a secret inside with:', invocation({ with: { script: 'echo s3cr3t' } }), ['s3cr3t'], /an input in with: holds a secret/],
  ])('refuses %s', (_what, inv, secrets, message) => {
    let error: ShipgateError | undefined;
    try {
      prepareRemoteInvocation(inv, config(), secrets, 'codebuild:orders-build');
    } catch (e) {
      error = e as ShipgateError;
    }
    expect(error?.code).toBe('executor.codebuild-secret');
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain('s3cr3t');
    expect(error?.hint).toMatch(/parameter-store|secrets/);
  });
});

describe('the buildspec override', () => {
  it('installs, then runs shipgate step with the invocation, from the directory of shipgate.yml', () => {
    const text = renderBuildspec({ command: stepCommand('services/orders', 'eyJpZCI6InVuaXQifQ==') });
    expect(parse(text)).toEqual({
      version: 0.2,
      env: { shell: 'bash' },
      phases: { install: { commands: ['npm ci --no-audit --no-fund'] }, build: { commands: ['npx shipgate -C services/orders step --invocation eyJpZCI6InVuaXQifQ=='] } },
    });
    expect(text).toMatch(/^version: 0.2$/m);
  });

  it('a batch lists one build per invocation, each with its own SHIPGATE_INVOCATION, and no install when told so', () => {
    const spec = parse(renderBuildspec({ install: [], command: stepCommand('.', '"$SHIPGATE_INVOCATION"'), buildList: [{ identifier: 'i0_a', invocation: 'QQ==' }, { identifier: 'i1_b', invocation: 'Qg==' }] }));
    expect(spec.batch).toEqual({
      'fast-fail': false,
      'build-list': [
        { identifier: 'i0_a', env: { variables: { SHIPGATE_INVOCATION: 'QQ==' } } },
        { identifier: 'i1_b', env: { variables: { SHIPGATE_INVOCATION: 'Qg==' } } },
      ],
    });
    expect(spec.phases).toEqual({ build: { commands: ['npx shipgate step --invocation "$SHIPGATE_INVOCATION"'] } });
  });

  it.each([
    [undefined, undefined],
    [60_000, 5],
    [10 * 60_000, 11],
    [100 * 3_600_000, 2160],
  ])('step timeout %s ms → timeoutInMinutesOverride %s', (ms, minutes) => {
    expect(buildTimeoutMinutes(ms)).toBe(minutes);
  });

  it.each<[string, Array<number | undefined>, number]>([
    ['no instance has a time-out', [undefined, undefined], 0],
    ['the longest instance wins', [60_000, undefined, 10 * 60_000], 11],
    ['capped like a single build', [100 * 3_600_000], 2160],
    ['an empty batch', [], 0],
  ])('batch time-out: %s', (_name, timeouts, minutes) => {
    expect(batchTimeoutMinutes(timeouts)).toBe(minutes);
  });

  it('a batch request shares the common env, gives each instance its own, and takes the longest time-out', () => {
    const secretRef = { name: 'DB_PASSWORD', value: '/orders/db', type: 'PARAMETER_STORE' as const };
    const request = batchRequest(
      [
        { identifier: 'i0_a', data: 'QQ==', overrides: [{ name: 'NODE', value: '22', type: 'PLAINTEXT' }, secretRef, { name: 'SHIPGATE_SECRETS', value: 'DB_PASSWORD', type: 'PLAINTEXT' }], timeoutMs: 60_000 },
        { identifier: 'i1_b', data: 'Qg==', overrides: [{ name: 'NODE', value: '24', type: 'PLAINTEXT' }, secretRef], timeoutMs: 20 * 60_000 },
      ],
      { install: [], sourceDirectory: 'services/orders' },
    );
    expect(request.environmentVariablesOverride).toEqual([secretRef, { name: 'SHIPGATE_SECRETS', value: 'DB_PASSWORD', type: 'PLAINTEXT' }]);
    expect(request.buildTimeoutInMinutesOverride).toBe(21);
    const spec = parse(request.buildspecOverride);
    expect(spec.batch['build-list']).toEqual([
      { identifier: 'i0_a', env: { variables: { NODE: '22', SHIPGATE_INVOCATION: 'QQ==' } } },
      { identifier: 'i1_b', env: { variables: { NODE: '24', SHIPGATE_INVOCATION: 'Qg==' } } },
    ]);
    expect(spec.phases).toEqual({ build: { commands: ['npx shipgate -C services/orders step --invocation "$SHIPGATE_INVOCATION"'] } });
  });

  it('a batch request without shared env or time-outs leaves those overrides out', () => {
    const request = batchRequest([{ identifier: 'i0_a', data: 'QQ==', overrides: [] }], { sourceDirectory: '.' });
    expect(Object.keys(request)).toEqual(['buildspecOverride']);
  });

  it('names batch builds with letters, digits and _ only, and reads build ids out of ARNs', () => {
    expect(batchIdentifier('build[target=api,node=24]', 3)).toBe('i3_build_target_api_node_24');
    expect(buildIdFromArn('arn:aws:codebuild:eu-west-1:123456789012:build/orders-build:6f1c')).toBe('orders-build:6f1c');
    expect(shellWord('dir with space')).toBe("'dir with space'");
    expect(shellWord("it's")).toBe("'it'\\''s'");
  });
});

describe('reading a build back', () => {
  const failedPhase = { phaseType: 'BUILD', phaseStatus: 'FAILED', contexts: [{ statusCode: 'COMMAND_EXECUTION_ERROR', message: 'Error while executing command: npx shipgate step. Reason: exit status 1' }] };
  it.each<[string, BuildLike, boolean, object]>([
    ['IN_PROGRESS', { buildStatus: 'IN_PROGRESS' }, false, { done: false }],
    ['SUCCEEDED', { buildStatus: 'SUCCEEDED' }, false, { done: true, status: 'success' }],
    ['FAILED', { id: 'p:1', buildStatus: 'FAILED', phases: [{ phaseType: 'INSTALL', phaseStatus: 'SUCCEEDED' }, failedPhase] }, false, { done: true, status: 'failure', error: { code: 'codebuild.failed', message: 'CodeBuild build p:1 failed in phase BUILD: COMMAND_EXECUTION_ERROR: Error while executing command: npx shipgate step. Reason: exit status 1' } }],
    ['FAULT', { id: 'p:1', buildStatus: 'FAULT', phases: [{ phaseType: 'DOWNLOAD_SOURCE', phaseStatus: 'FAULT', contexts: [{ statusCode: 'CLIENT_ERROR', message: 'reference not found' }] }] }, false, { status: 'failure', error: { code: 'codebuild.fault', message: expect.stringContaining('DOWNLOAD_SOURCE: CLIENT_ERROR: reference not found') } }],
    ['TIMED_OUT', { id: 'p:1', buildStatus: 'TIMED_OUT', timeoutInMinutes: 60 }, false, { status: 'timed-out', error: { code: 'codebuild.timed-out', message: expect.stringContaining('60 min') } }],
    ['STOPPED by shipgate', { buildStatus: 'STOPPED' }, true, { done: true, status: 'cancelled' }],
    ['STOPPED by someone else', { id: 'p:1', buildStatus: 'STOPPED', initiator: 'alice' }, false, { status: 'failure', error: { code: 'codebuild.stopped', message: expect.stringContaining('initiator alice') } }],
  ])('%s', (_name, build, stopped, expected) => {
    expect(buildOutcome(build, stopped)).toMatchObject(expected);
  });

  it("finds the step's own error line and its hint in the log", () => {
    const lines = ['[Container] 2026/12/01 07:00:00.1 Running command npx shipgate step', 'boom', 'shipgate: unit failure: script exited with code 3 [step.exit-code]', '  hint: see the step log above for its output', '[Container] 2026/12/01 07:00:01.2 Phase complete: BUILD State: FAILED'];
    expect(stepErrorFromLog(lines)).toEqual({ code: 'step.exit-code', message: 'script exited with code 3', hint: 'see the step log above for its output' });
    expect(stepErrorFromLog(['nothing here'])).toBeUndefined();
  });

  it('hides the outputs marker and shortens the echoed invocation', () => {
    const data = 'eyJpZCI6InVuaXQiLCJzdGVwSWQiOiJ1bml0In0=';
    expect(displayLine(`[Container] Running command npx shipgate step --invocation ${data}`, [data], '::shipgate-outputs::')).toBe('[Container] Running command npx shipgate step --invocation <invocation>');
    expect(displayLine('::shipgate-outputs::e30=', [data], '::shipgate-outputs::')).toBeUndefined();
    expect(displayLine('plain', [data], '::shipgate-outputs::')).toBe('plain');
  });
});

describe('results without a build outcome', () => {
  const aborted = (reason: unknown) => {
    const controller = new AbortController();
    controller.abort(reason);
    return controller.signal;
  };
  it.each<[string, unknown, string]>([
    ['a time-out', new DOMException('too slow', 'TimeoutError'), 'timed-out'],
    ['a cancel', new DOMException('stop', 'AbortError'), 'cancelled'],
    ['no reason', undefined, 'cancelled'],
  ])('an abort by %s is %s', (_name, reason, status) => {
    expect(abortedResult(aborted(reason), 12)).toEqual({ status, outputs: {}, durationMs: 12, summaries: [] });
  });

  it.each<[string, unknown, object]>([
    ['a ShipgateError keeps its code and hint', new ShipgateError('aws.denied', 'no codebuild:StartBuild', { hint: 'grant it' }), { code: 'aws.denied', message: 'no codebuild:StartBuild', hint: 'grant it' }],
    ['any other error is executor.codebuild', new Error('socket hang up'), { code: 'executor.codebuild', message: 'socket hang up' }],
  ])('%s', (_name, error, expected) => {
    expect(asError(error)).toEqual(expected);
    expect(failure(performance.now(), asError(error))).toMatchObject({ status: 'failure', outputs: {}, summaries: [], error: expected });
  });
});

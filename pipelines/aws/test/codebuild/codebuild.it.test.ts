// Pipelines whose steps run through the CodeBuild executor, end to end: shipgate.yml → plan →
// engine → CodeBuildExecutor → the real AWS SDK clients → a wire-shaped CodeBuild/CloudWatch fake
// that runs each build's `shipgate step --invocation …` with the real CLI, so logs, outcomes and
// outputs really flow back. Single step, matrix batch, a failed build, secrets, a cancelled run.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { BatchGetBuildsCommand, StartBuildBatchCommand, StartBuildCommand, StopBuildBatchCommand, StopBuildCommand } from '@aws-sdk/client-codebuild';
import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { parse } from 'yaml';
import { parsePipeline } from '../../../core/src/config/index.js';
import { planPipeline } from '../../../core/src/plan/plan.js';
import { runPipeline, type RunResult } from '../../../core/src/scheduler/run-pipeline.js';
import type { RunEvent } from '../../../core/src/scheduler/events.js';
import { createExecutors } from '../../../cli/src/cli/executors.js';
import { defaultRegistry } from '../../../cli/src/cli/steps.js';
import { alive, cli } from '../../../test/helpers.js';
import { FakeCodeBuild } from './codebuild-fake.js';

let dir: string;
let fake: FakeCodeBuild;
const secretValue = 'pg-pass-7f3a9c';

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sg-codebuild-'));
  fake = new FakeCodeBuild(dir, { parameters: { '/orders/db-password': secretValue } });
});
afterEach(async () => {
  await fake.restore();
  rmSync(dir, { recursive: true, force: true });
});

interface Run extends RunResult {
  events: RunEvent[];
  logs: (id: string) => string[];
}

async function run(yaml: string, options: { signal?: AbortSignal; env?: Record<string, string>; onEvent?: (e: RunEvent) => void } = {}): Promise<Run> {
  writeFileSync(path.join(dir, 'shipgate.yml'), yaml);
  const registry = defaultRegistry();
  const spec = parsePipeline(yaml, path.join(dir, 'shipgate.yml'), { registry });
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, AWS_REGION: 'eu-west-1', ...options.env };
  const io = { stdout: new PassThrough(), stderr: new PassThrough(), cwd: dir, env, isTTY: false, signal: new AbortController().signal };
  const executors = createExecutors(registry, spec, io, { codebuild: { pollIntervalMs: 25, batchWindowMs: 50, sourceDirectory: '.', stopWaitMs: 10_000 } });
  const events: RunEvent[] = [];
  const result = await runPipeline(planPipeline(spec), {
    registry,
    executors,
    stateDir: path.join(dir, '.shipgate'),
    ci: { provider: 'github', sha: '3f5e2c1d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d' },
    env,
    secrets: options.env?.DB_PASSWORD ? [options.env.DB_PASSWORD] : [],
    gracePeriodMs: 300,
    ...(options.signal ? { signal: options.signal } : {}),
    onEvent: (e) => {
      events.push(e);
      options.onEvent?.(e);
    },
  });
  const logs = (id: string) => events.flatMap((e) => (e.type === 'step-log' && e.id === id ? [e.line] : []));
  return { ...result, events, logs };
}

const outcomes = (r: RunResult) => Object.fromEntries(Object.values(r.invocations).map((i) => [i.id, i.outcome]));

describe('the CodeBuild executor, end to end', () => {
  it('runs a step as a build at the commit, streams its log, and hands its outputs to the next step', async () => {
    const r = await run(
      [
        'name: orders',
        'executor: codebuild:orders-build',
        'steps:',
        '  version:',
        '    env: { PATCH: "7" }',
        '    run: |',
        '      echo "building $CODEBUILD_RESOLVED_SOURCE_VERSION in $CODEBUILD_BUILD_ID"',
        '      for i in 1 2 3 4 5 6; do echo "line $i"; done',
        '      echo "version=1.2.${{ env.PATCH }}" >> "$SHIPGATE_OUTPUT"',
        '    outputs: [version]',
        '    timeout: 10m',
        '  announce:',
        '    needs: version',
        '    executor: local',
        '    run: echo "shipping ${{ steps.version.outputs.version }}" > announced.txt',
      ].join('\n'),
    );
    expect(outcomes(r)).toEqual({ version: 'success', announce: 'success' });
    expect(readFileSync(path.join(dir, 'announced.txt'), 'utf8').trim()).toBe('shipping 1.2.7');
    expect(r.invocations.version!.outputs).toEqual({ version: '1.2.7' });

    const starts = fake.codebuild.commandCalls(StartBuildCommand);
    expect(starts).toHaveLength(1); // the local step did not go to CodeBuild
    const input = starts[0]!.args[0].input;
    expect(input).toMatchObject({ projectName: 'orders-build', sourceVersion: '3f5e2c1d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d', timeoutInMinutesOverride: 11 });
    expect(input.environmentVariablesOverride).toEqual([{ name: 'PATCH', value: '7', type: 'PLAINTEXT' }]);
    const buildspec = parse(input.buildspecOverride!);
    expect(buildspec.phases.install.commands).toEqual(['npm ci --no-audit --no-fund']);
    const [command] = buildspec.phases.build.commands as string[];
    const data = /^npx shipgate step --invocation ([A-Za-z0-9+/=]+)$/.exec(command!)?.[1];
    expect(JSON.parse(Buffer.from(data!, 'base64').toString())).toMatchObject({ id: 'version', uses: 'run', env: { PATCH: '7' }, with: { script: expect.stringContaining('version=1.2.7') } });

    const log = r.logs('version');
    const [build] = [...fake.builds.values()];
    expect(log).toEqual(expect.arrayContaining([`building 3f5e2c1d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d in ${build!.id}`, 'line 1', 'line 6']));
    expect(log.find((l) => l.includes('::shipgate-outputs::'))).toBeUndefined();
    expect(log.find((l) => l.includes(data!))).toBeUndefined(); // the echoed command is shortened
    expect(log.some((l) => l.includes('--invocation <invocation>'))).toBe(true);
    expect(log.filter((l) => l === 'line 3')).toHaveLength(1); // every line once, across pages
    // the log was read in several pages, each continuing from the last forward token
    const tokens = fake.logs.commandCalls(GetLogEventsCommand).map((c) => c.args[0].input.nextToken);
    expect(tokens.filter((t) => t && t !== 'f/0').length).toBeGreaterThan(2);
    expect(fake.codebuild.commandCalls(BatchGetBuildsCommand).every((c) => c.args[0].input.ids?.[0] === build!.id)).toBe(true);
  });

  it('sends a matrix as one batch build and follows each build of it on its own', async () => {
    const r = await run(
      [
        'name: orders',
        'steps:',
        '  build:',
        '    executor: codebuild:orders-build',
        '    env: { STAGE: ci }',
        '    matrix: { target: [api, worker] }',
        '    run: |',
        '      echo "packing ${{ matrix.target }}"',
        '      echo "artifact_${{ matrix.target }}=${{ matrix.target }}.tgz" >> "$SHIPGATE_OUTPUT"',
        '  collect:',
        '    needs: build',
        '    run: echo "${{ steps.build.outputs.artifact_api }} ${{ steps.build.outputs.artifact_worker }}" > collected.txt',
      ].join('\n'),
    );
    expect(outcomes(r)).toEqual({ 'build[target=api]': 'success', 'build[target=worker]': 'success', collect: 'success' });
    expect(readFileSync(path.join(dir, 'collected.txt'), 'utf8').trim()).toBe('api.tgz worker.tgz');
    expect(fake.codebuild.commandCalls(StartBuildCommand)).toHaveLength(0);
    const batches = fake.codebuild.commandCalls(StartBuildBatchCommand);
    expect(batches).toHaveLength(1);
    const spec = parse(batches[0]!.args[0].input.buildspecOverride!);
    expect(spec.batch['build-list'].map((b: { identifier: string }) => b.identifier)).toEqual(['i0_build_target_api', 'i1_build_target_worker']);
    // what differs between the instances is in each build's own variables, the rest shared
    expect(spec.batch['build-list'].map((b: { env: { variables: Record<string, string> } }) => b.env.variables.SHIPGATE_MATRIX_TARGET)).toEqual(['api', 'worker']);
    expect(batches[0]!.args[0].input.environmentVariablesOverride).toEqual([{ name: 'STAGE', value: 'ci', type: 'PLAINTEXT' }]);
    expect([...fake.builds.values()].map((b) => [b.env.SHIPGATE_MATRIX_TARGET, b.env.STAGE])).toEqual([['api', 'ci'], ['worker', 'ci']]);
    expect(spec.phases.build.commands).toEqual(['npx shipgate step --invocation "$SHIPGATE_INVOCATION"']);
    // each instance's log is its own build's
    expect(r.logs('build[target=api]')).toContain('packing api');
    expect(r.logs('build[target=api]')).not.toContain('packing worker');
    expect(r.logs('build[target=worker]')).toContain('packing worker');
    const polled = new Set(fake.codebuild.commandCalls(BatchGetBuildsCommand).map((c) => c.args[0].input.ids![0]));
    expect(polled).toEqual(new Set([...fake.builds.keys()]));
  });

  it("fails the step with the step's own error when the build fails, and skips its dependents", async () => {
    const r = await run(
      ['name: orders', 'executor: codebuild:orders-build', 'steps:', '  test:', '    run: |', '      echo "3 tests failed"', '      exit 3', '  deploy:', '    needs: test', '    run: "true"'].join('\n'),
    );
    expect(outcomes(r)).toEqual({ test: 'failure', deploy: 'skipped' });
    expect(r.invocations.test!.error).toEqual({ code: 'step.exit-code', message: 'script exited with code 3', hint: 'see the step log above for its output' });
    expect(r.logs('test')).toContain('3 tests failed');
    expect([...fake.builds.values()].map((b) => b.status)).toEqual(['FAILED']);
    expect(r.exitCode).toBe(1);
  });

  it('passes a mapped secret as a Parameter Store reference, never its value, and the build masks it', async () => {
    const yaml = [
      'name: orders',
      'executor: { codebuild: { project: orders-build, secrets: { DB_PASSWORD: "parameter-store:/orders/db-password" } } }',
      'steps:',
      '  migrate:',
      '    env: { DB_PASSWORD: "${{ env.DB_PASSWORD }}" }',
      '    run: |',
      '      echo "connecting with $DB_PASSWORD"',
      '      echo "dsn=postgres://orders:$DB_PASSWORD@db/orders" >> "$SHIPGATE_OUTPUT"',
    ].join('\n');
    const r = await run(yaml, { env: { DB_PASSWORD: secretValue } });
    expect(outcomes(r)).toEqual({ migrate: 'success' });
    const input = fake.codebuild.commandCalls(StartBuildCommand)[0]!.args[0].input;
    expect(JSON.stringify(input)).not.toContain(secretValue);
    const invocation = JSON.parse(Buffer.from(/--invocation (\S+)/.exec(parse(input.buildspecOverride!).phases.build.commands[0])![1]!, 'base64').toString());
    expect(invocation.env).toEqual({});
    expect(input.environmentVariablesOverride).toEqual([
      { name: 'DB_PASSWORD', value: '/orders/db-password', type: 'PARAMETER_STORE' },
      { name: 'SHIPGATE_SECRETS', value: 'DB_PASSWORD', type: 'PLAINTEXT' },
    ]);
    // the build resolved the reference itself (the fake's Parameter Store), and masked it in its log
    expect(r.logs('migrate')).toContain('connecting with ***');
    const events = fake.builds.values().next().value!.events.map((e) => e.message);
    expect(events.join('')).not.toContain(secretValue);
    // an output holding the secret comes back masked: the outputs line is in the build's log too
    const marker = events.find((l) => l.startsWith('::shipgate-outputs::'))!;
    expect(Buffer.from(marker.slice('::shipgate-outputs::'.length).trim(), 'base64').toString()).toBe(JSON.stringify({ dsn: 'postgres://orders:***@db/orders' }));
    expect(r.invocations.migrate!.outputs).toEqual({ dsn: 'postgres://orders:***@db/orders' });
    expect(events).toContain('shipgate: warning: output dsn holds a secret; it is masked in the outputs line\n');
  });

  it('refuses to send an unmapped secret, before starting any build', async () => {
    const r = await run(['name: orders', 'executor: codebuild:orders-build', 'steps:', '  migrate:', '    env: { DB_PASSWORD: "${{ env.DB_PASSWORD }}" }', '    run: "true"'].join('\n'), { env: { DB_PASSWORD: secretValue } });
    expect(outcomes(r)).toEqual({ migrate: 'failure' });
    expect(r.invocations.migrate!.error).toMatchObject({ code: 'executor.codebuild-secret', message: expect.stringContaining('env DB_PASSWORD holds a secret') });
    expect(fake.codebuild.commandCalls(StartBuildCommand)).toHaveLength(0);
  });

  it('stops the build when the run is cancelled (StopBuild), and the step process in it ends', async () => {
    const controller = new AbortController();
    const r = await run(
      ['name: orders', 'executor: codebuild:orders-build', 'steps:', '  soak:', '    run: |', '      sleep 30 & echo $! > sleep.pid', '      echo "soaking"', '      wait'].join('\n'),
      { signal: controller.signal, onEvent: (e) => e.type === 'step-log' && e.line === 'soaking' && controller.abort(new Error('Ctrl-C')) },
    );
    expect(outcomes(r)).toEqual({ soak: 'cancelled' });
    expect(r.outcome).toBe('cancelled');
    const [build] = [...fake.builds.values()];
    expect(fake.codebuild.commandCalls(StopBuildCommand).map((c) => c.args[0].input.id)).toEqual([build!.id]);
    await fake.settle();
    expect(build!.status).toBe('STOPPED');
    // its process group got SIGTERM; give init a moment to reap the orphaned sleep (bounded)
    const pid = Number(readFileSync(path.join(dir, 'sleep.pid'), 'utf8'));
    for (let i = 0; i < 100 && alive(pid); i += 1) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(false);
  });

  it('stops every build of a cancelled matrix batch', async () => {
    const controller = new AbortController();
    let started = 0;
    const r = await run(
      ['name: orders', 'steps:', '  soak:', '    executor: codebuild:orders-build', '    matrix: { n: [1, 2] }', '    run: |', '      echo "soaking ${{ matrix.n }}"', '      sleep 30'].join('\n'),
      { signal: controller.signal, onEvent: (e) => e.type === 'step-log' && e.line.startsWith('soaking') && ++started === 2 && controller.abort(new Error('Ctrl-C')) },
    );
    expect(outcomes(r)).toEqual({ 'soak[n=1]': 'cancelled', 'soak[n=2]': 'cancelled' });
    await fake.settle();
    expect([...fake.builds.values()].map((b) => b.status)).toEqual(['STOPPED', 'STOPPED']);
    expect(fake.codebuild.commandCalls(StopBuildCommand)).toHaveLength(2);
    // every instance cancelled: the batch itself is stopped too
    expect(fake.codebuild.commandCalls(StopBuildBatchCommand).map((c) => c.args[0].input.id)).toEqual([...fake.batches.keys()]);
  });
});

describe('the CodeBuild executor, when CodeBuild says no', () => {
  it('fails the step with the missing permission named, without retrying a denial', async () => {
    fake.codebuild.on(StartBuildCommand).rejects(
      Object.assign(new Error('User: arn:aws:sts::123456789012:assumed-role/ci/run is not authorized to perform: codebuild:StartBuild on resource: arn:aws:codebuild:eu-west-1:123456789012:project/orders-build because no identity-based policy allows the codebuild:StartBuild action'), {
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400, requestId: 'r-1' },
      }),
    );
    const r = await run(['name: orders', 'executor: codebuild:orders-build', 'steps:', '  a: { run: "true" }'].join('\n'));
    expect(outcomes(r)).toEqual({ a: 'failure' });
    expect(r.invocations.a!.error).toMatchObject({
      code: 'aws.access-denied',
      message: 'missing permission: codebuild:StartBuild on arn:aws:codebuild:eu-west-1:123456789012:project/orders-build',
      hint: expect.stringContaining('arn:aws:sts::123456789012:assumed-role/ci/run'),
    });
    expect(fake.codebuild.commandCalls(StartBuildCommand)).toHaveLength(1);
  });

  it('stops a build it cannot follow (no logs:GetLogEvents), and fails the step naming the permission', async () => {
    fake.logs.on(GetLogEventsCommand).rejects(
      Object.assign(new Error('User: arn:aws:sts::123456789012:assumed-role/ci/run is not authorized to perform: logs:GetLogEvents on resource: arn:aws:logs:eu-west-1:123456789012:log-group:/aws/codebuild/orders-build:log-stream:x'), {
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const r = await run(['name: orders', 'executor: codebuild:orders-build', 'steps:', '  a: { run: sleep 20 }'].join('\n'));
    expect(r.invocations.a!.error).toMatchObject({ code: 'aws.access-denied', message: expect.stringContaining('missing permission: logs:GetLogEvents') });
    const [build] = [...fake.builds.values()];
    expect(fake.codebuild.commandCalls(StopBuildCommand).map((c) => c.args[0].input.id)).toEqual([build!.id]);
    await fake.settle();
    expect(build!.status).toBe('STOPPED');
  });

  it('says where the project comes from when `executor: codebuild` names none', async () => {
    const r = await run(['name: orders', 'executor: codebuild', 'steps:', '  a: { run: "true" }'].join('\n'));
    expect(r.invocations.a!.error).toMatchObject({ code: 'executor.codebuild-project', hint: expect.stringContaining('SHIPGATE_CODEBUILD_PROJECT') });
    const named = await run(['name: orders', 'executor: codebuild', 'steps:', '  a: { run: "true" }'].join('\n'), { env: { SHIPGATE_CODEBUILD_PROJECT: 'orders-staging' } });
    expect(outcomes(named)).toEqual({ a: 'success' });
    expect(fake.codebuild.commandCalls(StartBuildCommand)[0]!.args[0].input.projectName).toBe('orders-staging');
  });
});

describe('shipgate run with executor: codebuild in shipgate.yml', () => {
  it('builds the executor from the file and reports the step run in CodeBuild', async () => {
    writeFileSync(
      path.join(dir, 'shipgate.yml'),
      ['name: orders', 'steps:', '  hello:', '    executor: { codebuild: { project: orders-build, poll-interval: 1s, install: [] } }', '    run: echo "hello=from-codebuild" >> "$SHIPGATE_OUTPUT"'].join('\n'),
    );
    const { code, out, err } = await cli(['run', '--reporter', 'plain'], dir, { AWS_REGION: 'eu-west-1' });
    expect({ code, err }).toMatchObject({ code: 0 });
    expect(out).toMatch(/started build orders-build:/);
    expect(fake.installCommands).toEqual([]);
    const report = JSON.parse(readFileSync(path.join(dir, '.shipgate', 'report.json'), 'utf8'));
    expect(JSON.stringify(report)).toContain('from-codebuild');
    expect(existsSync(path.join(dir, '.shipgate', 'junit.xml'))).toBe(true);
  });
});

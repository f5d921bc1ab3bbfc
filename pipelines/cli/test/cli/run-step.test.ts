// runStepCommand: the one way every CLI command runs its step. Pure parts (exit codes, the
// failure line, a command's invocation) as tables; the function itself over real steps in this
// process: log lines, masking, quiet, the job summary, a timeout, cancellation.
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { defineStep, ShipgateError, StepRegistry, type StepDefinition } from '@shipgate/protocol';
import { commandInvocation, failureReport, runStepCommand, stepExitCode } from '../../src/cli/run-step.js';
import { imageErrorExitCode } from '../../../image/src/image/exit-codes.js';
import { accessInputs } from '../../src/cli/commands/image.js';

describe('stepExitCode', () => {
  const aws = (code: string) => (code.startsWith('aws.') ? 3 : undefined);
  it.each([
    [{ status: 'success' as const }, 0, undefined],
    [{ status: 'cancelled' as const }, 130, undefined],
    [{ status: 'failure' as const, error: { code: 'step.inputs', message: '' } }, 2, undefined],
    [{ status: 'failure' as const, error: { code: 'step.error', message: '' } }, 1, undefined],
    [{ status: 'timed-out' as const }, 1, undefined],
    [{ status: 'failure' as const, error: { code: 'aws.throttled', message: '' } }, 3, aws],
    [{ status: 'failure' as const, error: { code: 'step.inputs', message: '' } }, 2, aws],
    [{ status: 'failure' as const, error: { code: 'image.immutable-tag', message: '' } }, 2, imageErrorExitCode],
    [{ status: 'failure' as const, error: { code: 'registry.unreachable', message: '' } }, 3, imageErrorExitCode],
    [{ status: 'failure' as const, error: { code: 'image.no-rollback-target', message: '' } }, 1, imageErrorExitCode],
  ])('%j → %i', (result, code, table) => {
    expect(stepExitCode(result, table)).toBe(code);
  });
});

describe('imageErrorExitCode', () => {
  it.each([
    ['registry.unauthorized', 3],
    ['registry.not-found', 3],
    ['image.ecr-login', 3],
    ['image.no-digest', 3],
    ['image.docker-failed', 1],
    ['image.cancelled', 1],
    ['image.no-rollback-target', 1],
    ['image.no-history', 2],
    ['image.bad-tag-rule', 2],
    ['image.immutable-tag', 2],
    ['step.inputs', undefined],
    ['step.error', undefined],
  ])('%s → %s', (code, exit) => {
    expect(imageErrorExitCode(code)).toBe(exit);
  });
});

describe('failureReport and commandInvocation', () => {
  it('names the invocation and its status, then the hint', () => {
    expect(failureReport({ id: 'codedeploy' }, { status: 'failure', error: { code: 'codedeploy.failed', message: 'it failed', hint: 'look at the events' } })).toBe(
      'shipgate: codedeploy failure: it failed [codedeploy.failed]\n  hint: look at the events\n',
    );
    expect(failureReport({ id: 'x' }, { status: 'timed-out', error: { code: 'step.timeout', message: 'took too long' } })).toBe('shipgate: x timed-out: took too long [step.timeout]\n');
    expect(failureReport({ id: 'x' }, { status: 'success' })).toBeUndefined();
  });

  it('a command runs one step by its uses name with its inputs', () => {
    expect(commandInvocation('image', { command: 'tags', image: 'a/b' })).toEqual({ id: 'image', stepId: 'image', uses: 'image', with: { command: 'tags', image: 'a/b' }, env: {}, workingDirectory: '.' });
  });
});

describe('image registry flags as step inputs', () => {
  it.each([
    [{}, {}, {}],
    [{ insecure: true, timeout: '2.5' }, {}, { insecure: true, 'request-timeout': '2500ms' }],
    [{}, { SHIPGATE_REGISTRY_USERNAME: 'ci', SHIPGATE_REGISTRY_PASSWORD: 'pw' }, { username: 'ci', password: 'pw' }],
    [{ ecr: true }, { AWS_REGION: 'eu-west-1', SHIPGATE_REGISTRY_PASSWORD: 'pw' }, { 'ecr-login': true, 'aws-region': 'eu-west-1' }],
    [{ ecr: true, region: 'us-east-2' }, { AWS_REGION: 'eu-west-1' }, { 'ecr-login': true, 'aws-region': 'us-east-2' }],
  ])('%j with %j → %j', (flags, env, inputs) => {
    expect(accessInputs(flags, env)).toEqual(inputs);
  });

  it('refuses a timeout that is not a positive number of seconds', () => {
    expect(() => accessInputs({ timeout: '0' }, {})).toThrow(expect.objectContaining({ code: 'cli.usage' }));
    expect(() => accessInputs({ timeout: 'soon' }, {})).toThrow(ShipgateError);
  });
});

describe('runStepCommand', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function io(env: Record<string, string> = {}, signal = new AbortController().signal) {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'sg-run-step-'));
    dirs.push(cwd);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const seen = { out: '', err: '' };
    stdout.on('data', (c: Buffer) => (seen.out += c.toString()));
    stderr.on('data', (c: Buffer) => (seen.err += c.toString()));
    return { io: { stdout, stderr, cwd, env: { PATH: process.env.PATH, ...env }, isTTY: false, signal }, seen };
  }

  const talker = defineStep({
    name: 'talker',
    description: 'logs, sets an output, writes a summary, fails on request',
    inputs: z.strictObject({ fail: z.boolean().default(false), wait: z.boolean().default(false) }),
    outputs: { said: 'what it said' },
    async run(context) {
      context.logger.info(`hello, token is ${context.env.API_TOKEN ?? 'unset'}`);
      context.logger.warn('careful');
      context.setOutput('said', 'hello');
      context.summary('### talked');
      // under load the signal may already be aborted when the step gets here
      if (context.inputs.wait) await new Promise((_, reject) => (context.signal.aborted ? reject(new Error('stopped')) : context.signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true })));
      if (context.inputs.fail) throw new ShipgateError('talker.refused', 'it would not', { hint: 'ask again' });
    },
  });
  const registry = new StepRegistry([talker as unknown as StepDefinition]);

  it('prints the log lines with secrets from the environment masked, renders, and exits 0', async () => {
    const { io: cliIo, seen } = io({ API_TOKEN: 'tok-9f8e7d6c5b' });
    const rendered: string[] = [];
    const { result, exitCode } = await runStepCommand(cliIo, registry, commandInvocation('talker', {}), { workspace: cliIo.cwd, render: (r) => void rendered.push(r.outputs.said ?? '') });
    expect(exitCode).toBe(0);
    expect(result.outputs).toEqual({ said: 'hello' });
    expect(rendered).toEqual(['hello']);
    expect(seen.out).toBe('hello, token is ***\nwarning: careful\n');
    expect(seen.err).toBe('');
  });

  it('quiet drops the log lines; a failure is one line with the hint and the table decides the exit code', async () => {
    const { io: cliIo, seen } = io();
    const { exitCode } = await runStepCommand(cliIo, registry, commandInvocation('talker', { fail: true }), { workspace: cliIo.cwd, quiet: true, exitCodes: (code) => (code === 'talker.refused' ? 3 : undefined) });
    expect(exitCode).toBe(3);
    expect(seen.out).toBe('');
    expect(seen.err).toBe('shipgate: talker failure: it would not [talker.refused]\n  hint: ask again\n');
  });

  it('bad inputs exit 2; onLog sees every line even when quiet', async () => {
    const { io: cliIo, seen } = io();
    const lines: string[] = [];
    const bad = await runStepCommand(cliIo, registry, commandInvocation('talker', { fail: 'yes' }), { workspace: cliIo.cwd, quiet: true, onLog: (l) => lines.push(l) });
    expect(bad.exitCode).toBe(2);
    expect(seen.err).toMatch(/^shipgate: talker failure: .*\[step\.inputs\]/);
    const ok = await runStepCommand(cliIo, registry, commandInvocation('talker', {}), { workspace: cliIo.cwd, quiet: true, onLog: (l) => lines.push(l) });
    expect(ok.exitCode).toBe(0);
    expect(lines).toEqual(['hello, token is unset', 'warning: careful']);
  });

  it("appends the step's summaries to $GITHUB_STEP_SUMMARY unless told not to", async () => {
    const summary = path.join(mkdtempSync(path.join(os.tmpdir(), 'sg-summary-')), 'summary.md');
    dirs.push(path.dirname(summary));
    writeFileSync(summary, '');
    const { io: cliIo } = io({ GITHUB_STEP_SUMMARY: summary });
    await runStepCommand(cliIo, registry, commandInvocation('talker', {}), { workspace: cliIo.cwd, quiet: true });
    expect(readFileSync(summary, 'utf8')).toBe('### talked\n');
    await runStepCommand(cliIo, registry, commandInvocation('talker', {}), { workspace: cliIo.cwd, quiet: true, jobSummary: false });
    expect(readFileSync(summary, 'utf8')).toBe('### talked\n');
  });

  it("stops the step at the invocation's timeout (exit 1) and on the CLI's signal (exit 130)", async () => {
    const { io: timed } = io();
    const late = await runStepCommand(timed, registry, { ...commandInvocation('talker', { wait: true }), timeoutMs: 100 }, { workspace: timed.cwd, quiet: true });
    expect(late.result.status).toBe('timed-out');
    expect(late.exitCode).toBe(1);
    const controller = new AbortController();
    const { io: cancelled } = io({}, controller.signal);
    const running = runStepCommand(cancelled, registry, commandInvocation('talker', { wait: true }), { workspace: cancelled.cwd, quiet: true });
    setTimeout(() => controller.abort('SIGINT'), 50);
    expect((await running).exitCode).toBe(130);
    const { io: already } = io({}, AbortSignal.abort('SIGINT'));
    expect((await runStepCommand(already, registry, commandInvocation('talker', { wait: true }), { workspace: already.cwd, quiet: true })).exitCode).toBe(130);
  });
});

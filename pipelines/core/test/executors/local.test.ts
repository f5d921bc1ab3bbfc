import { afterEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { defineStep, ShipgateError } from '@shipgate/protocol';
import { LocalExecutor, runStepInProcess } from '../../src/executors/local.js';
import { SecretMasker } from '../../src/process/secrets.js';
import { runStep } from '../../src/run-step/index.js';
import { defaultRegistry } from '../../../cli/src/cli/steps.js';
import { alive, temporaryDirectories } from '../../../test/helpers.js';

const temporary = temporaryDirectories('sg-local-');
const tempDir = (): string => temporary.make();
afterEach(() => temporary.removeAll());

describe('SecretMasker', () => {
  it('masks every value, longest first, and each line of a multi-line secret; ignores very short values', () => {
    const m = new SecretMasker(['hunter22', 'hunter22-extended', 'ab']);
    m.add('-----BEGIN KEY-----\nAAAABBBBCCCC\n-----END KEY-----');
    expect(m.mask('pw hunter22-extended and hunter22 and ab')).toBe('pw *** and *** and ab');
    expect(m.mask('key line AAAABBBBCCCC')).toBe('key line ***');
  });
});

describe('run step through runStepInProcess', () => {
  it('runs the script in bash with pipefail, streams lines and collects $SHIPGATE_OUTPUT', async () => {
    const result = await runStepInProcess(runStep, { script: 'echo hello; echo "version=2.0.1" >> "$SHIPGATE_OUTPUT"; printf "notes<<X\\na\\nb\\nX\\n" >> "$SHIPGATE_OUTPUT"' }, { cwd: tempDir() });
    expect(result.status).toBe('success');
    expect(result.logs).toContain('hello');
    expect(result.outputs).toEqual({ version: '2.0.1', notes: 'a\nb' });
  });

  it('fails with the exit code, and pipefail catches a failure inside a pipe', async () => {
    const result = await runStepInProcess(runStep, { script: 'false | cat' }, { cwd: tempDir() });
    expect(result.status).toBe('failure');
    expect(result.error).toMatchObject({ code: 'step.exit-code', message: 'script exited with code 1' });
  });

  it('masks secrets from the environment list and from setSecret in logs and outputs', async () => {
    const secretStep = defineStep({
      name: 'leaky',
      description: 'prints secrets',
      inputs: z.object({}),
      async run(ctx) {
        ctx.setSecret('s3cr3t-token');
        await ctx.process.shell('echo "token=s3cr3t-token"; echo "pw=$PW"');
      },
    });
    const result = await runStepInProcess(secretStep, {}, { cwd: tempDir(), env: { ...process.env, PW: 'passw0rd!' }, secrets: ['passw0rd!'] });
    expect(result.logs).toEqual(['token=***', 'pw=***']);
  });

  it('rejects invalid inputs naming the field, without running anything', async () => {
    const result = await runStepInProcess(runStep, { script: 42 }, { cwd: tempDir() });
    expect(result.status).toBe('failure');
    expect(result.error?.code).toBe('step.inputs');
    expect(result.error?.message).toMatch(/script: /);
  });

  it('keeps the code and hint of a ShipgateError thrown by a step', async () => {
    const step = defineStep({
      name: 'picky',
      description: 'x',
      inputs: z.object({}),
      async run() {
        throw new ShipgateError('picky.nope', 'it said no', { hint: 'ask nicely' });
      },
    });
    expect((await runStepInProcess(step, {}, { cwd: tempDir() })).error).toEqual({ code: 'picky.nope', message: 'it said no', hint: 'ask nicely' });
  });
});

describe('cancellation and timeouts', () => {
  it('kills the whole process group, including a grandchild that ignores SIGTERM', async () => {
    const dir = tempDir();
    const pidFile = path.join(dir, 'grandchild.pid');
    const controller = new AbortController();
    const running = runStepInProcess(
      runStep,
      { script: `bash -c 'trap "" TERM; echo $$ > ${pidFile}; while true; do sleep 0.1; done' & wait` },
      { cwd: dir, signal: controller.signal, gracePeriodMs: 300 },
    );
    // bounded wait for the grandchild to write its pid
    let pid = 0;
    for (let i = 0; i < 100 && !pid; i += 1) {
      await new Promise((r) => setTimeout(r, 50));
      try {
        pid = Number(readFileSync(pidFile, 'utf8'));
      } catch {
        pid = 0;
      }
    }
    expect(pid).toBeGreaterThan(0);
    controller.abort();
    const result = await running;
    expect(result.status).toBe('cancelled');
    for (let i = 0; i < 40 && alive(pid); i += 1) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(false);
  });

  it('reports timed-out when the signal was aborted by a timeout', async () => {
    const result = await runStepInProcess(runStep, { script: 'sleep 5' }, { cwd: tempDir(), signal: AbortSignal.timeout(200), gracePeriodMs: 200 });
    expect(result.status).toBe('timed-out');
  });
});

describe('LocalExecutor', () => {
  it('exports SHIPGATE_* and the invocation env, and runs in the working directory', async () => {
    const workspace = tempDir();
    const executor = new LocalExecutor(defaultRegistry());
    const lines: string[] = [];
    const log = (m: string) => lines.push(m);
    const result = await executor.execute(
      { id: 'b[target=api]', stepId: 'b', uses: 'run', with: { script: 'echo "$SHIPGATE_STEP_ID $SHIPGATE_INVOCATION_ID $TARGET $(basename "$PWD")"' }, env: { TARGET: 'api' }, workingDirectory: '.' },
      { workspace, stateDir: path.join(workspace, '.shipgate'), ci: { provider: 'local' }, signal: new AbortController().signal, logger: { debug: log, info: log, warn: log, error: log }, secrets: new Set() },
    );
    expect(result.status).toBe('success');
    expect(lines).toEqual([`b b[target=api] api ${path.basename(workspace)}`]);
  });

  it('fails clearly for an unknown step and a missing working directory', async () => {
    const workspace = tempDir();
    const executor = new LocalExecutor(defaultRegistry());
    const env = { workspace, stateDir: workspace, ci: { provider: 'local' as const }, signal: new AbortController().signal, logger: { debug() {}, info() {}, warn() {}, error() {} }, secrets: new Set<string>() };
    expect((await executor.execute({ id: 'x', stepId: 'x', uses: 'nope', with: {}, env: {}, workingDirectory: '.' }, env)).error?.code).toBe('step.unknown');
    expect((await executor.execute({ id: 'x', stepId: 'x', uses: 'run', with: { script: 'true' }, env: {}, workingDirectory: 'missing' }, env)).error?.code).toBe('step.working-directory');
  });
});

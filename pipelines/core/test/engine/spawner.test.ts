// Children started through the spawner helpers behave as children started directly: output,
// input, exit codes, a command that does not exist, their own process group (so cancelling kills
// the whole tree), and a spawner that dies mid-step.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createProcessRunner } from '../../src/process/runner.js';
import { SecretMasker } from '../../src/process/secrets.js';
import { spawnChild, spawnerState, stopSpawners } from '../../src/process/spawner.js';
import { alive } from '../../../test/helpers.js';

const lines: string[] = [];
const logger = { debug() {}, info: (l: string) => lines.push(l), warn: (l: string) => lines.push(`! ${l}`), error: (l: string) => lines.push(`E ${l}`) };
const runner = (signal = new AbortController().signal) =>
  createProcessRunner({ env: { PATH: process.env.PATH ?? '', TOKEN: 's3cr3t-value' }, cwd: process.cwd(), logger, signal, secrets: new SecretMasker(['s3cr3t-value']), gracePeriodMs: 500 });


beforeAll(async () => {
  spawnChild({ command: 'true', args: [], cwd: process.cwd(), env: { PATH: process.env.PATH ?? '' } }); // starts the helpers
  for (let i = 0; i < 200 && spawnerState().ready < 2; i += 1) await new Promise((r) => setTimeout(r, 25));
  expect(spawnerState().ready).toBe(2);
});
afterAll(() => stopSpawners());

describe('spawner helpers', () => {
  it('relay output (masked), input and the exit code', async () => {
    const r = await runner().exec('/bin/sh', ['-c', 'read x; echo "got $x $TOKEN"; echo oops >&2; exit 3'], { input: 'hello\n' });
    expect(r).toMatchObject({ exitCode: 3, stdout: 'got hello ***\n', stderr: 'oops\n', killed: false });
    expect(lines).toEqual(expect.arrayContaining(['got hello ***', '! oops']));
  });

  it('a command that does not exist exits 127 with the reason', async () => {
    const r = await runner().exec('no-such-command-here', []);
    expect(r.exitCode).toBe(127);
    expect(r.stderr).toMatch(/ENOENT/);
  });

  it('children lead their own process group, and cancelling kills the whole tree', async () => {
    const controller = new AbortController();
    const pending = runner(controller.signal).exec('/bin/sh', ['-c', 'sleep 30 & echo "bg $!"; echo "pgid $(cut -d" " -f5 /proc/$$/stat)"; wait']);
    for (let i = 0; i < 500 && !lines.some((l) => l.startsWith('pgid ')); i += 1) await new Promise((r) => setTimeout(r, 10));
    const bg = Number(lines.find((l) => l.startsWith('bg '))!.slice(3));
    expect(alive(bg)).toBe(true);
    controller.abort();
    const r = await pending;
    expect(r.killed).toBe(true);
    const pgid = Number(lines.find((l) => l.startsWith('pgid '))!.slice(5));
    expect(pgid).not.toBe(Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[2])); // not the engine's group
    expect(pgid).toBeGreaterThan(0);
    for (let i = 0; i < 100 && alive(bg); i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(alive(bg)).toBe(false);
  });

  it('helpers still starting when the engine exits go away quietly (no EPIPE stack trace in its log)', async () => {
    // An engine whose run is over before its helpers are ready (~40 ms): it starts them with its
    // first child and exits at once. Node runs the TypeScript source itself (type stripping).
    const source = path.resolve(import.meta.dirname, '../../src/process/spawner.ts');
    const script = `import(${JSON.stringify(source)}).then((m) => { m.spawnChild({ command: 'true', args: [], cwd: '/', env: { PATH: process.env.PATH ?? '' } }); process.stdout.write(JSON.stringify(m.spawnerState().pids)); process.exit(0); });`;
    const engine = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    engine.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    engine.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // the helpers inherit the engine's stderr, so 'close' comes only once they have exited too
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      new Promise<number | null>((resolve) => engine.on('close', resolve)),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 20_000))),
    ]).finally(() => clearTimeout(timer));
    const pids = JSON.parse(stdout || '[]') as number[];
    if (code === 'timeout') {
      engine.kill('SIGKILL');
      for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
    }
    expect(code).toBe(0);
    expect(pids).toHaveLength(2);
    expect(stderr).toBe('');
  });

  it('a spawner that dies fails its running step with a reason; the next steps still run', async () => {
    const pending = runner().exec('sleep', ['5']);
    await new Promise((r) => setTimeout(r, 100));
    const [a, b] = spawnerState().pids;
    process.kill(a!, 'SIGKILL');
    process.kill(b!, 'SIGKILL');
    const r = await pending;
    expect(r.exitCode).toBe(127);
    expect(r.stderr).toContain('the process that started this step exited');
    const next = await runner().exec('/bin/sh', ['-c', 'echo still here']);
    expect(next).toMatchObject({ exitCode: 0, stdout: 'still here\n' });
  });
});

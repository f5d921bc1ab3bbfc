// Children started through the spawner helpers behave as children started directly: output,
// input, exit codes, a command that does not exist, their own process group (so cancelling kills
// the whole tree), and a spawner that dies mid-step.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createProcessRunner } from '../../src/engine/process.js';
import { SecretMasker } from '../../src/engine/secrets.js';
import { spawnChild, spawnerState, stopSpawners } from '../../src/engine/spawner.js';
import { alive } from '../helpers.js';

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

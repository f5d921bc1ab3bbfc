// `shipgate … | head`: the reader closes the pipe early. The command ends quietly (no unhandled
// EPIPE and its stack trace), as Unix tools do.
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import path from 'node:path';

const bin = path.resolve(import.meta.dirname, '../../bin/shipgate.js');

/** Runs the built CLI with its stdout closed after the first chunk; resolves to its exit and stderr. */
function firstChunkOnly(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; read: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let read = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.once('data', (c: Buffer) => {
      read = c.toString();
      child.stdout.destroy(); // what `head -1` does once it has its line
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, read });
    });
  });
}

describe('a closed stdout', () => {
  it.each([[['--help']], [['schema']], [['verify', '--help']]])('shipgate %j | head ends without a stack trace', async (args) => {
    const { code, signal, stderr, read } = await firstChunkOnly(args);
    expect(read.length).toBeGreaterThan(0);
    expect(stderr).not.toMatch(/EPIPE|Unhandled|at .*\.m?js:\d+/);
    expect(signal).toBeNull();
    expect([0, 130]).toContain(code);
  }, 30_000);
});

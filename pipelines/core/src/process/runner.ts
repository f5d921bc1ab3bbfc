// Runs child processes for steps. Each child leads its own process group, so cancelling kills the
// whole tree it started (npm → sh → node …): SIGTERM to the group, SIGKILL after a grace period.
import { existsSync } from 'node:fs';
import type { ExecOptions, ExecResult, ProcessRunner, StepLogger } from '@shipgate/protocol';
import type { SecretMasker } from './secrets.js';
import { spawnChild } from './spawner.js';

export interface ProcessRunnerOptions {
  env: Readonly<Record<string, string>>;
  cwd: string;
  logger: StepLogger;
  signal: AbortSignal;
  secrets: SecretMasker;
  /** Time between SIGTERM and SIGKILL. Default 5 s. */
  gracePeriodMs?: number;
}

const maxCapture = 1024 * 1024; // keep the last 1 MiB of each stream

/** Keeps the tail of a stream and hands complete lines to `onLine`. */
class LineCapture {
  #partial = '';
  #captured = '';
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    this.#captured += chunk;
    if (this.#captured.length > maxCapture * 2) this.#captured = this.#captured.slice(-maxCapture);
    const text = this.#partial + chunk;
    const lines = text.split(/\r?\n/);
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.onLine(line);
  }

  end(): string {
    if (this.#partial) this.onLine(this.#partial);
    this.#partial = '';
    return this.#captured.length > maxCapture ? this.#captured.slice(-maxCapture) : this.#captured;
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

const bash = ['/bin/bash', '/usr/bin/bash', '/usr/local/bin/bash', '/opt/homebrew/bin/bash'].find((p) => existsSync(p));

export function createProcessRunner(options: ProcessRunnerOptions): ProcessRunner {
  const grace = options.gracePeriodMs ?? 5000;

  function exec(command: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const signal = opts.signal ?? options.signal;
    const started = performance.now();
    return new Promise((resolve) => {
      if (signal.aborted) {
        resolve({ exitCode: null, signal: null, stdout: '', stderr: '', durationMs: 0, killed: true });
        return;
      }
      const child = spawnChild({ command, args, cwd: opts.cwd ?? options.cwd, env: { ...options.env, ...opts.env }, ...(opts.input === undefined ? {} : { input: opts.input }) });
      let killed = false;
      let killTimer: NodeJS.Timeout | undefined;
      const signalTree = (): void => {
        if (child.pid === undefined) return;
        killGroup(child.pid, 'SIGTERM');
        killTimer = setTimeout(() => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'), grace);
        killTimer.unref();
      };
      const stop = (): void => {
        if (killed) return;
        killed = true;
        // a child still being started is signalled as soon as its pid is known
        if (child.pid === undefined) child.once('spawn', signalTree);
        else signalTree();
      };
      const timeout = opts.timeoutMs === undefined ? undefined : setTimeout(stop, opts.timeoutMs);
      signal.addEventListener('abort', stop, { once: true });

      const log = (level: 'info' | 'warn') => (line: string) => {
        if (!opts.quiet) options.logger[level](options.secrets.mask(line));
      };
      const out = new LineCapture(log('info'));
      const err = new LineCapture(log('warn'));
      child.on('stdout', (c: string) => out.push(c));
      child.on('stderr', (c: string) => err.push(c));
      let spawnError: Error | undefined;
      child.on('error', (e: Error) => {
        spawnError = e;
      });
      child.on('close', (code: number | null, sig: NodeJS.Signals | null) => {
        if (timeout) clearTimeout(timeout);
        signal.removeEventListener('abort', stop);
        // The leader is gone; make sure nothing it started lingers after a kill.
        if (killed && child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
        if (killTimer) clearTimeout(killTimer);
        const stdout = out.end();
        let stderr = err.end();
        if (spawnError) {
          stderr += `${spawnError.message}\n`;
          options.logger.error(`could not start ${command}: ${spawnError.message}`);
        }
        resolve({
          exitCode: spawnError ? 127 : code,
          signal: sig,
          stdout: options.secrets.mask(stdout),
          stderr: options.secrets.mask(stderr),
          durationMs: performance.now() - started,
          killed,
        });
      });
    });
  }

  return {
    exec,
    shell(script, opts) {
      const argv = simpleCommand(script);
      if (argv) return exec(argv[0]!, argv.slice(1), opts);
      return bash ? exec(bash, ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], opts) : exec('/bin/sh', ['-e', '-c', script], opts);
    },
  };
}

// Words the shell itself must run (builtins and keywords), so they never take the direct path.
const shellOnly = new Set(['.', ':', '[', '[[', '!', '{', 'alias', 'bg', 'break', 'builtin', 'case', 'cd', 'command', 'continue', 'declare', 'echo', 'eval', 'exec', 'exit', 'export', 'false', 'fg', 'for', 'function', 'hash', 'if', 'jobs', 'kill', 'let', 'local', 'printf', 'pwd', 'read', 'readonly', 'return', 'select', 'set', 'shift', 'source', 'test', 'time', 'times', 'trap', 'true', 'type', 'ulimit', 'umask', 'unalias', 'unset', 'until', 'wait', 'while']);

/**
 * A script that is one simple command — words of plain characters, no quotes, variables, globs,
 * redirections or operators — runs directly, without a shell, as make does: the same result, one
 * process fewer per step (it matters when dozens of steps start at once on a small machine).
 */
export function simpleCommand(script: string): string[] | undefined {
  const trimmed = script.trim();
  if (!/^[A-Za-z0-9_\-./=:,+@%]+(?: +[A-Za-z0-9_\-./=:,+@%]+)*$/.test(trimmed)) return undefined;
  const argv = trimmed.split(/ +/);
  const first = argv[0]!;
  if (first.includes('=') || shellOnly.has(first)) return undefined;
  return argv;
}

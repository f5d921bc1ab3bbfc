// The `shipgate` process: real process I/O, signals and a closed stdout around runCli. main.ts (the
// tsc-built executable) and the bundle the bin runs (scripts/bundle.mjs) both start here.
import { runCli } from './program.js';

/** Runs `shipgate <argv>` in this process; sets process.exitCode. */
export async function main(argv: readonly string[]): Promise<void> {
  const controller = new AbortController();
  let signals = 0;
  // A run stops its steps (SIGTERM, then SIGKILL after their grace period) and ends on its own. Any
  // command still alive well after that, say one waiting on I/O that ignores the signal, is ended
  // here, so SIGTERM always ends the process.
  const lastResortMs = 15_000;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      signals += 1;
      const code = sig === 'SIGINT' ? 130 : 143;
      if (signals > 1) process.exit(code); // second Ctrl-C: leave now
      controller.abort(sig);
      setTimeout(() => process.exit(code), lastResortMs).unref();
    });
  }

  // A reader that stops early (`shipgate plan | head`) closes the pipe: stop the command quietly, as
  // Unix tools do, rather than die on an unhandled EPIPE; a run still stops its steps.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
      if (!controller.signal.aborted) controller.abort('SIGPIPE');
    });
  }

  const code = await runCli(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    env: process.env,
    isTTY: Boolean(process.stdout.isTTY) && process.env.CI !== 'true',
    signal: controller.signal,
  });
  process.exitCode = code;
}

#!/usr/bin/env node
// The `shipgate` executable: real process I/O around runCli. Node's on-disk compile cache is
// switched on before anything else loads, which makes every start after the first one faster.
import module from 'node:module';

module.enableCompileCache?.();
// `shipgate --version` needs none of the command tree: answer before loading it (the version check
// of every CI job and wrapper script then costs about a bare Node start).
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  const { shipgateVersion } = await import('../version.js');
  await new Promise((written) => process.stdout.write(`${shipgateVersion}\n`, written));
  process.exit(0);
}
const { runCli } = await import('./program.js');

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

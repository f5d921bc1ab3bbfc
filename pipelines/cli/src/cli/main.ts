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
const { main } = await import('./process-main.js');
await main(argv);


#!/usr/bin/env node
// The `shipgate` command. This file is committed (dist/ is built), so npm links the command at
// install time even in a fresh clone before the first build. It runs the esbuild bundle
// (dist/bundle/shipgate.cjs, see scripts/bundle.mjs) through bundle-loader.js, which compiles it with
// the code cache of an earlier run, when the bundle is there, else the tsc output.
import { existsSync, readFileSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
// `shipgate --version` needs none of the command tree: the version check of every CI job and
// wrapper script then costs about a bare Node start (a test keeps package.json's version the CLI's)
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${version}\n`);
} else {
  // Node's compile cache for what is loaded as modules: the AWS SDK bundle, plugins, the tsc output
  module.enableCompileCache?.();
  const bundle = new URL('../dist/bundle/shipgate.cjs', import.meta.url);
  if (existsSync(bundle)) {
    const { runBundle } = await import('./bundle-loader.js');
    await runBundle(fileURLToPath(bundle), argv);
  } else {
    await import('../dist/cli/main.js');
  }
}

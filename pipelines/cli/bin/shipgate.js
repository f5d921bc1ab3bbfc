#!/usr/bin/env node
// The `shipgate` command. This file is committed (dist/ is built), so npm links the command at
// install time even in a fresh clone before the first build. It runs the esbuild bundle
// (dist/bundle/shipgate.mjs, see scripts/bundle.mjs: one start reads a few files instead of some 150
// modules) when it is there, else the tsc output. Node's on-disk compile cache is switched on first,
// so every start after the first one skips compiling the bundle.
import { existsSync } from 'node:fs';
import module from 'node:module';

module.enableCompileCache?.();
const bundle = new URL('../dist/bundle/shipgate.mjs', import.meta.url);
await import(existsSync(bundle) ? bundle.href : '../dist/cli/main.js');

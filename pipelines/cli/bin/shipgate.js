#!/usr/bin/env node
// The `shipgate` command. This file is committed (dist/ is built), so npm links the command at
// install time even in a fresh clone before the first build.
await import('../dist/cli/main.js');

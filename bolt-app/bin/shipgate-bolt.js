#!/usr/bin/env node
// The shipgate-bolt command: starts the Slack app (see README.md).
import("../dist/cli.js");

#!/usr/bin/env bash
# Sets up the workspace and runs the example service's pipeline end to end on this machine:
# no cloud account, no Slack, no Docker needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/node24.sh
exec node pipelines/cli/dist/cli/main.js run -C examples/orders-service "$@"

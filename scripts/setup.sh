#!/usr/bin/env bash
# Installs the workspace's packages (when package-lock.json changed) and builds every package.
# Safe to run again: it does only what is out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/node24.sh
stamp=node_modules/.shipgate-lock-hash
want=$( (cat package-lock.json; node --version) | cksum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "shipgate: installing packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
echo "shipgate: building (tsc -b)" >&2
npm run --silent build

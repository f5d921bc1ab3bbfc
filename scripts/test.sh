#!/usr/bin/env bash
# The whole test suite: set-up, build, then every jest project (unit, integration, the Groovy
# tests of the Jenkins library, lint and type-checks). Ends with one line "N passed, N failed".
# Tests that need Docker run when a Docker engine answers (always in CI, where .ci/run starts one)
# and are skipped with a reason elsewhere. Extra arguments go to jest (e.g. a path filter).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
. scripts/node24.sh
results=.shipgate/jest-results.json
mkdir -p .shipgate
rm -f "$results"
npm run --silent test:jest -- --json --outputFile="$results" "$@"
code=$?
if [ -f "$results" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    // suites that failed to load (syntax error, bad import) have no test results: count them as failures
    const broken = r.testResults.filter(s => s.status === "failed" && s.assertionResults.length === 0).length;
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests + broken} failed` + (skipped ? `, ${skipped} skipped` : ""));
  ' "$results"
else
  echo "0 passed, 1 failed"
  [ "$code" -ne 0 ] || code=1
fi
exit $code

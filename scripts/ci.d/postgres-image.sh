#!/usr/bin/env bash
# The Postgres image the test harness's testcontainers provider runs, built from Debian packages
# (nothing can be pulled from a registry here). Kept between runs on the same machine.
set -euo pipefail
bash "$(dirname "$0")/../../test-harness/scripts/build-postgres-image.sh"

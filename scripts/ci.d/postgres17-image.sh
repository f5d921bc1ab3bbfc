#!/usr/bin/env bash
# A Postgres 17 image (Debian trixie) for the test harness's postgresVersion tests: the
# testcontainers provider runs the major asked for, and db check --postgres-version 17 applies the
# migrations there. Kept between runs on the same machine.
set -euo pipefail
PG_MAJOR=17 DEBIAN_SUITE=trixie bash "$(dirname "$0")/../../test-harness/scripts/build-postgres-image.sh" shipgate/postgres:17-trixie

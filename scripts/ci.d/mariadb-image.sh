#!/usr/bin/env bash
# The MariaDB image the test harness's testcontainers provider runs with engine: mariadb, built
# from Debian packages. Kept between runs on the same machine.
set -euo pipefail
bash "$(dirname "$0")/../../test-harness/scripts/build-mariadb-image.sh"

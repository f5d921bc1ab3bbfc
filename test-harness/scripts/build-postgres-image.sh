#!/usr/bin/env bash
# Builds the Postgres image the `testcontainers` provider runs, from Debian packages, without any
# registry: debootstrap a minimal Debian with postgresql, add an entrypoint that honours
# POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB like the official image (plus PGPORT, so with host
# networking the server listens on a free loopback port), and `docker import` it.
#
#   bash test-harness/scripts/build-postgres-image.sh [IMAGE]     (default shipgate/postgres:15-bookworm)
#
# Skips the build when the image exists. The Debian mirror is the machine's own (from its apt
# sources), or $DEBIAN_MIRROR.
set -euo pipefail
image="${1:-${SHIPGATE_TEST_PG_IMAGE:-shipgate/postgres:15-bookworm}}"
major="${PG_MAJOR:-15}"

me=build-postgres-image
. "$(dirname "$0")/debootstrap-lib.sh"
debootstrap_root "$image" "postgresql-$major"

cat >"$root/usr/local/bin/docker-entrypoint.sh" <<EOF
#!/bin/sh
# Like the official image: POSTGRES_USER (postgres), POSTGRES_PASSWORD (required unless
# POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_DB (= user); PGPORT (5432) and LISTEN (*) for host networking.
set -eu
bin=/usr/lib/postgresql/$major/bin
data=/var/lib/postgresql/data
user="\${POSTGRES_USER:-postgres}"
db="\${POSTGRES_DB:-\$user}"
port="\${PGPORT:-5432}"
listen="\${LISTEN:-*}"
auth="\${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
if [ -z "\${POSTGRES_PASSWORD:-}" ] && [ "\$auth" != trust ]; then
  echo "error: POSTGRES_PASSWORD is not set (or set POSTGRES_HOST_AUTH_METHOD=trust)" >&2
  exit 1
fi
mkdir -p "\$data" /run/postgresql
chown postgres:postgres "\$data" /run/postgresql
if [ ! -s "\$data/PG_VERSION" ]; then
  pwopt=""
  if [ -n "\${POSTGRES_PASSWORD:-}" ]; then
    printf '%s' "\$POSTGRES_PASSWORD" >/tmp/pwfile
    chown postgres /tmp/pwfile
    pwopt=--pwfile=/tmp/pwfile
  fi
  su postgres -s /bin/sh -c "\$bin/initdb -D \$data -U '\$user' \$pwopt --auth-host=\$auth --auth-local=trust -E UTF8 --locale=C.UTF-8 --no-sync" >/dev/null
  rm -f /tmp/pwfile
  echo "host all all all \$auth" >>"\$data/pg_hba.conf"
  if [ "\$db" != postgres ]; then
    su postgres -s /bin/sh -c "\$bin/postgres -D \$data -p \$port -c listen_addresses='' -k /run/postgresql" &
    pid=\$!
    i=0
    until su postgres -s /bin/sh -c "\$bin/pg_isready -q -h /run/postgresql -p \$port" || [ \$i -ge 100 ]; do i=\$((i+1)); sleep 0.1; done
    su postgres -s /bin/sh -c "psql -q -h /run/postgresql -p \$port -U '\$user' -d postgres -c 'CREATE DATABASE \"\$db\"'"
    kill -INT \$pid
    wait \$pid || true
  fi
fi
echo "starting postgres on port \$port"
exec su postgres -s /bin/sh -c "exec \$bin/postgres -D \$data -p \$port -c listen_addresses='\$listen' -k /run/postgresql \$*"
EOF
chmod +x "$root/usr/local/bin/docker-entrypoint.sh"
import_root "$image" -c 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' -c "ENV PATH=/usr/lib/postgresql/$major/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" -c 'EXPOSE 5432'

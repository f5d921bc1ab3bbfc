#!/usr/bin/env bash
# Builds the MariaDB image the `testcontainers` provider runs with `engine: mariadb`, from Debian
# packages, without any registry: debootstrap a minimal Debian with mariadb-server, add an
# entrypoint that honours MARIADB_ROOT_PASSWORD (or MYSQL_ROOT_PASSWORD) and MARIADB_DATABASE like
# the official image (plus PORT and LISTEN, so with host networking the server listens on a free
# loopback port), and `docker import` it.
#
#   bash test-harness/scripts/build-mariadb-image.sh [IMAGE]     (default shipgate/mariadb:10.11-bookworm)
#
# Skips the build when the image exists. The Debian mirror is the machine's own, or $DEBIAN_MIRROR.
set -euo pipefail
image="${1:-${SHIPGATE_TEST_MARIADB_IMAGE:-shipgate/mariadb:10.11-bookworm}}"

me=build-mariadb-image
. "$(dirname "$0")/debootstrap-lib.sh"
debootstrap_root "$image" mariadb-server

cat >"$root/usr/local/bin/docker-entrypoint.sh" <<'EOS'
#!/bin/sh
# Like the official image: MARIADB_ROOT_PASSWORD (or MYSQL_ROOT_PASSWORD) is required, MARIADB_DATABASE
# optional; PORT (3306) and LISTEN (0.0.0.0) for host networking. Extra arguments go to mariadbd.
set -eu
password="${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}"
[ -n "$password" ] || { echo "error: MARIADB_ROOT_PASSWORD is not set" >&2; exit 1; }
port="${PORT:-3306}"
listen="${LISTEN:-0.0.0.0}"
data=/var/lib/mysql
mkdir -p "$data" /run/mysqld
chown mysql:mysql "$data" /run/mysqld
if [ ! -d "$data/mysql" ]; then
  mariadb-install-db --user=mysql --datadir="$data" --auth-root-authentication-method=normal --skip-test-db >/dev/null
  # --init-file runs one statement per line
  {
    echo "FLUSH PRIVILEGES;"
    # install-db also makes root@127.0.0.1 and root@::1 without a password, which TCP logins would match first
    echo "DROP USER IF EXISTS 'root'@'127.0.0.1';"
    echo "DROP USER IF EXISTS 'root'@'::1';"
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$password';"
    echo "CREATE USER 'root'@'%' IDENTIFIED BY '$password';"
    echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    if [ -n "${MARIADB_DATABASE:-}" ]; then echo "CREATE DATABASE \`$MARIADB_DATABASE\`;"; fi
  } >/tmp/init.sql
  chown mysql /tmp/init.sql
  set -- --init-file=/tmp/init.sql "$@"
fi
echo "starting mariadb on port $port"
exec mariadbd --user=mysql --datadir="$data" --port="$port" --bind-address="$listen" --socket=/run/mysqld/mysqld.sock --skip-name-resolve "$@"
EOS
chmod +x "$root/usr/local/bin/docker-entrypoint.sh"
rm -rf "$root"/var/lib/mysql/* # the package's own data directory: the entrypoint makes a fresh one
import_root "$image" -c 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' -c 'EXPOSE 3306'

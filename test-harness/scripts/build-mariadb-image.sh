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
suite="${DEBIAN_SUITE:-bookworm}"

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "build-mariadb-image: $image already built" >&2
  exit 0
fi
command -v debootstrap >/dev/null || { echo "build-mariadb-image: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "build-mariadb-image: debootstrap needs root" >&2; exit 1; }

mirror="${DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror="$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list 2>/dev/null \
    | grep -v security | head -1 | sed -E 's/^URIs:[[:space:]]*//; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//; s/[[:space:]].*$//' || true)"
fi
[ -n "$mirror" ] || { echo "build-mariadb-image: no Debian mirror found in the apt sources; set DEBIAN_MIRROR" >&2; exit 1; }

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
echo "build-mariadb-image: debootstrap $suite with mariadb-server (about a minute)" >&2
debootstrap --variant=minbase --include=mariadb-server "$suite" "$root" "$mirror" >"$root.log" 2>&1 || {
  tail -20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"

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
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/lib/mysql/*

echo "build-mariadb-image: docker import $image" >&2
tar -C "$root" -c . | docker import \
  -c 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
  -c 'EXPOSE 3306' \
  - "$image" >/dev/null
echo "build-mariadb-image: built $image" >&2

# Shared by build-postgres-image.sh and build-mariadb-image.sh (source it; set `me` first).
# debootstrap_root IMAGE PACKAGES: exits 0 when IMAGE exists; else checks the tools, finds the
# machine's Debian mirror ($DEBIAN_MIRROR wins), and debootstraps a minimal $DEBIAN_SUITE
# (bookworm) with PACKAGES into a temp directory, printed as $root (removed on exit).
debootstrap_root() {
  local image="$1" packages="$2" suite="${DEBIAN_SUITE:-bookworm}" mirror="${DEBIAN_MIRROR:-}"
  if docker image inspect "$image" >/dev/null 2>&1; then
    echo "$me: $image already built" >&2
    exit 0
  fi
  command -v debootstrap >/dev/null || { echo "$me: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
  [ "$(id -u)" = 0 ] || { echo "$me: debootstrap needs root" >&2; exit 1; }
  if [ -z "$mirror" ]; then
    mirror="$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list 2>/dev/null \
      | grep -v security | head -1 | sed -E 's/^URIs:[[:space:]]*//; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//; s/[[:space:]].*$//' || true)"
  fi
  [ -n "$mirror" ] || { echo "$me: no Debian mirror found in the apt sources; set DEBIAN_MIRROR" >&2; exit 1; }
  root="$(mktemp -d)"
  trap 'rm -rf "$root"' EXIT
  echo "$me: debootstrap $suite with $packages (about a minute)" >&2
  debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" >"$root.log" 2>&1 || {
    tail -20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
  rm -f "$root.log"
}

# import_root IMAGE DOCKER_IMPORT_CHANGES...: slims the tree and `docker import`s it.
import_root() {
  local image="$1"
  shift
  rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
  echo "$me: docker import $image" >&2
  tar -C "$root" -c . | docker import "$@" - "$image" >/dev/null
  echo "$me: built $image" >&2
}

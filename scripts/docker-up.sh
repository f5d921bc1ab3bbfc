#!/usr/bin/env bash
# Starts a Docker engine when none answers (CI and fresh Debian machines), and waits until it does.
# Containers use host networking on loopback: the default bridge is not created at all, so no test
# traffic can reach a private-range address.
set -euo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
command -v dockerd >/dev/null || { echo "docker-up: dockerd not installed (apt-get install docker.io)" >&2; exit 1; }
mkdir -p /var/log
nohup dockerd --bridge=none --iptables=false --ip6tables=false >/var/log/shipgate-dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 1
done
echo "docker-up: dockerd did not answer within 60 s; see /var/log/shipgate-dockerd.log" >&2
exit 1

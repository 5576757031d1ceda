#!/usr/bin/env bash
# Installs what the test suite needs, idempotently: Debian packages that
# are missing are installed (apt-get update runs once, only if needed).
# Needs root, as on CI; elsewhere it says what is missing and goes on.
set -euo pipefail

packages=(
  golang-github-mesos-mesos-go-dev # mesos-go 0.0.6 and its v1 HTTP client (api/v1/lib) for the interop tests (GOPATH mode)
  chromium                         # headless browser for the web UI tests
  zookeeper                        # a real ZooKeeper server for the master election tests
  iproute2                         # ip netns: the cross-host forged-pid test (tests/hostile_netns_test.go)
  docker.io                        # Docker Engine for the docker containerizer tests
  busybox-static                   # the docker tests' image: busybox and its links, imported
)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: not root; tests needing ${missing[*]} will skip" >&2
    exit 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Docker Engine: start dockerd when it does not answer, with settings that
# work in a container without its own network setup (no bridge, no
# iptables, the vfs storage driver). The docker tests skip loudly when it
# cannot run (and fail when CI=true).
if [ "$(id -u)" -eq 0 ] && command -v dockerd >/dev/null 2>&1; then
  if ! docker version >/dev/null 2>&1; then
    log=/var/log/gomesos-dockerd.log
    setsid dockerd --storage-driver=vfs --iptables=false --bridge=none >"$log" 2>&1 < /dev/null &
    for _ in $(seq 1 60); do
      docker version >/dev/null 2>&1 && break
      sleep 0.5
    done
    docker version >/dev/null 2>&1 || echo "install-test-deps: dockerd did not start (see $log); the docker tests will skip" >&2
  fi
fi

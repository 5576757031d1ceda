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
)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: not root; tests needing ${missing[*]} will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

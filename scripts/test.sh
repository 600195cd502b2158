#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine, then runs all of it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# The docker suites run against a real engine: install and start one unless told not to.
if [ "${COX_SKIP_DOCKER:-0}" != 1 ]; then
  scripts/setup-docker.sh
fi
# The status page's test drives a real Chromium, Debian's: playwright-core never downloads one.
if [ ! -x /usr/bin/chromium ]; then
  SUDO=
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  echo "test: installing chromium"
  # apt's chatter (debconf, needrestart) is shown only when the install fails.
  apt_log=$(mktemp)
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium; } >"$apt_log" 2>&1; then
    cat "$apt_log" >&2
    exit 1
  fi
  rm -f "$apt_log"
fi
npm test

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
# Debian's packages for the suites that drive real programs: the status page's test a Chromium
# (playwright-core never downloads one), the controller's Redis store a redis-server.
missing=()
if [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
if ! command -v redis-server >/dev/null; then missing+=(redis-server); fi
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  echo "test: installing ${missing[*]}"
  # apt's chatter (debconf, needrestart) is shown only when the install fails.
  apt_log=$(mktemp)
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$apt_log" 2>&1; then
    cat "$apt_log" >&2
    exit 1
  fi
  rm -f "$apt_log"
fi
npm test

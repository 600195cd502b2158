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
npm test

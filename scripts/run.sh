#!/usr/bin/env bash
# Installs what coxswain needs, builds it, and runs the host manager on the example site config.
# Extra arguments go to `cox hostmanager` (e.g. --port 9000, --initial-state down).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
# The same V8 flags as the systemd unit (src/systemd/node-flags.ts).
exec node --max-semi-space-size=2 dist/cli/main.js hostmanager --site-file site-config/default.yaml --site-host localhost "$@"

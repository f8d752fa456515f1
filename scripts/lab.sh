#!/bin/bash
# `npm run lab -- ARGS`: installs the npm packages on first use, then runs the lab CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/tsx ]; then
  echo "lab: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi
exec node_modules/.bin/tsx lab/cli.ts "$@"

#!/bin/bash
# `npm run bench -- ARGS`: installs the npm packages on first use, then runs the bench.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/tsx ]; then
  echo "bench: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi
exec node_modules/.bin/tsx bench/main.ts "$@"

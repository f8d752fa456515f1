#!/bin/bash
# `npm run lab` / `npm run bench`: installs the npm packages on first use, then runs the given
# TypeScript entry point (lab/cli.ts, bench/main.ts) with its arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/tsx ]; then
  echo "$1: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi
exec node_modules/.bin/tsx "$@"

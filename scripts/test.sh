#!/bin/bash
# The project's one test command (npm test): strict type-check, then every test file.
#   scripts/test.sh          type-check + unit tests + lab end-to-end tests
#   scripts/test.sh unit     type-check + unit tests only (no root, no lab)
set -euo pipefail
cd "$(dirname "$0")/.."

# The tests run the real daemons and tools; install what is missing (a no-op when all is there).
if [ "$(id -u)" = 0 ]; then bash scripts/install-deps.sh; fi
[ -x node_modules/.bin/tsx ] || npm ci --no-audit --no-fund

echo "== type-check (tsc --strict)"
npx --no-install tsc -p . --noEmit

mapfile -t unit < <(find components test lab policy bench -name '*.test.ts' -not -name '*.e2e.test.ts' -not -path '*/node_modules/*' | sort)
mapfile -t e2e < <(find lab test -name '*.e2e.test.ts' -not -path '*/node_modules/*' | sort)

files=("${unit[@]}")
if [ "${1:-all}" != unit ]; then
  files+=("${e2e[@]}")
fi
echo "== ${#files[@]} test files"
# One file at a time: lab tests own network namespaces and containers, and the machine has 2 cores.
exec node --import tsx --test --test-concurrency=1 "${files[@]}"

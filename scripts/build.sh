#!/bin/bash
# Builds the component library for other stacks to import: compiled JS and typings under bin/,
# plus the files the components read at run time (droplet scripts, the demo app).
set -euo pipefail
cd "$(dirname "$0")/.."
npx --no-install tsc -p tsconfig.build.json
find components -type f \( -name '*.sh' -o -name '*.php' -o -name '*.lua' -o -name '*.md' \) -not -path '*/testing/*' \
  -exec cp --parents {} bin/ \;

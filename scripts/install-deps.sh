#!/bin/bash
# Debian packages the tests, the bench and the lab use, from the one list both this script and the
# lab's preflight read (scripts/debian-packages.json): "lab" what `npm run lab` runs on this machine,
# "bench" what `npm run bench` adds, "test" the real daemons whose configs the tests render and check
# with their own tools, Chromium, and the rest.
#   scripts/install-deps.sh          install what is missing (a no-op when all is there)
#   scripts/install-deps.sh --list   print the packages, one per line, and change nothing
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
mapfile -t packages < <(node -e '
  const l = JSON.parse(require("fs").readFileSync("scripts/debian-packages.json", "utf8"));
  for (const p of [...l.lab, ...l.bench, ...l.test]) console.log(p);')
if [ "${1:-}" = --list ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  # Keep the daemons from starting on the host: tests start their own, by PID.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

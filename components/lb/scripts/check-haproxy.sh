#!/bin/bash
# keepalived vrrp_script: exit 0 iff the local HAProxy answers /lb-health
# with 200.
#
# Usage: check-haproxy [PORT [HOST]]   (defaults: 80 127.0.0.1)
#
# /lb-health is 503 when HAProxy runs but sees no app server UP. That counts
# as a failure on purpose: the instance goes to FAULT, and the peer LB, which
# may still reach app servers (e.g. this LB's VPC link is broken), takes the
# reserved IP. If both LBs fail, both are in FAULT and the IP stays put,
# which is no worse than either choice.
set -euo pipefail

port="${1:-80}"
host="${2:-127.0.0.1}"

if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
  echo "check-haproxy: bad port '$port'" >&2
  exit 2
fi

# keepalived runs this every second: a 1 s cap keeps checks from piling up.
code="$(curl --silent --output /dev/null --max-time 1 --write-out '%{http_code}' \
  "http://${host}:${port}/lb-health")" || code="000"

[[ "$code" == "200" ]]

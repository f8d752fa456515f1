#!/bin/bash
# Health of this node of the Galera cluster, as one JSON document, for the
# operator, `npm run lab -- status` and tests:
#
#   {"healthy":true,"state":"Synced","cluster_status":"Primary","ready":true,
#    "cluster_size":3,"expected_size":3,"addresses":["10.110.0.5:3306",...],
#    "last_committed":1234,"recv_queue":0,"flow_control_paused":0.0,
#    "cert_failures":2,"problems":[]}
#
#   dns-rr-ha-db-health [--expect N] [-- mariadb client args]
#
# Exit 0: Synced in the primary component, ready, and (with --expect) all N
# members present. 1: serving, but the cluster lost a member (N - k present).
# 3: this node does not serve (non-primary, joining, donor, not ready).
# 2: the server cannot be queried. Without --expect the size is not judged;
# the wiring's db.env has CLUSTER_SIZE, which is the default when readable.
set -euo pipefail

expect=""
if [[ -r /etc/dns-rr-ha/db/db.env ]]; then
  expect=$(awk -F= '$1 == "CLUSTER_SIZE" { print $2 }' /etc/dns-rr-ha/db/db.env)
fi
while (($#)); do
  case "$1" in
    --expect)
      (($# >= 2)) || {
        echo "db-health: --expect needs a member count" >&2
        exit 64
      }
      expect=$2
      shift 2
      ;;
    --)
      shift
      break
      ;;
    *)
      echo "usage: $0 [--expect N] [-- mariadb client args]" >&2
      exit 64
      ;;
  esac
done
[[ -z $expect || $expect =~ ^[1-9][0-9]*$ ]] || {
  echo "db-health: --expect '$expect' must be a member count" >&2
  exit 64
}

if ! status=$(mariadb "$@" --batch --skip-column-names -e "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_local_state_comment','wsrep_cluster_status','wsrep_ready','wsrep_cluster_size','wsrep_last_committed','wsrep_local_recv_queue','wsrep_flow_control_paused','wsrep_local_cert_failures','wsrep_incoming_addresses','wsrep_connected')" 2>&1); then
  reason=$(printf '%s' "$status" | head -n 1 | tr -d '"[:cntrl:]' | sed 's/[\\]//g')
  printf '{"healthy":false,"state":"down","problems":["cannot query MariaDB: %s"]}\n' "$reason"
  exit 2
fi

awk -F'\t' -v expect="$expect" '
  function num(v) { return v == "" ? "null" : v + 0 }
  function str(v) { gsub(/["\\]/, "", v); return "\"" v "\"" }
  { v[$1] = $2 }
  END {
    state = v["wsrep_local_state_comment"]; cs = v["wsrep_cluster_status"]; ready = v["wsrep_ready"]
    size = v["wsrep_cluster_size"]
    n = 0
    if (cs == "") { problems[n++] = "wsrep is off: not a cluster member" }
    else {
      if (cs != "Primary") problems[n++] = "not in the primary component (" cs "): this side of a partition has no quorum"
      if (state != "Synced") problems[n++] = "state " state ", not Synced"
      if (ready != "ON") problems[n++] = "not ready for queries"
    }
    serving = (n == 0)
    if (serving && expect != "" && size + 0 < expect + 0) problems[n++] = "cluster has " size " of " expect " members"
    split(v["wsrep_incoming_addresses"], m, ",")
    addresses = ""
    for (i = 1; i in m; i++) if (m[i] != "") addresses = addresses (addresses == "" ? "" : ",") str(m[i])
    printf "{\"healthy\":%s,\"state\":%s,\"cluster_status\":%s,\"ready\":%s,", (n == 0 ? "true" : "false"), str(state == "" ? "off" : state), str(cs), (ready == "ON" ? "true" : "false")
    printf "\"cluster_size\":%s,\"expected_size\":%s,\"addresses\":[%s],", num(size), (expect == "" ? "null" : expect + 0), addresses
    printf "\"last_committed\":%s,\"recv_queue\":%s,\"flow_control_paused\":%s,\"cert_failures\":%s,\"problems\":[", num(v["wsrep_last_committed"]), num(v["wsrep_local_recv_queue"]), num(v["wsrep_flow_control_paused"]), num(v["wsrep_local_cert_failures"])
    for (i = 0; i < n; i++) printf "%s%s", (i ? "," : ""), str(problems[i])
    print "]}"
    exit (!serving ? 3 : (n > 0 ? 1 : 0))
  }
' <<<"$status"

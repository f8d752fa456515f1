#!/bin/bash
# Replication health of this MariaDB node, as one JSON document, for
# monitoring, scripts and tests:
#
#   {"server_id":1,"max_lag_seconds":10,"healthy":true,"degraded":false,
#    "semisync":{"master_enabled":true,"master_status":"ON","slave_status":"ON",
#                "clients":1,"yes_tx":42,"no_tx":0},
#    "connections":[{"name":"ams3","io_running":"Yes","sql_running":"Yes",
#      "seconds_behind_master":0,"master_server_id":2,"heartbeat_age_seconds":0.412,
#      "last_error":null,"healthy":true,"problems":[]}]}
#
# heartbeat_age_seconds is the age, on this node's clock, of the peer's row in
# dns_rr_ha.heartbeat (written every second by the peer's db-heartbeat): how
# stale this node's copy of the peer's writes is, end to end. It catches what
# Seconds_Behind_Master misses (NULL when the SQL thread stops, 0 while the IO
# thread silently waits on a dead link). Clock skew between the hosts adds to it.
#
# Exit status:
#   0  every connection's IO and SQL threads run and every peer's heartbeat is
#      younger than --max-lag (default 10 s); semisync, if enabled, is ON
#   1  a connection is down, or a peer's heartbeat is missing or too old
#   2  the server cannot be queried
#   3  replication is healthy but semisync is enabled and currently OFF: this
#      node degraded to async after a timeout (it switches back by itself once
#      a peer has caught up and acknowledges again)
# No connections (single node) prints an empty list and exits 0.
#
# Usage: db-replication-health [--max-lag SECONDS] [--] [mariadb client arguments...]
set -euo pipefail

max_lag=10
if [[ ${1:-} == --max-lag ]]; then
  max_lag=${2:-}
  shift $(($# > 1 ? 2 : 1))
fi
if [[ ${1:-} == -- ]]; then shift; fi
if [[ ! $max_lag =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
  echo "db-replication-health: --max-lag must be a number of seconds (got '$max_lag')" >&2
  exit 64
fi

# query SQL [client arguments...]
query() {
  local sql=$1
  shift
  mariadb "$@" --connect-timeout=5 --batch --skip-column-names -e "$sql"
}

if ! status=$(mariadb "$@" --connect-timeout=5 --batch -e 'SHOW ALL SLAVES STATUS'); then
  echo "db-replication-health: cannot query MariaDB" >&2
  exit 2
fi
if ! globals=$(query "SELECT @@server_id, @@rpl_semi_sync_master_enabled;
    SHOW GLOBAL STATUS WHERE Variable_name IN ('Rpl_semi_sync_master_status', 'Rpl_semi_sync_slave_status',
      'Rpl_semi_sync_master_clients', 'Rpl_semi_sync_master_yes_tx', 'Rpl_semi_sync_master_no_tx');" "$@"); then
  echo "db-replication-health: cannot query MariaDB" >&2
  exit 2
fi
# The table appears with the first heartbeat (db-heartbeat creates it): until
# then every peer's heartbeat counts as missing. A plain (consistent) read never
# waits for row locks; the limits keep a table lock from hanging the check.
heartbeats=$(query "SET STATEMENT lock_wait_timeout = 2, max_statement_time = 2 FOR
    SELECT server_id, UNIX_TIMESTAMP(NOW(6)) - UNIX_TIMESTAMP(ts) FROM dns_rr_ha.heartbeat" "$@" 2>/dev/null) || heartbeats=""

# Columns of SHOW ALL SLAVES STATUS are looked up by name (their order differs
# between versions). --batch escapes \, tab, newline and NUL in values as \\,
# \t, \n, \0: json() turns that into a JSON string.
awk -F'\t' -v max_lag="$max_lag" -v globals="$globals" -v heartbeats="$heartbeats" '
  function json(s,    out, i, c, n) {
    out = ""
    for (i = 1; i <= length(s); i++) {
      c = substr(s, i, 1)
      if (c == "\\" && i < length(s)) {
        n = substr(s, ++i, 1)
        if (n == "t") out = out "\\t"
        else if (n == "n") out = out "\\n"
        else if (n == "0") out = out "\\u0000"
        else if (n == "\\") out = out "\\\\"
        else out = out "\\\\" (n == "\"" ? "\\\"" : n)
      } else if (c == "\\") out = out "\\\\"
      else if (c == "\"") out = out "\\\""
      else if (c == "\r") out = out "\\r"
      else if (c < " ") out = out " "
      else out = out c
    }
    return "\"" out "\""
  }
  function num(s) { return s ~ /^-?[0-9]+(\.[0-9]+)?$/ ? s + 0 : "null" }
  BEGIN {
    n = split(globals, g, "\n")
    split(g[1], ids, "\t")
    server_id = ids[1]; master_enabled = ids[2] == 1
    for (i = 2; i <= n; i++) { split(g[i], kv, "\t"); st[kv[1]] = kv[2] }
    n = split(heartbeats, h, "\n")
    for (i = 1; i <= n; i++) if (split(h[i], kv, "\t") == 2) age[kv[1]] = kv[2]
    bad = 0; count = 0; conns = ""
  }
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  {
    problems = ""
    io = $col["Slave_IO_Running"]; sql = $col["Slave_SQL_Running"]; peer = $col["Master_Server_Id"]
    if (io != "Yes") problems = problems ",\"IO thread " (io == "Connecting" ? "connecting" : "stopped") "\""
    if (sql != "Yes") problems = problems ",\"SQL thread stopped\""
    hb = "null"
    if (peer != "" && peer != "0" && (peer in age)) {
      hb = sprintf("%.3f", age[peer])
      if (age[peer] + 0 > max_lag + 0) problems = problems ",\"heartbeat older than " max_lag " s\""
    } else problems = problems ",\"no heartbeat from the peer\""
    err = $col["Last_SQL_Error"]
    if (err == "") err = $col["Last_IO_Error"]
    ok = problems == ""
    if (!ok) bad = 1
    conns = conns (count++ ? "," : "") "{\"name\":" json($col["Connection_name"]) \
      ",\"io_running\":" json(io) ",\"sql_running\":" json(sql) \
      ",\"seconds_behind_master\":" num($col["Seconds_Behind_Master"]) \
      ",\"master_server_id\":" num(peer) ",\"heartbeat_age_seconds\":" hb \
      ",\"last_error\":" (err == "" ? "null" : json(err)) \
      ",\"healthy\":" (ok ? "true" : "false") ",\"problems\":[" substr(problems, 2) "]}"
  }
  END {
    degraded = master_enabled && st["Rpl_semi_sync_master_status"] != "ON"
    printf "{\"server_id\":%s,\"max_lag_seconds\":%s,\"healthy\":%s,\"degraded\":%s,", num(server_id), max_lag + 0, bad ? "false" : "true", degraded ? "true" : "false"
    printf "\"semisync\":{\"master_enabled\":%s,\"master_status\":%s,\"slave_status\":%s,", master_enabled ? "true" : "false", json(st["Rpl_semi_sync_master_status"]), json(st["Rpl_semi_sync_slave_status"])
    printf "\"clients\":%s,\"yes_tx\":%s,\"no_tx\":%s},", num(st["Rpl_semi_sync_master_clients"]), num(st["Rpl_semi_sync_master_yes_tx"]), num(st["Rpl_semi_sync_master_no_tx"])
    printf "\"connections\":[%s]}\n", conns
    exit bad ? 1 : degraded ? 3 : 0
  }
' <<<"$status"

#!/bin/bash
# Replication health of this MariaDB node, for monitoring.
#
# Prints one tab-separated line per replication connection:
#   <connection> <io_running> <sql_running> <seconds_behind|NULL> <last_error|->
# and exits 0 when every connection has IO and SQL threads running ("Yes"),
# 1 when at least one does not, 2 when the server cannot be queried.
# No connections (single-node deployment) prints nothing and exits 0.
# Arguments are passed first to the mariadb client (e.g. --socket=...).
set -euo pipefail

if ! status=$(mariadb "$@" --batch -e 'SHOW ALL SLAVES STATUS'); then
  echo "db-health: cannot query MariaDB" >&2
  exit 2
fi

# Columns are looked up by name from the header line: their order differs
# between MariaDB versions. --batch escapes tabs and newlines inside errors.
awk -F'\t' '
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  {
    err = $col["Last_SQL_Error"]
    if (err == "") err = $col["Last_IO_Error"]
    if (err == "") err = "-"
    print $col["Connection_name"] "\t" $col["Slave_IO_Running"] "\t" $col["Slave_SQL_Running"] "\t" $col["Seconds_Behind_Master"] "\t" err
    if ($col["Slave_IO_Running"] != "Yes" || $col["Slave_SQL_Running"] != "Yes") bad = 1
  }
  END { exit bad ? 1 : 0 }
' <<<"$status"

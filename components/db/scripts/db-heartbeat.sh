#!/bin/bash
# Replication heartbeat writer of this MariaDB node (run by the systemd service
# dns-rr-ha-db-heartbeat, installed by wire-db.sh).
#
# Keeps one row per node in dns_rr_ha.heartbeat (server_id, host, ts) fresh:
# every INTERVAL seconds this node sets ts = NOW(6) on its own row. The rows
# replicate like any write, so on every peer the age of a node's row is how
# stale that peer's copy of this node's data is: the replication lag measured
# end to end, including a stopped or lagging SQL thread, which
# Seconds_Behind_Master does not always show. db-replication-health reads it.
#
# Usage: db-heartbeat [--interval SECONDS] [--] [mariadb client arguments...]
#
# One client connection writes all heartbeats (no process per beat). When the
# server goes away the client exits, the writer loop dies of SIGPIPE on its
# next beat, and this script exits non-zero so systemd restarts it.
# Each node only ever writes its own row (keyed by its server_id): the rows
# never conflict between masters.
set -euo pipefail

interval=1
if [[ ${1:-} == --interval ]]; then
  interval=${2:-}
  shift $(($# > 1 ? 2 : 1))
fi
if [[ ${1:-} == -- ]]; then shift; fi
if [[ ! $interval =~ ^[0-9]+(\.[0-9]+)?$ ]] || [[ $interval =~ ^0+(\.0*)?$ ]]; then
  echo "db-heartbeat: --interval must be a positive number of seconds (got '$interval')" >&2
  exit 64
fi

# Replicated on purpose (IF NOT EXISTS everywhere): a peer that has not created
# the table yet gets it from this node's binlog before the first heartbeat row,
# so a heartbeat can never stop a peer's SQL thread with "table doesn't exist".
mariadb "$@" --batch <<'SQL'
CREATE DATABASE IF NOT EXISTS dns_rr_ha;
CREATE TABLE IF NOT EXISTS dns_rr_ha.heartbeat (
  server_id INT UNSIGNED NOT NULL PRIMARY KEY,
  host VARCHAR(255) NOT NULL,
  ts TIMESTAMP(6) NOT NULL
) ENGINE = InnoDB;
SQL

echo "db-heartbeat: writing a heartbeat every ${interval}s" >&2
while :; do
  # NOW(6) is evaluated when the server runs the statement, not when it is queued here.
  echo 'INSERT INTO dns_rr_ha.heartbeat (server_id, host, ts) VALUES (@@server_id, @@hostname, NOW(6)) ON DUPLICATE KEY UPDATE host = VALUES(host), ts = VALUES(ts);'
  sleep "$interval"
done | mariadb "$@" --batch

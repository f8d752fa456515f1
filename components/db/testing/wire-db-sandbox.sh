#!/bin/bash
# Test harness for scripts/wire-db.sh. Must run as root inside
# `unshare --mount --net --propagation private`: it hides the host's /etc
# (overlay), /mnt, /var/lib/mysql, /var/log and /run/mysqld behind throw-away
# mounts, so wire-db.sh runs unchanged against real paths, a real
# mariadb-install-db and a real mariadbd, and the host is never touched.
# systemctl is a stub (no systemd here) that runs mariadbd in the background.
#
# Usage: wire-db-sandbox.sh WORK WIRE_DB_SCRIPT
#   WORK/steps/NN/  input files for /etc/dns-rr-ha/db/ of run NN (in order)
#   WORK/out/NN.{rc,stderr,systemctl,state}  what each run did and left behind
set -euo pipefail

work=$1
wire_db=$2
out=$work/out
mkdir -p "$out" "$work/bin" "$work/ovl"

ip link set lo up
mount -t tmpfs tmpfs "$work/ovl"
mkdir "$work/ovl/upper" "$work/ovl/work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$work/ovl/upper,workdir=$work/ovl/work" /etc
for dir in /mnt /var/lib/mysql /var/log /run/mysqld; do
  mount -t tmpfs tmpfs "$dir"
done
chown mysql:mysql /var/lib/mysql /run/mysqld
# The "volume", already mounted (the device-wait path is tested separately).
mkdir /mnt/vol
mount -t tmpfs tmpfs /mnt/vol

cat >"$work/bin/systemctl" <<'STUB'
#!/bin/bash
# systemctl stub: only what wire-db.sh uses, for mariadb only.
set -euo pipefail
echo "$*" >>"${STUB_LOG:-/dev/null}"
# Other units (the heartbeat service) are only recorded: their scripts are not
# installed in the sandbox, and the heartbeat itself is tested against real servers.
unit=${*: -1}
if [[ $1 != daemon-reload && $unit != mariadb ]]; then
  [[ $1 != is-active ]]
  exit
fi
pidfile=/run/mysqld/stub.pid
alive() {
  [[ -f $pidfile ]] || return 1
  local pid
  pid=$(<"$pidfile")
  [[ -e /proc/$pid ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status"
}
stop() {
  if alive; then
    local pid
    pid=$(<"$pidfile")
    kill "$pid"
    while alive; do sleep 0.1; done
  fi
  rm -f "$pidfile"
}
case $1 in
  is-active) alive ;;
  enable | daemon-reload) ;;
  start) alive || { setsid mariadbd --user=mysql </dev/null >/dev/null 2>&1 & echo $! >"$pidfile"; } ;;
  stop) stop ;;
  restart) stop && "$0" start mariadb ;;
  *) echo "systemctl stub: unsupported: $*" >&2; exit 1 ;;
esac
STUB
chmod 0755 "$work/bin/systemctl"
export PATH=$work/bin:$PATH

wait_for_mariadb() {
  for _ in $(seq 100); do
    mariadb -e 'SELECT 1' >/dev/null 2>&1 && return
    sleep 0.2
  done
  echo "sandbox: mariadb did not come up" >&2
  return 1
}

state() {
  echo "pid=$(cat /run/mysqld/stub.pid 2>/dev/null || echo none)"
  mariadb -N -B -e "SELECT CONCAT('datadir=', @@datadir), CONCAT('port=', @@port),
    CONCAT('max_connections=', @@max_connections),
    CONCAT('binlog_expire_logs_seconds=', @@binlog_expire_logs_seconds),
    CONCAT('have_ssl=', @@have_ssl), CONCAT('require_secure_transport=', @@require_secure_transport)" 2>/dev/null | tr '\t' '\n' || echo "down=1"
  echo "connections=$(mariadb -N -B -e 'SHOW ALL SLAVES STATUS' 2>/dev/null | cut -f1 | sort | paste -sd, -)"
  echo "accounts=$(mariadb -N -B -e "SELECT CONCAT(User, '@', Host) FROM mysql.global_priv WHERE User IN ('repl', 'app') ORDER BY 1" 2>/dev/null | paste -sd, -)"
  echo "sql_modes=$(stat -c %a /etc/dns-rr-ha/db/users.sql /etc/dns-rr-ha/db/replication.sql | paste -sd, -)"
  echo "cnf_installed=$(cmp -s /etc/dns-rr-ha/db/my.cnf /etc/mysql/mariadb.conf.d/60-dns-rr-ha.cnf && echo yes || echo no)"
  echo "dropin=$(paste -sd'|' /etc/systemd/system/mariadb.service.d/50-dns-rr-ha.conf 2>/dev/null || echo none)"
  echo "logdir=$(stat -c %U:%G:%a /var/log/mysql 2>/dev/null || echo none)"
  echo "fstab=$(md5sum </etc/fstab | cut -d' ' -f1)"
  echo "heartbeat_unit=$(grep -E '^(ExecStart|After|Restart)=' /etc/systemd/system/dns-rr-ha-db-heartbeat.service 2>/dev/null | paste -sd'|' - || echo none)"
  echo "datadir_owner=$(stat -c %U:%a /mnt/vol/mysql 2>/dev/null || echo none)"
}

# What the package leaves behind: MariaDB running on /var/lib/mysql.
mariadb-install-db --user=mysql --datadir=/var/lib/mysql --auth-root-authentication-method=socket --skip-test-db >/dev/null
systemctl start mariadb
wait_for_mariadb
state >"$out/00.state"

cleanup() { systemctl stop mariadb || true; }
trap cleanup EXIT

for step_dir in "$work"/steps/*/; do
  step=$(basename "$step_dir")
  rm -rf /etc/dns-rr-ha
  mkdir -p /etc/dns-rr-ha/db
  cp "$step_dir"/* /etc/dns-rr-ha/db/
  rc=0
  STUB_LOG=$out/$step.systemctl bash "$wire_db" 2>"$out/$step.stderr" || rc=$?
  echo "$rc" >"$out/$step.rc"
  touch "$out/$step.systemctl"
  state >"$out/$step.state"
done

#!/bin/bash
# Test harness for scripts/wire-db.sh. Must run as root inside
# `unshare --mount --net --propagation private`: it hides the host's /etc
# (overlay), /mnt, /var/lib/mysql, /var/log and /run behind throw-away
# mounts, so wire-db.sh runs unchanged against real paths, a real
# mariadb-install-db and a real mariadbd (a Galera node of its own), and the
# host is never touched.
#
# Fakes, first in PATH, each recording its call in the step's calls log:
#   systemctl           no systemd here: runs mariadbd in the background. The
#                       sandbox has no other cluster member, so a "join" forms
#                       a one-node cluster too, after filling an empty datadir
#                       as a donor's state transfer would (with the real
#                       mariadb-install-db); what started it is kept in
#                       /run/sandbox/started (new-cluster | join | join+sst).
#   galera_new_cluster  the real one, which restarts mariadb.service with
#                       --wsrep-new-cluster (through the fake systemctl).
#   mariadb-install-db  the real one.
#   mariadb             answers SHOW GLOBAL STATUS LIKE 'wsrep_...' from
#                       /run/sandbox/wsrep ("name value [times]" lines: the
#                       test's word about the cluster), the rest goes to the
#                       real client.
#
# Usage: wire-db-sandbox.sh WORK WIRE_DB_SCRIPT
#   WORK/steps/NN/  input files for /etc/dns-rr-ha/db/ of run NN (in order),
#                   plus optional sandbox.args (wire-db.sh's arguments, one a
#                   line), sandbox.wsrep (the fake's answers), sandbox.setup
#                   (bash run before wire-db.sh) and sandbox.start-fails (the
#                   next start of mariadb fails, as a joiner's with nobody to
#                   join)
#   WORK/out/NN.{rc,stderr,calls,state}  what each run did and left behind
set -euo pipefail

work=$1
wire_db=$2
out=$work/out
mkdir -p "$out" "$work/bin" "$work/ovl"

ip link set lo up
mount -t tmpfs tmpfs "$work/ovl"
mkdir "$work/ovl/upper" "$work/ovl/work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$work/ovl/upper,workdir=$work/ovl/work" /etc
for dir in /mnt /var/lib/mysql /var/log /run; do
  mount -t tmpfs tmpfs "$dir"
done
mkdir -p /run/mysqld /run/sandbox
chown mysql:mysql /var/lib/mysql /run/mysqld
# The "volume", already mounted (the device-wait path is tested separately).
mkdir /mnt/vol
mount -t tmpfs tmpfs /mnt/vol

cat >"$work/bin/systemctl" <<'STUB'
#!/bin/bash
# systemctl stub: only what wire-db.sh and galera_new_cluster use; other units are only recorded.
set -euo pipefail
echo "$*" >>"${CALLS_LOG:-/dev/null}"
verb=$1
unit=${*: -1}
unit=${unit%.service}
pidfile=/run/mysqld/stub.pid
failed=/run/sandbox/failed
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
start() {
  alive && return
  if [[ -e /run/sandbox/start-fails ]]; then
    rm /run/sandbox/start-fails
    touch "$failed"
    return
  fi
  rm -f "$failed"
  local datadir how=join
  datadir=$(my_print_defaults --mysqld | sed -n 's/^--datadir=//p' | tail -n 1)
  datadir=${datadir:-/var/lib/mysql}
  if [[ -f /run/mariadb-wsrep-new-cluster ]]; then
    how=new-cluster
  elif [[ ! -d $datadir/mysql ]]; then
    # What a donor's state transfer would deliver: a complete datadir.
    /usr/bin/mariadb-install-db --user=mysql --datadir="$datadir" --auth-root-authentication-method=socket --skip-test-db >/dev/null
    how=join+sst
  fi
  echo "$how" >/run/sandbox/started
  # Nobody else to join: every start forms this one-node cluster.
  sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' "$datadir/grastate.dat" 2>/dev/null || true
  setsid mariadbd --user=mysql --wsrep-new-cluster </dev/null >/dev/null 2>&1 &
  echo $! >"$pidfile"
}
if [[ $verb != daemon-reload && $unit != mariadb ]]; then
  case $verb in
    is-active) exit 1 ;;
    show) echo inactive ;;
  esac
  exit 0
fi
case $verb in
  is-active) alive ;;
  show) if alive; then echo active; elif [[ -e $failed ]]; then echo failed; else echo inactive; fi ;;
  enable | daemon-reload) ;;
  start) start ;;
  stop) stop ;;
  restart) stop && start ;;
  *)
    echo "systemctl stub: unsupported: $*" >&2
    exit 1
    ;;
esac
STUB

cat >"$work/bin/mariadb" <<'FAKE'
#!/bin/bash
# mariadb client: wsrep status from the test's answers where it has one, else the real client.
set -euo pipefail
answers=/run/sandbox/wsrep
query=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [[ ${args[i]} == -e ]] && query=${args[i + 1]:-}
done
re="^SHOW GLOBAL STATUS LIKE '(wsrep_[a-z_]+)'$"
if [[ -f $answers && $query =~ $re ]]; then
  name=${BASH_REMATCH[1]}
  if read -r _ value times < <(grep -m 1 "^$name " "$answers"); then
    if [[ -n $times ]]; then
      if ((times > 1)); then
        sed -i "s/^$name .*/$name $value $((times - 1))/" "$answers"
      else
        sed -i "/^$name /d" "$answers"
      fi
    fi
    echo "$name=$value" >>/run/sandbox/wsrep.answered
    printf '%s\t%s\n' "$name" "$value"
    exit 0
  fi
fi
exec /usr/bin/mariadb "$@"
FAKE

for tool in galera_new_cluster mariadb-install-db; do
  cat >"$work/bin/$tool" <<WRAPPER
#!/bin/bash
echo $tool >>"\${CALLS_LOG:-/dev/null}"
exec /usr/bin/$tool "\$@"
WRAPPER
done
chmod 0755 "$work"/bin/*
export PATH=$work/bin:$PATH

wait_for() {
  local socket=$1
  for _ in $(seq 150); do
    /usr/bin/mariadb --socket="$socket" -e 'SELECT 1' >/dev/null 2>&1 && return
    sleep 0.2
  done
  echo "sandbox: mariadb on $socket did not come up" >&2
  return 1
}
sql() { /usr/bin/mariadb -N -B "$@" 2>/dev/null; }
fingerprint() { openssl x509 -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2; }

state() {
  echo "pid=$(cat /run/mysqld/stub.pid 2>/dev/null || echo none)"
  echo "started=$(cat /run/sandbox/started 2>/dev/null || echo none)"
  sql -e "SELECT CONCAT('datadir=', @@datadir), CONCAT('port=', @@port),
    CONCAT('max_connections=', @@max_connections),
    CONCAT('binlog_expire_logs_seconds=', @@binlog_expire_logs_seconds),
    CONCAT('have_ssl=', @@have_ssl), CONCAT('require_secure_transport=', @@require_secure_transport),
    CONCAT('wsrep_on=', @@wsrep_on), CONCAT('group_ssl=', @@wsrep_provider_options LIKE '%socket.ssl = YES%')" | tr '\t' '\n' || echo "down=1"
  echo "wsrep=$(sql -e "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_status', 'wsrep_local_state_comment', 'wsrep_cluster_size')" | sort | cut -f2 | paste -sd, -)"
  echo "connections=$(sql -e 'SHOW ALL SLAVES STATUS' | cut -f1 | sort | paste -sd, -)"
  echo "accounts=$(sql -e "SELECT CONCAT(User, '@', Host) FROM mysql.global_priv WHERE User IN ('app', 'replicator') ORDER BY 1" | paste -sd, -)"
  echo "kept_rows=$(sql -e 'SELECT COUNT(*) FROM old.kept' || echo none)"
  # The TLS handshake (verifying the served certificate with the step's CA) comes before the login, which then fails.
  # A TCP login verifying the served certificate with the step's CA.
  sql -e "CREATE USER IF NOT EXISTS 'probe'@'127.0.0.1' IDENTIFIED BY 'p'" || true
  echo "served_cert_verified=$([[ -s /etc/dns-rr-ha/db/ca.pem ]] && /usr/bin/mariadb --no-defaults -h 127.0.0.1 -u probe --password=p --ssl \
    --ssl-ca=/etc/dns-rr-ha/db/ca.pem --ssl-verify-server-cert -N -e 'SELECT 1' 2>/dev/null || echo no)"
  echo "installed_cert=$([[ -s /etc/dns-rr-ha/db/server-cert.pem ]] && fingerprint </etc/dns-rr-ha/db/server-cert.pem)"
  echo "users_sql_mode=$(stat -c %a /etc/dns-rr-ha/db/users.sql)"
  echo "cnf_installed=$(cmp -s /etc/dns-rr-ha/db/my.cnf /etc/mysql/mariadb.conf.d/60-dns-rr-ha.cnf && echo yes || echo no)"
  echo "cnf_md5=$(md5sum </etc/mysql/mariadb.conf.d/60-dns-rr-ha.cnf 2>/dev/null | cut -d' ' -f1)"
  echo "dropin=$(paste -sd'|' /etc/systemd/system/mariadb.service.d/50-dns-rr-ha.conf 2>/dev/null || echo none)"
  echo "logdir=$(stat -c %U:%G:%a /var/log/mysql 2>/dev/null || echo none)"
  echo "fstab=$(md5sum </etc/fstab | cut -d' ' -f1)"
  echo "heartbeat_unit=$([[ -f /etc/systemd/system/dns-rr-ha-db-heartbeat.service ]] && echo yes || echo no)"
  echo "restart_pending=$([[ -e /run/dns-rr-ha-db-restart-pending ]] && echo yes || echo no)"
  local d what list=""
  for d in /mnt/vol/*/; do
    d=${d%/}
    what=empty
    [[ -d $d/mysql ]] && what=data
    [[ -f $d/grastate.dat ]] && what=member
    list+="${list:+,}${d##*/}:$(stat -c %U:%a "$d"):$what"
  done
  echo "datadirs=$list"
}

# What the package leaves behind: MariaDB running on /var/lib/mysql.
mariadb-install-db --user=mysql --datadir=/var/lib/mysql --auth-root-authentication-method=socket --skip-test-db >/dev/null
systemctl start mariadb
wait_for /run/mysqld/mysqld.sock
rm /run/sandbox/started

# What the master-master design left on a volume: a datadir with rows, the
# replicator account and a replication connection, but no grastate.dat.
mariadb-install-db --user=mysql --datadir=/mnt/vol/mysql --auth-root-authentication-method=socket --skip-test-db >/dev/null
setsid mariadbd --no-defaults --user=mysql --datadir=/mnt/vol/mysql --log-basename=dns-rr-ha --server-id=3 \
  --skip-networking --socket=/run/mysqld/old.sock --pid-file=/run/mysqld/old.pid --log-error=/run/mysqld/old.err </dev/null >/dev/null 2>&1 &
old_pid=$!
wait_for /run/mysqld/old.sock
/usr/bin/mariadb --socket=/run/mysqld/old.sock -e "CREATE DATABASE old; CREATE TABLE old.kept (id INT PRIMARY KEY) ENGINE=InnoDB;
  INSERT INTO old.kept VALUES (1), (2); CREATE USER 'replicator'@'10.0.0.0/255.0.0.0' IDENTIFIED BY 'r';
  CHANGE MASTER 'peer-b' TO MASTER_HOST = '127.0.0.2', MASTER_PORT = 1, MASTER_USER = 'replicator', MASTER_PASSWORD = 'r';
  SHUTDOWN;"
wait "$old_pid" || true

mkdir -p /etc/dns-rr-ha/db
state >"$out/00.state"

cleanup() { systemctl stop mariadb || true; }
trap cleanup EXIT

for step_dir in "$work"/steps/*/; do
  step=$(basename "$step_dir")
  rm -rf /etc/dns-rr-ha /run/sandbox/wsrep /run/sandbox/wsrep.answered /run/sandbox/start-fails
  mkdir -p /etc/dns-rr-ha/db
  for f in "$step_dir"*; do
    case ${f##*/} in
      sandbox.wsrep) cp "$f" /run/sandbox/wsrep ;;
      sandbox.start-fails) touch /run/sandbox/start-fails ;;
      sandbox.*) ;;
      *) cp "$f" /etc/dns-rr-ha/db/ ;;
    esac
  done
  args=()
  [[ -f $step_dir/sandbox.args ]] && mapfile -t args <"$step_dir/sandbox.args"
  [[ -f $step_dir/sandbox.setup ]] && bash "$step_dir/sandbox.setup"
  rc=0
  began=$SECONDS
  CALLS_LOG=$out/$step.calls bash "$wire_db" "${args[@]}" 2>"$out/$step.stderr" || rc=$?
  echo "$rc" >"$out/$step.rc"
  touch "$out/$step.calls"
  {
    state
    echo "seconds=$((SECONDS - began))"
    echo "wsrep_answered=$(paste -sd, /run/sandbox/wsrep.answered 2>/dev/null)"
    echo "wsrep_left=$(paste -sd'|' /run/sandbox/wsrep 2>/dev/null)"
  } >"$out/$step.state"
done

#!/bin/bash
# Wires this droplet's MariaDB into the Galera cluster. Run as root by the SSH
# wiring command right after it wrote the inputs into $CONF_DIR:
#   db.env     VOLUME_NAME, DATADIR, CLUSTER_SIZE (+ optional MOUNT_WAIT_SECONDS,
#              START_WAIT_SECONDS)
#   my.cnf     server config (Galera member), installed as $CNF_TARGET
#   users.sql  database + accounts (contains passwords)
#
#   dns-rr-ha-wire-db              join the cluster (a new or empty node is seeded
#                                  by a full state transfer from a running member)
#                                  or keep this member up to date
#   dns-rr-ha-wire-db --bootstrap  form a new cluster from this node: run once per
#                                  stack, on its first node, when nothing runs yet;
#                                  a node that was ever a member never bootstraps
#
# Idempotent: re-run it whenever the member set, the config or a password
# changes. MariaDB is restarted only when its config changed, and only while
# the whole cluster is up (a restart must never cost the cluster its quorum).
# It returns once this node is Synced in the primary component, so the next
# node's wiring (they run one after the other) starts from a healthy cluster.
# The TLS files my.cnf names (ssl_ca, ssl_cert, ssl_key; written by the wiring
# too) are reloaded with FLUSH SSL on every run, so a renewed certificate
# needs no restart.
set -euo pipefail

CONF_DIR=/etc/dns-rr-ha/db
CNF_TARGET=/etc/mysql/mariadb.conf.d/60-dns-rr-ha.cnf
DROPIN=/etc/systemd/system/mariadb.service.d/50-dns-rr-ha.conf
SERVICE=mariadb
HEARTBEAT_SERVICE=dns-rr-ha-db-heartbeat.service
HEARTBEAT_UNIT=/etc/systemd/system/$HEARTBEAT_SERVICE
# Left by a run that installed a new config but was refused the restart (the
# cluster was incomplete): the next run restarts although nothing differs any
# more. In /run: after a reboot MariaDB runs the installed config anyway.
RESTART_PENDING=/run/dns-rr-ha-db-restart-pending

log() { echo "wire-db: $*" >&2; }
# write_if_changed FILE CONTENT: writes CONTENT (which ends with a newline) to
# FILE; false when FILE already held exactly that.
write_if_changed() {
  local file=$1 content=$2
  if [[ -f $file && $(<"$file")$'\n' == "$content" ]]; then
    return 1
  fi
  mkdir -p "$(dirname "$file")"
  printf '%s' "$content" >"$file"
}
die() {
  log "ERROR: $*"
  exit 1
}

[[ $EUID -eq 0 ]] || die "must run as root"
bootstrap=0
case "${1:-}" in
  "") ;;
  --bootstrap) bootstrap=1 ;;
  *) die "unknown argument '$1' (usage: $0 [--bootstrap])" ;;
esac

for f in db.env my.cnf users.sql; do
  [[ -f $CONF_DIR/$f ]] || die "missing $CONF_DIR/$f"
done
# The SQL files hold passwords: whatever umask wrote them, keep them private.
chmod 0600 "$CONF_DIR/users.sql"

# db.env is parsed, not sourced: only known keys, never executed.
VOLUME_NAME=""
DATADIR=""
MOUNT_WAIT_SECONDS=300
# A full state transfer of a large datadir takes a while.
START_WAIT_SECONDS=3600
CLUSTER_SIZE=""
while IFS='=' read -r key value || [[ -n $key ]]; do
  case "$key" in
    "" | "#"*) ;;
    VOLUME_NAME) VOLUME_NAME=$value ;;
    DATADIR) DATADIR=$value ;;
    MOUNT_WAIT_SECONDS) MOUNT_WAIT_SECONDS=$value ;;
    START_WAIT_SECONDS) START_WAIT_SECONDS=$value ;;
    CLUSTER_SIZE) CLUSTER_SIZE=$value ;;
    *) die "unknown key '$key' in $CONF_DIR/db.env" ;;
  esac
done <"$CONF_DIR/db.env"

[[ $VOLUME_NAME =~ ^[a-z0-9][a-z0-9-]{0,63}$ ]] || die "VOLUME_NAME '$VOLUME_NAME' is not a DigitalOcean volume name"
MOUNTPOINT=/mnt/$VOLUME_NAME
DEVICE=/dev/disk/by-id/scsi-0DO_Volume_$VOLUME_NAME
[[ $DATADIR =~ ^$MOUNTPOINT/[A-Za-z0-9._/-]+$ && $DATADIR != *..* ]] ||
  die "DATADIR '$DATADIR' must be a directory below $MOUNTPOINT"
DATADIR=${DATADIR%/}
[[ $MOUNT_WAIT_SECONDS =~ ^[0-9]+$ && $START_WAIT_SECONDS =~ ^[0-9]+$ ]] || die "wait times must be whole seconds"
[[ $CLUSTER_SIZE =~ ^[1-9][0-9]*$ ]] || die "CLUSTER_SIZE '$CLUSTER_SIZE' must be the number of cluster members (data nodes + arbitrator)"

# 1. Volume: attached after the droplet was created, so it may still be on its way.
mount_volume() {
  if mountpoint -q "$MOUNTPOINT"; then
    return
  fi
  local waited=0
  until [[ -b $DEVICE ]]; do
    if ((waited >= MOUNT_WAIT_SECONDS)); then
      die "volume device $DEVICE did not appear within ${MOUNT_WAIT_SECONDS}s (is the volume attached?)"
    fi
    sleep 2
    waited=$((waited + 2))
  done
  mkdir -p "$MOUNTPOINT"
  if ! awk -v m="$MOUNTPOINT" '$1 !~ /^#/ && $2 == m { found = 1 } END { exit !found }' /etc/fstab; then
    # nofail: a detached volume must not stop the droplet from booting.
    printf '%s %s ext4 defaults,nofail,discard 0 0\n' "$DEVICE" "$MOUNTPOINT" >>/etc/fstab
  fi
  mount "$MOUNTPOINT"
  mountpoint -q "$MOUNTPOINT" || die "$MOUNTPOINT is not a mountpoint after mounting"
}
mount_volume
log "volume mounted at $MOUNTPOINT"

# wsrep VALUE: one wsrep status variable of the running server ("" when it does not answer).
wsrep() { mariadb --batch --skip-column-names -e "SHOW GLOBAL STATUS LIKE '$1'" 2>/dev/null | cut -f2 || true; }
synced() { [[ $(wsrep wsrep_local_state) == 4 && $(wsrep wsrep_cluster_status) == Primary && $(wsrep wsrep_ready) == ON ]]; }

# 2. The package started MariaDB on /var/lib/mysql: stop it before moving on.
if systemctl is-active --quiet "$SERVICE"; then
  current=$(mariadb --batch --skip-column-names -e 'SELECT @@datadir' 2>/dev/null || true)
  if [[ ${current%/} != "$DATADIR" ]]; then
    log "stopping $SERVICE running on datadir '${current:-unknown}'"
    systemctl stop "$SERVICE"
  fi
fi

# Datadir. What it holds decides what may happen (checked before anything is
# installed: a refused node keeps running as it was, and no later restart of
# MariaDB can pick up the new config and join over the old rows):
#    fresh       nothing yet: bootstrap initialises it; a joiner leaves it empty
#                and receives a full copy from a running member (SST);
#    member      grastate.dat: it was a cluster member; it rejoins and catches up
#                (IST, or SST if it was away longer than the gcache covers);
#    pre-galera  system tables but no grastate.dat: a datadir from before the
#                Galera tier. A joiner would have it replaced by the cluster's
#                copy, so the wiring refuses (see DURABILITY.md, migrating);
#                a bootstrap forms the cluster from it, keeping its rows.
if [[ -f $DATADIR/grastate.dat ]]; then
  datadir_state=member
elif [[ -d $DATADIR/mysql ]]; then
  datadir_state=pre-galera
elif [[ ! -d $DATADIR || -z $(ls -A "$DATADIR") ]]; then
  datadir_state=fresh
else
  die "$DATADIR holds files but neither system tables nor grastate.dat; refusing to touch it"
fi
log "datadir $DATADIR: $datadir_state"
if ((!bootstrap)) && [[ $datadir_state == pre-galera ]]; then
  die "$DATADIR holds a datadir from before the Galera tier: joining would replace its rows with the cluster's copy. Check it holds nothing the cluster lacks (CHECKSUM TABLE against the first DB node), then move it aside (systemctl stop $SERVICE; mv $DATADIR $DATADIR.pre-galera) and run pulumi up again"
fi
if ((bootstrap)) && [[ $datadir_state == member ]]; then
  log "this node was a cluster member already: joining, not bootstrapping"
  bootstrap=0
fi

restart_needed=0
if [[ -e $RESTART_PENDING ]]; then
  restart_needed=1
  log "a restart for an earlier config change is pending"
fi

# TLS: every file the new my.cnf names must be there and the key readable by
# mysql, or MariaDB would come up without TLS and (require_secure_transport)
# refuse every peer. Checked before installing it, so a failed run leaves the
# running config in place and the next run still sees the change.
tls_files=$(awk -F' *= *' '$1 ~ /^ssl_(ca|cert|key)$/ { print $2 }' "$CONF_DIR/my.cnf")
for f in $tls_files; do
  [[ -s $f ]] || die "my.cnf names TLS file $f, which is missing or empty"
done
key_file=$(awk -F' *= *' '$1 == "ssl_key" { print $2 }' "$CONF_DIR/my.cnf" | tail -n 1)
if [[ -n $key_file ]] && ! runuser -u mysql -- test -r "$key_file"; then
  die "the mysql user cannot read the TLS key $key_file"
fi

# 3. Config. The error log directory must exist (Debian logs to journald and
#    may not have created it); its owner/mode follow Debian's convention.
if ! cmp -s "$CONF_DIR/my.cnf" "$CNF_TARGET"; then
  install -m 0644 -o root -g root "$CONF_DIR/my.cnf" "$CNF_TARGET"
  restart_needed=1
  log "installed $CNF_TARGET"
fi
log_error=$(awk -F' *= *' '$1 == "log_error" { print $2 }' "$CNF_TARGET" | tail -n 1)
if [[ -n $log_error ]]; then
  install -d -o mysql -g adm -m 2750 "$(dirname "$log_error")"
fi

# The start of a joiner lasts as long as its state transfer: no start timeout
# (this script bounds its own wait instead).
dropin_content="# Managed by dns-rr-ha wire-db.sh: never start MariaDB without its volume.
[Unit]
RequiresMountsFor=$MOUNTPOINT

[Service]
TimeoutStartSec=infinity
"
if write_if_changed "$DROPIN" "$dropin_content"; then
  systemctl daemon-reload
  restart_needed=1
  log "installed $DROPIN"
fi

# 4. A fresh datadir (see above): initialised for a bootstrap, left empty for a joiner.
new_datadir() {
  # Initialised beside it and renamed into place, so an interrupted run never
  # leaves a half-initialised datadir that a re-run would trust.
  local staging
  staging=$(dirname "$DATADIR")/.wire-db-init
  rm -rf "$staging"
  mkdir -p "$(dirname "$DATADIR")"
  if ((bootstrap)); then
    log "initialising $DATADIR"
    mariadb-install-db --user=mysql --datadir="$staging" \
      --auth-root-authentication-method=socket --skip-test-db >/dev/null
  else
    mkdir "$staging"
  fi
  chown mysql:mysql "$staging"
  chmod 0750 "$staging"
  rmdir "$DATADIR" 2>/dev/null || true
  mv "$staging" "$DATADIR"
}
if [[ $datadir_state == fresh ]]; then
  new_datadir
  restart_needed=1
fi

# 5. (Re)start only when something changed or it is not running.
systemctl enable --quiet "$SERVICE"
if ((bootstrap)); then
  if systemctl is-active --quiet "$SERVICE"; then
    systemctl stop "$SERVICE"
  fi
  log "forming a new cluster from this node (galera_new_cluster)"
  galera_new_cluster || die "$SERVICE did not start a new cluster (see $(awk -F' *= *' '$1 == "log_error" { print $2 }' "$CNF_TARGET" | tail -n 1))"
elif ! systemctl is-active --quiet "$SERVICE"; then
  log "starting $SERVICE (joining the cluster)"
  systemctl start --no-block "$SERVICE"
elif ((restart_needed)); then
  # A rolling restart: only while every member is there, so this node going
  # away for a moment never costs the cluster its quorum or its last donor.
  size=$(wsrep wsrep_cluster_size)
  if [[ $size != "$CLUSTER_SIZE" ]] || ! synced; then
    touch "$RESTART_PENDING"
    die "not restarting $SERVICE for its new config: the cluster has ${size:-?} of $CLUSTER_SIZE members (or this node is not Synced); re-run once all are back"
  fi
  log "restarting $SERVICE (config changed; cluster complete: $size members)"
  # Blocking: the old server is gone and the new one started before the wait below asks
  # "Synced?" (with --no-block the old one could still answer yes). Bounded like the wait; a
  # failed start is caught there.
  timeout "$START_WAIT_SECONDS" systemctl restart "$SERVICE" || log "systemctl restart $SERVICE did not finish cleanly; checking the node"
fi
rm -f "$RESTART_PENDING"

# 6. Wait until this node serves: Synced in the primary component.
waited=0
until synced; do
  if ((waited >= START_WAIT_SECONDS)); then
    die "$SERVICE is not Synced in a primary component after ${START_WAIT_SECONDS}s (state: $(wsrep wsrep_local_state_comment) $(wsrep wsrep_cluster_status); see the error log)"
  fi
  if [[ $(systemctl show -p ActiveState --value "$SERVICE") == failed ]]; then
    die "$SERVICE failed to start: no running member reachable to join, or see the error log"
  fi
  if ((waited % 30 == 0 && waited > 0)); then
    log "waiting for $SERVICE: $(wsrep wsrep_local_state_comment) ${waited}s"
  fi
  sleep 1
  waited=$((waited + 1))
done
running_datadir=$(mariadb --batch --skip-column-names -e 'SELECT @@datadir')
[[ ${running_datadir%/} == "$DATADIR" ]] || die "$SERVICE runs on '$running_datadir', expected '$DATADIR'"
log "Synced: $(wsrep wsrep_cluster_size) of $CLUSTER_SIZE members"

if [[ -n $tls_files ]]; then
  # Load the current certificate and key (a no-op right after a restart); fails if MariaDB rejects them.
  mariadb --batch -e 'FLUSH SSL' || die "MariaDB rejected its TLS files ($tls_files)"
  [[ $(mariadb --batch --skip-column-names -e 'SELECT @@have_ssl') == YES ]] || die "MariaDB runs without TLS (see its error log)"
  log "TLS loaded"
fi

# 7. Accounts (idempotent; the same on every node).
mariadb --batch --default-character-set=utf8mb4 <"$CONF_DIR/users.sql"
log "users applied"

# 8. Left over from the master-master design: its replication connections and
#    heartbeat writer. Galera replaces both.
if [[ -n $(mariadb --batch --skip-column-names -e 'SHOW ALL SLAVES STATUS' 2>/dev/null) ]]; then
  mariadb --batch -e 'STOP ALL SLAVES' || true
  mariadb --batch --skip-column-names -e 'SHOW ALL SLAVES STATUS' | cut -f1 | while read -r conn; do
    mariadb --batch -e "RESET SLAVE '${conn//\'/}' ALL" || true
  done
  log "removed the old replication connections"
fi
if [[ -f $HEARTBEAT_UNIT ]]; then
  systemctl disable --now --quiet "$HEARTBEAT_SERVICE" || true
  rm -f "$HEARTBEAT_UNIT"
  systemctl daemon-reload
  log "removed the old heartbeat service"
fi

#!/bin/bash
# Wires this droplet's MariaDB into the cluster. Run as root by the SSH wiring
# command right after it wrote the inputs into $CONF_DIR:
#   db.env           VOLUME_NAME, DATADIR (+ optional MOUNT_WAIT_SECONDS, START_WAIT_SECONDS)
#   my.cnf           server config, installed as $CNF_TARGET
#   users.sql        database + accounts (contains passwords)
#   replication.sql  replication connections (contains a password)
# Idempotent: re-run it whenever the peer set, the config or a password
# changes. MariaDB is restarted only when its config changed.
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
for f in db.env my.cnf users.sql replication.sql; do
  [[ -f $CONF_DIR/$f ]] || die "missing $CONF_DIR/$f"
done
# The SQL files hold passwords: whatever umask wrote them, keep them private.
chmod 0600 "$CONF_DIR/users.sql" "$CONF_DIR/replication.sql"

# db.env is parsed, not sourced: only known keys, never executed.
VOLUME_NAME=""
DATADIR=""
MOUNT_WAIT_SECONDS=300
START_WAIT_SECONDS=120
while IFS='=' read -r key value || [[ -n $key ]]; do
  case "$key" in
    "" | "#"*) ;;
    VOLUME_NAME) VOLUME_NAME=$value ;;
    DATADIR) DATADIR=$value ;;
    MOUNT_WAIT_SECONDS) MOUNT_WAIT_SECONDS=$value ;;
    START_WAIT_SECONDS) START_WAIT_SECONDS=$value ;;
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

mariadb_answers() { mariadb --batch --skip-column-names -e 'SELECT 1' >/dev/null 2>&1; }

# 2. The package started MariaDB on /var/lib/mysql: stop it before moving on.
if systemctl is-active --quiet "$SERVICE"; then
  current=$(mariadb --batch --skip-column-names -e 'SELECT @@datadir' 2>/dev/null || true)
  if [[ ${current%/} != "$DATADIR" ]]; then
    log "stopping $SERVICE running on datadir '${current:-unknown}'"
    systemctl stop "$SERVICE"
  fi
fi

restart_needed=0

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

dropin_content="# Managed by dns-rr-ha wire-db.sh: never start MariaDB without its volume.
[Unit]
RequiresMountsFor=$MOUNTPOINT
"
if write_if_changed "$DROPIN" "$dropin_content"; then
  systemctl daemon-reload
  restart_needed=1
  log "installed $DROPIN"
fi

# 4. Datadir. Initialised beside it and renamed into place, so an interrupted
#    run never leaves a half-initialised datadir that a re-run would trust.
if [[ ! -d $DATADIR/mysql ]]; then
  if [[ -d $DATADIR ]]; then
    [[ -z $(ls -A "$DATADIR") ]] || die "$DATADIR is not empty but holds no MariaDB system tables; refusing to touch it"
    rmdir "$DATADIR"
  fi
  staging=$(dirname "$DATADIR")/.wire-db-init
  rm -rf "$staging"
  mkdir -p "$(dirname "$DATADIR")"
  log "initialising $DATADIR"
  mariadb-install-db --user=mysql --datadir="$staging" \
    --auth-root-authentication-method=socket --skip-test-db >/dev/null
  chown mysql:mysql "$staging"
  chmod 0750 "$staging"
  mv "$staging" "$DATADIR"
  restart_needed=1
fi

# 5. (Re)start only when something changed or it is not running.
systemctl enable --quiet "$SERVICE"
if ! systemctl is-active --quiet "$SERVICE"; then
  log "starting $SERVICE"
  systemctl start "$SERVICE"
elif ((restart_needed)); then
  log "restarting $SERVICE (config changed)"
  systemctl restart "$SERVICE"
fi

waited=0
until mariadb_answers; do
  if ((waited >= START_WAIT_SECONDS)); then
    die "$SERVICE did not answer within ${START_WAIT_SECONDS}s"
  fi
  sleep 1
  waited=$((waited + 1))
done
running_datadir=$(mariadb --batch --skip-column-names -e 'SELECT @@datadir')
[[ ${running_datadir%/} == "$DATADIR" ]] || die "$SERVICE runs on '$running_datadir', expected '$DATADIR'"

if [[ -n $tls_files ]]; then
  # Load the current certificate and key (a no-op right after a restart); fails if MariaDB rejects them.
  mariadb --batch -e 'FLUSH SSL' || die "MariaDB rejected its TLS files ($tls_files)"
  [[ $(mariadb --batch --skip-column-names -e 'SELECT @@have_ssl') == YES ]] || die "MariaDB runs without TLS (see its error log)"
  log "TLS loaded"
fi

# 6. Accounts first: peers need the replication account to connect here.
mariadb --batch --default-character-set=utf8mb4 <"$CONF_DIR/users.sql"
mariadb --batch --default-character-set=utf8mb4 <"$CONF_DIR/replication.sql"
log "users and replication applied"

# 7. Replication heartbeat: a small always-running service (not a timer: one
#    client connection for all beats, no process and journal line per second,
#    and systemd restarts it, e.g. after MariaDB restarted and dropped its
#    connection). Its rows replicate; db-replication-health reads their age.
heartbeat_unit="# Managed by dns-rr-ha wire-db.sh: this node's row in dns_rr_ha.heartbeat, every second.
[Unit]
Description=dns-rr-ha MariaDB replication heartbeat
After=$SERVICE.service
StartLimitIntervalSec=0

[Service]
ExecStart=/usr/local/sbin/dns-rr-ha-db-heartbeat --interval 1
Restart=always
RestartSec=2

[Install]
WantedBy=multi-user.target
"
if write_if_changed "$HEARTBEAT_UNIT" "$heartbeat_unit"; then
  systemctl daemon-reload
  systemctl enable --quiet "$HEARTBEAT_SERVICE"
  systemctl restart "$HEARTBEAT_SERVICE"
  log "installed and started $HEARTBEAT_SERVICE"
else
  systemctl enable --quiet "$HEARTBEAT_SERVICE"
  systemctl start "$HEARTBEAT_SERVICE"
fi

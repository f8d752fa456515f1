#!/bin/bash
# Configures an app server once the dns-rr-ha component has written its files
# (nginx site, php-fpm pool, session ini, app.env, lsyncd config + unit, the
# sync user's ssh key and authorized_keys) and the demo app's release dir.
# Idempotent: safe to re-run on every deploy. Validates every config with the
# daemon's own checker before (re)loading it, so a bad render never takes a
# running server down.
#
# Environment (all optional):
#   RELEASE_DIR   dir holding this release's app files; becomes "current"
#   SYNC_PEERS    space-separated private addresses of the other app servers,
#                 pulled once so a new/rebuilt server starts with all uploads
#   SYNC_SSH      ssh command for that pull (same as lsyncd's rsh)
#   DNS_RR_HA_ROOT  prefix for every path (tests run the script in a temp dir)
set -euo pipefail

ROOT="${DNS_RR_HA_ROOT:-}"
APP_BASE_DIR="${APP_BASE_DIR:-/var/www/dns-rr-ha}"
UPLOADS_DIR="${UPLOADS_DIR:-$APP_BASE_DIR/shared/uploads}"
RELEASE_DIR="${RELEASE_DIR:-}"
SYNC_USER="${SYNC_USER:-dnsrrha-sync}"
SYNC_PEERS="${SYNC_PEERS:-}"
SYNC_SSH="${SYNC_SSH:-/usr/bin/ssh -o BatchMode=yes -o ConnectTimeout=10 -i /home/$SYNC_USER/.ssh/id_ed25519}"
WEB_USER="www-data"
PHP_VERSION="8.2"
SITE_NAME="dns-rr-ha"
SESSION_INI_NAME="dns-rr-ha-session"
LSYNCD_UNIT="dns-rr-ha-lsyncd.service"

log() { echo "app-bootstrap: $*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

require_commands() {
  local c
  for c in nginx "php-fpm$PHP_VERSION" phpenmod lsyncd rsync rrsync systemctl useradd; do
    command -v "$c" >/dev/null 2>&1 || die "required command not found: $c"
  done
  [ -f "$ROOT/etc/nginx/sites-available/$SITE_NAME.conf" ] || die "nginx site not written yet"
  [ -f "$ROOT/etc/php/$PHP_VERSION/fpm/pool.d/$SITE_NAME.conf" ] || die "php-fpm pool not written yet"
  [ -f "$ROOT/etc/php/$PHP_VERSION/mods-available/$SESSION_INI_NAME.ini" ] || die "session ini not written yet"
}

ensure_sync_user() {
  if ! id "$SYNC_USER" >/dev/null 2>&1; then
    # Primary group www-data: files it receives must be writable by PHP and vice versa.
    useradd --system --create-home --home-dir "/home/$SYNC_USER" --shell /bin/bash \
      --gid "$WEB_USER" "$SYNC_USER"
  fi
  local ssh_dir="$ROOT/home/$SYNC_USER/.ssh" f
  install -d -m 0700 "$ssh_dir"
  chown "$SYNC_USER:$WEB_USER" "$ssh_dir"
  # sshd ignores keys readable by others; make that impossible whatever wrote them.
  for f in "$ssh_dir/authorized_keys" "$ssh_dir/id_ed25519" "$ssh_dir/known_hosts"; do
    if [ -e "$f" ]; then
      chmod 0600 "$f"
      chown "$SYNC_USER:$WEB_USER" "$f"
    fi
  done
}

ensure_dirs() {
  install -d -m 0755 "$ROOT$APP_BASE_DIR" "$ROOT$APP_BASE_DIR/releases" "$ROOT$APP_BASE_DIR/shared"
  # setgid: every upload (local or synced) gets group www-data.
  install -d -m 2775 "$ROOT$UPLOADS_DIR"
  chown "$SYNC_USER:$WEB_USER" "$ROOT$UPLOADS_DIR"
}

secure_app_env() {
  # Holds the DB password: readable by PHP (www-data), nobody else.
  local env_file="$ROOT/etc/dns-rr-ha/app.env"
  [ -f "$env_file" ] || die "app env not written yet: /etc/dns-rr-ha/app.env"
  chown "root:$WEB_USER" "$env_file"
  chmod 0640 "$env_file"
}

deploy_release() {
  [ -n "$RELEASE_DIR" ] || return 0
  [ -f "$ROOT$RELEASE_DIR/index.php" ] || die "release dir has no index.php: $RELEASE_DIR"
  # Build the new link beside the old one and rename over it: readers see the
  # old or the new release, never a missing root.
  ln -sfn "$RELEASE_DIR" "$ROOT$APP_BASE_DIR/current.new"
  mv -Tf "$ROOT$APP_BASE_DIR/current.new" "$ROOT$APP_BASE_DIR/current"
}

configure_php() {
  phpenmod -v "$PHP_VERSION" -s fpm "$SESSION_INI_NAME"
  # Debian's stock pool would add workers the memory sizing does not count.
  local stock="$ROOT/etc/php/$PHP_VERSION/fpm/pool.d/www.conf"
  if [ -f "$stock" ]; then
    mv -f "$stock" "$stock.disabled"
  fi
  "php-fpm$PHP_VERSION" -t
}

configure_nginx() {
  # The stock site listens on every interface, including the public one.
  rm -f "$ROOT/etc/nginx/sites-enabled/default"
  ln -sfn "../sites-available/$SITE_NAME.conf" "$ROOT/etc/nginx/sites-enabled/$SITE_NAME.conf"
  nginx -t
}

pull_from_peers() {
  local peer
  for peer in $SYNC_PEERS; do
    # Best effort: an unreachable peer must not fail the bootstrap; its files
    # arrive when its own lsyncd (re)starts and pushes everything.
    if ! timeout 300 runuser -u "$SYNC_USER" -- rsync -rtu --chmod=D2775,F664 --exclude='.*' \
      -e "$SYNC_SSH" "$SYNC_USER@$peer:$UPLOADS_DIR/" "$ROOT$UPLOADS_DIR/"; then
      log "warning: initial pull from $peer failed"
    fi
  done
}

restart_services() {
  systemctl daemon-reload
  systemctl enable "php$PHP_VERSION-fpm" nginx "$LSYNCD_UNIT"
  systemctl reload-or-restart "php$PHP_VERSION-fpm"
  systemctl reload-or-restart nginx
  # The packaged SysV lsyncd would run a second copy as root with another config.
  systemctl disable --now lsyncd.service >/dev/null 2>&1 || true
  # Restart (not reload): its startup full sync pushes anything peers missed.
  systemctl restart "$LSYNCD_UNIT"
}

main() {
  require_commands
  ensure_sync_user
  ensure_dirs
  secure_app_env
  deploy_release
  configure_php
  configure_nginx
  pull_from_peers
  restart_services
  log "done"
}

main "$@"

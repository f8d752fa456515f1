#!/bin/bash
# Debian packages the tests and the lab use: the real daemons whose configs we render
# (checked with their own tools), the lab's container/network/DNS tooling, Chromium, and pebble (the lab's ACME CA).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  haproxy keepalived nginx-light php-fpm php-memcached php-mysql php-cli mariadb-server mariadb-client memcached
  galera-4 galera-arbitrator-4 mariadb-backup socat percona-toolkit
  lsyncd rsync lua5.3 openssh-client openssh-server shellcheck cloud-init jq curl util-linux procps
  systemd-container debootstrap bind9 bind9-utils bind9-dnsutils nftables iproute2 conntrack ethtool iputils-ping netcat-openbsd
  chromium libxml2-utils wrk pebble nmap libnss3-tools
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  # Keep the daemons from starting on the host: tests start their own, by PID.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

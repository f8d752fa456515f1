#!/bin/bash
# Turns a freshly debootstrapped tree into a lab host image, the way a user
# bakes a droplet snapshot: install the packages (daemons kept from starting
# in the build chroot), then strip everything that must differ per host or
# that would make cloud-init reach for the network inside an offline container.
#
# Usage: bake-rootfs.sh ROOT SOURCES_FILE APT_ARCHIVES_DIR PACKAGE...
# Run it in a private mount + pid namespace (unshare --mount --pid --fork):
# the mounts below then vanish with it, even when a step fails halfway.
set -euo pipefail

root=$1
sources=$2
archives=$3
shift 3

in_root() {
  chroot "$root" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 HOME=/root "$@"
}

apt_opts=(-y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

echo "bake: mounting proc/sys/dev and the shared .deb cache"
mount -t proc proc "$root/proc"
mount -t sysfs -o ro sysfs "$root/sys"
mount --bind /dev "$root/dev"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
mount --bind "$archives" "$root/var/cache/apt/archives"

# Package maintainer scripts ask invoke-rc.d, which asks policy-rc.d: 101 means
# "do not start anything now" while still enabling units as Debian ships them.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"

rm -f "$root/etc/apt/sources.list"
install -m 0644 "$sources" "$root/etc/apt/sources.list.d/debian.sources"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"

echo "bake: apt-get update"
in_root apt-get update
echo "bake: apt-get upgrade (debootstrap only saw the release, not -updates/-security)"
in_root apt-get "${apt_opts[@]}" upgrade
echo "bake: apt-get install $*"
in_root apt-get "${apt_opts[@]}" --no-install-recommends install "$@"

# One image serves every role, so no role daemon may start by itself at boot: a
# load balancer must not come up with nginx on its port 80. Each droplet's
# cloud-init and wiring enable and start exactly what its role runs, as they
# must on a fresh droplet anyway.
echo "bake: disabling role daemons (the droplet's own wiring enables them)"
keep=" ssh.service e2scrub_reap.service unattended-upgrades.service remote-fs.target "
for unit in "$root"/etc/systemd/system/multi-user.target.wants/*; do
  [ -e "$unit" ] || [ -L "$unit" ] || continue
  name=$(basename "$unit")
  case "$keep" in *" $name "*) continue ;; esac
  in_root systemctl disable "$name"
done

# cloud-init's locale module sets LANG=en_US.UTF-8 (Debian's default) with
# update-locale, which fails unless that locale exists, as it does on DO images.
if [ -f "$root/etc/locale.gen" ]; then
  echo "bake: generating en_US.UTF-8 locale"
  sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' "$root/etc/locale.gen"
  in_root locale-gen
  # Already the default, so cloud-init skips regenerating it on every first boot.
  in_root update-locale LANG=en_US.UTF-8
fi

echo "bake: stripping build-only and per-host state"
umount "$root/var/cache/apt/archives"
rm -f "$root/usr/sbin/policy-rc.d"

# No sources at all: cloud-init's `packages:` runs `apt-get update` (nothing to
# fetch, succeeds) then `apt-get install` of packages already baked (a no-op).
rm -f "$root/etc/apt/sources.list" "$root"/etc/apt/sources.list.d/*
rm -rf "$root"/var/lib/apt/lists/*
mkdir -p "$root/var/lib/apt/lists/partial"
rm -f "$root"/var/cache/apt/*.bin

# Each container must get its own SSH host keys: cloud-init's ssh module
# (ssh_deletekeys + ssh_genkeytypes) creates them on the first boot of an
# instance, before ssh.service (cloud-init.service is ordered Before=sshd.service).
rm -f "$root"/etc/ssh/ssh_host_*
printf '%s\n' '# lab image: root logs in with keys only, as on DigitalOcean' \
  'PermitRootLogin prohibit-password' >"$root/etc/ssh/sshd_config.d/50-lab.conf"

# Empty machine-id: systemd generates a fresh one per container on first boot.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

# Set per host by the lab (resolv.conf) and by cloud-init (hostname).
rm -f "$root/etc/resolv.conf"
echo localhost >"$root/etc/hostname"
# debootstrap leaves no /etc/hosts; cloud-init (manage_etc_hosts) adds the host's own name.
printf '%s\n' '127.0.0.1 localhost' '::1 localhost ip6-localhost ip6-loopback' \
  'ff02::1 ip6-allnodes' 'ff02::2 ip6-allrouters' >"$root/etc/hosts"

# DigitalOcean's images let root in with the droplet's SSH keys; Debian's
# cloud.cfg would otherwise prefix root's key with a "login as debian" command.
cat >"$root/etc/cloud/cloud.cfg.d/90-lab-image.cfg" <<'EOF'
# Written by the lab image builder (bake-rootfs.sh).
disable_root: false
ssh_deletekeys: true
manage_etc_hosts: true
EOF

echo "bake: done"

import { createHash } from "node:crypto";

/**
 * Bump whenever the bake steps change in a way that makes older cached
 * rootfs trees wrong: it is part of the cache key, so a bump forces a rebuild.
 */
export const IMAGE_BUILDER_VERSION = "lab-image-8";

/** Debian release every lab host runs (DigitalOcean's debian-12-x64). */
export const IMAGE_SUITE = "bookworm";

/**
 * Packages debootstrap must lay down itself: without systemd + dbus the tree
 * cannot boot as a machine container, and they are not in the minbase set.
 */
export const DEBOOTSTRAP_INCLUDE: readonly string[] = ["systemd", "systemd-sysv", "dbus"];

/**
 * What every lab host needs regardless of role, mirroring what a stock
 * DigitalOcean Debian image already carries: cloud-init to run the droplet's
 * user-data, sshd for the program's SSH wiring, and the small tools the
 * user-data scripts and the lab's own probes call.
 */
export const LAB_BASE_PACKAGES: readonly string[] = [
  "cloud-init",
  "openssh-server",
  "sudo",
  "curl",
  "ca-certificates",
  "iproute2",
  "iputils-ping",
  "netcat-openbsd",
  "jq",
  "procps",
  "less",
  "locales",
  "gnupg",
  "python3-yaml",
];

/** Sorted, de-duplicated, whitespace-trimmed package names; throws on names apt would reject. */
export function normalizePackages(packages: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of packages) {
    const name = raw.trim();
    // Debian policy package names (optionally with :arch or =version); anything
    // else would be passed to a shell-free argv but is still certainly a typo.
    if (!/^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?(=[A-Za-z0-9.+~:-]+)?$/.test(name)) {
      throw new Error(`invalid Debian package name: ${JSON.stringify(raw)}`);
    }
    out.add(name);
  }
  return [...out].sort();
}

/** Everything installed in the chroot step: the role packages plus {@link LAB_BASE_PACKAGES}. */
export function imagePackageSet(rolePackages: readonly string[]): string[] {
  return normalizePackages([...LAB_BASE_PACKAGES, ...rolePackages]);
}

/**
 * Cache key of a baked image: a hash of the builder version, the suite and the
 * normalized package set, so the same packages in any order hit the same tree.
 */
export function imageCacheKey(rolePackages: readonly string[]): string {
  const material = JSON.stringify({
    version: IMAGE_BUILDER_VERSION,
    suite: IMAGE_SUITE,
    include: DEBOOTSTRAP_INCLUDE,
    packages: imagePackageSet(rolePackages),
  });
  return createHash("sha256").update(material).digest("hex").slice(0, 16);
}

import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { mirrorForSuite, readHostSources, renderDeb822Sources } from "./aptSources";
import { ensureCachedTree } from "./cachedTree";
import {
  DEBOOTSTRAP_INCLUDE,
  IMAGE_BUILDER_VERSION,
  IMAGE_SUITE,
  imageCacheKey,
  imagePackageSet,
} from "./imagePackages";
import { runChecked } from "./runCommand";

/** Where baked images live unless the caller says otherwise. */
export const DEFAULT_IMAGE_CACHE_DIR = "/var/cache/dns-rr-ha-lab";

/** Options of {@link ensureBaseImage}. */
export interface EnsureBaseImageOptions {
  /** Role packages to bake in on top of {@link LAB_BASE_PACKAGES} (e.g. haproxy, mariadb-server). */
  packages: readonly string[];
  /** Default {@link DEFAULT_IMAGE_CACHE_DIR}. */
  cacheDir?: string;
  /** Progress lines (phases, tool output, timings). */
  log?: (line: string) => void;
}

/** A baked, cached image: use `rootfs` read-only, as the lower layer of per-host overlays. */
export interface BaseImage {
  rootfs: string;
  key: string;
  /** False when this call built the image. */
  fromCache: boolean;
  /** Wall time of the build when this call built it. */
  buildMs?: number;
}

const BAKE_SCRIPT = path.join(__dirname, "bake-rootfs.sh");

// Same-process callers share one promise; other processes are serialised by the lock file.
const inFlight = new Map<string, Promise<BaseImage>>();

/**
 * Returns a Debian 12 rootfs with the lab's base packages plus `packages`
 * installed, building it once (debootstrap minbase + chroot apt-get) and
 * caching it under `cacheDir/rootfs-<key>`, where the key hashes the package
 * set and {@link IMAGE_BUILDER_VERSION}. Builds go to a temporary directory
 * renamed into place, under an flock, so concurrent callers (in this or other
 * processes) all get the same finished tree and a crashed build leaves no
 * half-built image behind. Builds of different package sets run one at a time
 * (they share the .deb cache), so a lab should bake one image with the union
 * of its roles' packages rather than one per role.
 */
export function ensureBaseImage(opts: EnsureBaseImageOptions): Promise<BaseImage> {
  const cacheDir = path.resolve(opts.cacheDir ?? DEFAULT_IMAGE_CACHE_DIR);
  const key = imageCacheKey(opts.packages);
  const memoKey = `${cacheDir}\0${key}`;
  let p = inFlight.get(memoKey);
  if (!p) {
    p = ensureImageLocked(cacheDir, key, opts).finally(() => inFlight.delete(memoKey));
    inFlight.set(memoKey, p);
  }
  return p;
}

async function ensureImageLocked(cacheDir: string, key: string, opts: EnsureBaseImageOptions): Promise<BaseImage> {
  const log = opts.log ?? (() => undefined);
  const tree = await ensureCachedTree({
    cacheDir,
    key,
    log,
    build: (tmpRoot, buildDir) => bakeImage({ cacheDir, key, tmpRoot, buildDir, rolePackages: opts.packages, log }),
  });
  if (!tree.built) return { rootfs: tree.path, key, fromCache: true };
  log(`image ${key}: built in ${((tree.buildMs ?? 0) / 1000).toFixed(1)} s -> ${tree.path}`);
  return { rootfs: tree.path, key, fromCache: false, buildMs: tree.buildMs ?? 0 };
}

interface BakeArgs {
  cacheDir: string;
  key: string;
  tmpRoot: string;
  buildDir: string;
  rolePackages: readonly string[];
  log: (line: string) => void;
}

/** debootstrap minbase into `tmpRoot`, then bake-rootfs.sh installs the packages in a chroot. */
async function bakeImage({ cacheDir, key, tmpRoot, buildDir, rolePackages, log }: BakeArgs): Promise<void> {
  const packages = imagePackageSet(rolePackages);
  const debootstrapDebs = path.join(cacheDir, "debs", "debootstrap");
  const aptDebs = path.join(cacheDir, "debs", "apt");
  await mkdir(debootstrapDebs, { recursive: true });
  await mkdir(path.join(aptDebs, "partial"), { recursive: true });
  const prefixed = (tag: string) => (line: string) => line.trim() && log(`image ${key}: [${tag}] ${line}`);

  const sources = readHostSources();
  const mirror = mirrorForSuite(sources, IMAGE_SUITE);
  const sourcesFile = path.join(buildDir, "debian.sources");
  await writeFile(sourcesFile, renderDeb822Sources(sources));

  log(`image ${key}: debootstrap ${IMAGE_SUITE} minbase from ${mirror}`);
  let t = Date.now();
  // Private mount namespace: debootstrap's proc/sys mounts cannot leak to the host if it dies.
  await runChecked(
    "unshare",
    [
      "--mount",
      "--propagation",
      "private",
      "debootstrap",
      "--variant=minbase",
      `--include=${DEBOOTSTRAP_INCLUDE.join(",")}`,
      `--cache-dir=${debootstrapDebs}`,
      IMAGE_SUITE,
      tmpRoot,
      mirror,
    ],
    { onLine: prefixed("debootstrap") },
  );
  log(`image ${key}: debootstrap took ${((Date.now() - t) / 1000).toFixed(1)} s`);

  log(`image ${key}: installing ${packages.join(" ")}`);
  t = Date.now();
  await runChecked(
    "unshare",
    ["--mount", "--propagation", "private", "--pid", "--fork", "bash", BAKE_SCRIPT, tmpRoot, sourcesFile, aptDebs, ...packages],
    { onLine: prefixed("bake") },
  );
  log(`image ${key}: package bake took ${((Date.now() - t) / 1000).toFixed(1)} s`);

  await writeFile(
    path.join(tmpRoot, "etc", "dns-rr-ha-lab-image.json"),
    JSON.stringify({ key, builder: IMAGE_BUILDER_VERSION, suite: IMAGE_SUITE, packages, builtAt: new Date().toISOString() }, null, 2) + "\n",
  );
}

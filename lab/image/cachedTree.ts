import { existsSync } from "node:fs";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { withFileLock } from "./fileLock";
import { mountsUnder } from "./mountTable";

/** Options of {@link ensureCachedTree}. */
export interface CachedTreeOptions {
  cacheDir: string;
  /** Names the tree: `<cacheDir>/rootfs-<key>`. */
  key: string;
  /**
   * Fills `tmpRoot` (an empty directory on the cache's filesystem); `buildDir`
   * (its parent) is scratch space removed afterwards.
   */
  build: (tmpRoot: string, buildDir: string) => Promise<void>;
  log?: (line: string) => void;
}

/** Where a cached tree is, and whether this call built it. */
export interface CachedTree {
  path: string;
  built: boolean;
  buildMs?: number;
}

/**
 * Returns `<cacheDir>/rootfs-<key>`, building it first if missing.
 *
 * - Per-key flock: concurrent callers (any process) build once; the others
 *   wait and reuse the result.
 * - Cache-wide build lock: builds of different keys share `<cacheDir>/debs`
 *   (apt locks its archive directory), so they run one after the other.
 * - The build fills a temporary directory that is renamed into place only on
 *   success, so a crash never leaves a half-built tree under the final name;
 *   leftovers of crashed builds are removed by the next build of that key.
 */
export async function ensureCachedTree(opts: CachedTreeOptions): Promise<CachedTree> {
  const log = opts.log ?? (() => undefined);
  const cacheDir = path.resolve(opts.cacheDir);
  const final = path.join(cacheDir, `rootfs-${opts.key}`);
  if (existsSync(final)) return { path: final, built: false };
  await mkdir(cacheDir, { recursive: true });
  return withFileLock(
    path.join(cacheDir, `rootfs-${opts.key}.lock`),
    async () => {
      // Another process may have finished it while we waited for the lock.
      if (existsSync(final)) return { path: final, built: false };
      return withFileLock(path.join(cacheDir, "build.lock"), () => buildInto(cacheDir, opts.key, final, opts.build), {
        onWait: () => log(`image ${opts.key}: another image build is running (shared .deb cache), waiting`),
      });
    },
    { onWait: () => log(`image ${opts.key}: another process is building it, waiting`) },
  );
}

async function buildInto(
  cacheDir: string,
  key: string,
  final: string,
  build: CachedTreeOptions["build"],
): Promise<CachedTree> {
  // We hold this key's lock, so any build dir for it is a leftover of a crashed build.
  for (const entry of await readdir(cacheDir)) {
    if (entry.startsWith(`build-${key}-`)) await removeTree(path.join(cacheDir, entry));
  }
  const buildDir = path.join(cacheDir, `build-${key}-${process.pid}`);
  const tmpRoot = path.join(buildDir, "rootfs");
  await mkdir(tmpRoot, { recursive: true });
  const started = Date.now();
  try {
    await build(tmpRoot, buildDir);
    await rename(tmpRoot, final);
  } finally {
    await removeTree(buildDir);
  }
  return { path: final, built: true, buildMs: Date.now() - started };
}

/** rm -rf that refuses to descend into anything still mounted (a bind of /dev would be fatal). */
export async function removeTree(dir: string): Promise<void> {
  const mounted = mountsUnder(dir);
  if (mounted.length) {
    throw new Error(`refusing to delete ${dir}: still mounted: ${mounted.map((m) => m.target).join(", ")}`);
  }
  await rm(dir, { recursive: true, force: true });
}

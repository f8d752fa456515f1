import { spawn } from "node:child_process";

/** Options of {@link withFileLock}. */
export interface FileLockOptions {
  /** Give up waiting after this long (default 30 min: a first image build takes minutes). */
  timeoutMs?: number;
  /** Called once if the lock is busy, so callers can log that they wait for another builder. */
  onWait?: () => void;
}

/**
 * Runs `fn` while holding an exclusive flock(2) on `lockPath`.
 *
 * The lock is held by a tiny `flock … cat` helper process whose stdin is our
 * pipe: the kernel drops the lock when that process exits, and it exits as
 * soon as we close the pipe — or when this node process dies for any reason.
 * So there is no stale-lock file to detect or break, unlike O_EXCL lock files.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, opts: FileLockOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
  // Try without waiting first so we can tell the caller it is queued.
  let holder = await acquire(lockPath, ["--nonblock"]);
  if (!holder) {
    opts.onWait?.();
    holder = await acquire(lockPath, ["--timeout", String(Math.max(1, Math.ceil(timeoutMs / 1000)))]);
    if (!holder) throw new Error(`timed out after ${timeoutMs} ms waiting for lock ${lockPath}`);
  }
  try {
    return await fn();
  } finally {
    await holder.release();
  }
}

interface LockHolder {
  release(): Promise<void>;
}

function acquire(lockPath: string, flockArgs: string[]): Promise<LockHolder | null> {
  return new Promise((resolve, reject) => {
    const child = spawn("flock", [...flockArgs, "--exclusive", lockPath, "sh", "-c", "echo locked; exec cat >/dev/null"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    let locked = false;
    const exited = new Promise<void>((r) => child.once("close", () => r()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      if (!locked && d.toString().includes("locked")) {
        locked = true;
        resolve({
          release: async () => {
            child.stdin.end();
            await exited;
          },
        });
      }
    });
    child.once("error", reject);
    child.once("close", (code) => {
      if (locked) return;
      // flock exits 1 when --nonblock/--timeout could not get the lock.
      if (code === 1 && !stderr.trim()) resolve(null);
      else reject(new Error(`flock ${lockPath} failed (exit ${code}): ${stderr.trim()}`));
    });
  });
}

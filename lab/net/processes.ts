import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { run } from "./exec";

/**
 * True if `pid` exists and is not a zombie. A zombie still answers kill(0)
 * here because PID 1 reaps late, so the state letter in /proc is checked too.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state letter follows the parenthesised command name, which may contain spaces.
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** Command line of a live process, arguments joined by spaces ("" if gone). */
export function pidCmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
  } catch {
    return "";
  }
}

/**
 * Stops one process by PID: SIGTERM, then SIGKILL after `graceMs`. If
 * `expectInCmdline` is given and the PID now runs something else (PID reuse),
 * it is left alone. Resolves once the process is gone.
 */
export async function stopPid(pid: number, opts: { graceMs?: number; expectInCmdline?: string } = {}): Promise<void> {
  if (!pidAlive(pid)) return;
  if (opts.expectInCmdline !== undefined && !pidCmdline(pid).includes(opts.expectInCmdline)) return;
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  signal("SIGTERM");
  const deadline = Date.now() + (opts.graceMs ?? 3000);
  while (pidAlive(pid) && Date.now() < deadline) await sleep(20);
  if (pidAlive(pid)) {
    signal("SIGKILL");
    const killDeadline = Date.now() + 3000;
    while (pidAlive(pid) && Date.now() < killDeadline) await sleep(20);
  }
}

/** Promise-based sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Options for {@link spawnDetachedInNetns}. */
export interface DetachedSpawn {
  netns: string;
  command: string;
  args: readonly string[];
  /** stdout and stderr go here (appended). */
  logFile: string;
  /** The PID is written here. */
  pidFile: string;
  cwd?: string;
}

/**
 * Starts a long-running process inside a netns, in its own session so it
 * outlives the caller, and records its PID. `ip netns exec` execs the
 * command, so the recorded PID is the daemon itself.
 */
export function spawnDetachedInNetns(opts: DetachedSpawn): number {
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const out = fs.openSync(opts.logFile, "a");
  try {
    const child = spawn("ip", ["netns", "exec", opts.netns, opts.command, ...opts.args], {
      detached: true,
      stdio: ["ignore", out, out],
      cwd: opts.cwd,
    });
    if (child.pid === undefined) throw new Error(`could not start ${opts.command} in ${opts.netns}`);
    child.unref();
    fs.writeFileSync(opts.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    fs.closeSync(out);
  }
}

/** Reads a PID file; undefined if missing or malformed. */
export function readPidFile(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Names of all named network namespaces (`ip netns list`). */
export async function listNetns(): Promise<string[]> {
  const { stdout } = await run("ip", ["netns", "list"]);
  return stdout
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter(Boolean);
}

/** True if the named netns exists. */
export function netnsExists(name: string): boolean {
  return fs.existsSync(path.join("/run/netns", name));
}

/** PIDs of processes living in a named netns (empty if it does not exist). */
export async function netnsPids(name: string): Promise<number[]> {
  if (!netnsExists(name)) return [];
  const { stdout } = await run("ip", ["netns", "pids", name], { allowFail: true });
  return stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((p) => Number.isInteger(p) && p > 1 && p !== process.pid);
}

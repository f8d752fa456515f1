import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { mountsUnder, unmountAllUnder } from "../image/mountTable";
import { clearHostState, HostState, readHostState } from "./hostState";
import { childrenOf, isRunning, namespaceOf, readCmdline, readProcStat } from "./procfs";

/** How long a container gets to shut down cleanly after SIGTERM before it is killed. */
export const DEFAULT_STOP_TIMEOUT_MS = 15_000;

/** What {@link stopHostFromState} found and did. */
export interface StopReport {
  stateDir: string;
  /** A live nspawn process of ours was signalled. */
  stopped: boolean;
  /** It did not exit within the timeout and was SIGKILLed. */
  killed: boolean;
  /** The recorded PID was alive but not our nspawn (PID reuse): left alone. */
  pidMismatch: boolean;
  unmounted: string[];
}

/**
 * True if `pid` is a systemd-nspawn process running the container at `merged`
 * (and, when given, still the same process that was recorded: same start time).
 */
export function isOurNspawn(pid: number, merged: string, startTime?: number): boolean {
  const st = readProcStat(pid);
  if (!st || st.state === "Z") return false;
  if (startTime !== undefined && st.startTime !== startTime) return false;
  const argv = readCmdline(pid);
  return path.basename(argv[0] ?? "") === "systemd-nspawn" && argv.includes(`--directory=${merged}`);
}

/**
 * The container's init as seen from the host: the child of nspawn that lives
 * in a different PID namespace and has exec'd systemd (before the exec it is
 * still an nspawn copy setting up the container). Null while not there yet.
 */
export function findContainerLeader(nspawnPid: number): number | null {
  const ourNs = namespaceOf(nspawnPid, "pid");
  for (const child of childrenOf(nspawnPid)) {
    if (child.comm === "systemd" && namespaceOf(child.pid, "pid") !== ourNs) return child.pid;
  }
  return null;
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isRunning(pid);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Stops a verified nspawn process: SIGTERM makes nspawn ask the container's
 * systemd for a clean poweroff; after `timeoutMs` the container init and
 * nspawn are SIGKILLed (killing a PID namespace's init kills the namespace).
 * @returns whether SIGKILL was needed
 */
export async function terminateNspawn(nspawnPid: number, leaderPid: number, timeoutMs: number): Promise<boolean> {
  const leader = leaderPid || findContainerLeader(nspawnPid) || 0;
  signal(nspawnPid, "SIGTERM");
  if (await waitGone(nspawnPid, timeoutMs)) {
    if (leader) await waitGone(leader, 5_000);
    return false;
  }
  if (leader) signal(leader, "SIGKILL");
  signal(nspawnPid, "SIGKILL");
  await waitGone(nspawnPid, 5_000);
  if (leader) await waitGone(leader, 5_000);
  return true;
}

/**
 * Stops the host recorded in `stateDir` from any process (e.g. a later lab
 * CLI run): reads host.json, signals the PID only if /proc says it is really
 * our systemd-nspawn for this host's overlay, then unmounts everything under
 * `stateDir` and forgets the state. Safe to call on an already-stopped host.
 */
export async function stopHostFromState(stateDir: string, timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<StopReport> {
  const report: StopReport = { stateDir, stopped: false, killed: false, pidMismatch: false, unmounted: [] };
  const state: HostState | null = readHostState(stateDir);
  if (state) {
    if (isOurNspawn(state.nspawnPid, state.merged, state.nspawnStartTime)) {
      report.stopped = true;
      const leaderOk = state.leaderPid > 0 && readProcStat(state.leaderPid)?.ppid === state.nspawnPid;
      report.killed = await terminateNspawn(state.nspawnPid, leaderOk ? state.leaderPid : 0, timeoutMs);
    } else if (isRunning(state.nspawnPid)) {
      report.pidMismatch = true;
    }
  }
  report.unmounted = await unmountAllUnder(stateDir);
  if (state) await clearHostState(stateDir);
  return report;
}

/**
 * Cleans up after a crashed lab run: every host stateDir directly under
 * `stateDirRoot` that still has a host.json or a mount is stopped and
 * unmounted (see {@link stopHostFromState}); finally nothing under the root
 * stays mounted. Directories are kept. @returns one report per host touched
 */
export async function cleanupStale(stateDirRoot: string, timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<StopReport[]> {
  const root = path.resolve(stateDirRoot);
  if (!existsSync(root)) return [];
  const reports: StopReport[] = [];
  for (const entry of readdirSync(root)) {
    const dir = path.join(root, entry);
    if (!statSync(dir).isDirectory()) continue;
    if (readHostState(dir) || mountsUnder(dir).length) {
      reports.push(await stopHostFromState(dir, timeoutMs));
    }
  }
  await unmountAllUnder(root);
  return reports;
}

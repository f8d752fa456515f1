import { existsSync, readFileSync } from "node:fs";
import { rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

/** File in a host's stateDir that lets a later process find and stop the host. */
export const HOST_STATE_FILE = "host.json";
/** Plain PID of the systemd-nspawn process, for humans and shell tools. */
export const HOST_PID_FILE = "nspawn.pid";
/** systemd-nspawn's stdout/stderr (the container console). */
export const HOST_CONSOLE_LOG = "nspawn.log";

/** What is recorded about a running host in its stateDir. */
export interface HostState {
  name: string;
  /** PID of systemd-nspawn and its /proc start time (guards against PID reuse). */
  nspawnPid: number;
  nspawnStartTime: number;
  /** Container init (PID 1 inside), host view; 0 until known. */
  leaderPid: number;
  /** The overlay mount point the container runs from. */
  merged: string;
  rootfs: string;
  netnsPath: string;
  startedAt: string;
}

/** Overlay directory layout of a host under its stateDir. */
export function overlayDirs(stateDir: string): { upper: string; work: string; merged: string } {
  return {
    upper: path.join(stateDir, "upper"),
    work: path.join(stateDir, "work"),
    merged: path.join(stateDir, "merged"),
  };
}

/** Writes host.json (atomically) and nspawn.pid. */
export async function writeHostState(stateDir: string, state: HostState): Promise<void> {
  const file = path.join(stateDir, HOST_STATE_FILE);
  await writeFile(file + ".tmp", JSON.stringify(state, null, 2) + "\n");
  await rename(file + ".tmp", file);
  await writeFile(path.join(stateDir, HOST_PID_FILE), `${state.nspawnPid}\n`);
}

/** Reads host.json, or null when the host was never started or was stopped. */
export function readHostState(stateDir: string): HostState | null {
  const file = path.join(stateDir, HOST_STATE_FILE);
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, "utf8")) as HostState;
}

/** Forgets a stopped host (its overlay upper dir is kept for post-mortems). */
export async function clearHostState(stateDir: string): Promise<void> {
  await rm(path.join(stateDir, HOST_STATE_FILE), { force: true });
  await rm(path.join(stateDir, HOST_PID_FILE), { force: true });
}

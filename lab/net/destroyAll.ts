import fs from "node:fs";
import path from "node:path";
import { validatePrefix } from "./addressPlan";
import { run } from "./exec";
import { labRunDir } from "./fabricState";
import { listNetns, netnsPids, pidAlive, pidCmdline, stopPid } from "./processes";

/** What {@link destroyAll} removed. */
export interface DestroyReport {
  namespaces: string[];
  killedPids: number[];
}

function registryDir(prefix: string): string {
  return path.join(labRunDir(prefix), "pids");
}

/**
 * Records a process the lab started OUTSIDE its namespaces (e.g. a
 * systemd-nspawn supervisor) so that {@link destroyAll} stops it too. The
 * command line is stored to avoid killing a recycled PID.
 */
export function registerLabProcess(prefix: string, pid: number, label: string): void {
  const dir = registryDir(prefix);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${pid}.json`), JSON.stringify({ pid, label, cmdline: pidCmdline(pid) }) + "\n");
}

/** Forgets a process registered with {@link registerLabProcess}. */
export function unregisterLabProcess(prefix: string, pid: number): void {
  fs.rmSync(path.join(registryDir(prefix), `${pid}.json`), { force: true });
}

function registeredProcesses(prefix: string): { pid: number; cmdline: string }[] {
  let files: string[];
  try {
    files = fs.readdirSync(registryDir(prefix));
  } catch {
    return [];
  }
  return files.flatMap((f) => {
    try {
      const rec = JSON.parse(fs.readFileSync(path.join(registryDir(prefix), f), "utf8")) as { pid: number; cmdline: string };
      return [rec];
    } catch {
      return [];
    }
  });
}

/**
 * Removes everything a lab made, found by name rather than by state so it
 * also cleans up after crashes: registered processes, every process inside
 * a `<prefix>-…` namespace (SIGTERM, then SIGKILL), those namespaces (which
 * takes their bridges, veths and nft tables with them), their /etc/netns
 * directories and the run directory. Safe to call when nothing exists.
 */
export async function destroyAll(prefix: string): Promise<DestroyReport> {
  validatePrefix(prefix);
  const mine = (name: string): boolean => name.startsWith(`${prefix}-`);
  const namespaces = (await listNetns()).filter(mine);
  const killed: number[] = [];

  const stops: Promise<void>[] = [];
  for (const rec of registeredProcesses(prefix)) {
    if (pidAlive(rec.pid) && rec.cmdline !== "" && pidCmdline(rec.pid) === rec.cmdline) {
      killed.push(rec.pid);
      stops.push(stopPid(rec.pid));
    }
  }
  for (const ns of namespaces) {
    for (const pid of await netnsPids(ns)) {
      if (!killed.includes(pid)) {
        killed.push(pid);
        stops.push(stopPid(pid));
      }
    }
  }
  await Promise.all(stops);

  for (const ns of namespaces) await run("ip", ["netns", "del", ns], { allowFail: true });
  let etcEntries: string[] = [];
  try {
    etcEntries = fs.readdirSync("/etc/netns").filter(mine);
  } catch {
    // no /etc/netns at all
  }
  for (const e of etcEntries) fs.rmSync(path.join("/etc/netns", e), { recursive: true, force: true });
  fs.rmSync(labRunDir(prefix), { recursive: true, force: true });
  return { namespaces, killedPids: killed };
}

import { readFileSync } from "node:fs";
import { pidsInSamePidNamespace } from "./procfs";

/** Memory of all processes of one container (no per-container cgroup exists on this host). */
export interface HostMemory {
  processes: number;
  /** Sum of VmRSS: counts shared pages (libc, python) once per process, so it overstates. */
  rssKiB: number;
  /** Sum of Pss: shared pages split between their users — the fair per-host cost. */
  pssKiB: number;
}

function kib(text: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}

/** Memory of the processes in the PID namespace of `leaderPid` (the container's init). */
export function measureHostMemory(leaderPid: number): HostMemory {
  const out: HostMemory = { processes: 0, rssKiB: 0, pssKiB: 0 };
  for (const pid of pidsInSamePidNamespace(leaderPid)) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
      out.processes++;
      out.rssKiB += kib(status, "VmRSS");
      out.pssKiB += kib(rollup, "Pss");
    } catch {
      // exited while we looked
    }
  }
  return out;
}

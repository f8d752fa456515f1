import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Fields of /proc/PID/stat we rely on. `startTime` (clock ticks since boot) tells a PID reuse apart. */
export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  startTime: number;
}

/** Parses /proc/PID/stat text; comm may contain spaces and parentheses, so split at the LAST ')'. */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) throw new Error(`malformed /proc stat: ${text.slice(0, 80)}`);
  const rest = text.slice(close + 2).split(" ");
  // rest[0] is field 3 (state); starttime is field 22.
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0] ?? "?",
    ppid: Number(rest[1]),
    startTime: Number(rest[19]),
  };
}

/** /proc/PID/stat, or null when the process does not exist (any more). */
export function readProcStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return null;
  }
}

/**
 * True while the process exists and has not exited. A zombie counts as gone:
 * PID 1 on these machines reaps orphans only after seconds, and a zombie still
 * answers kill(pid, 0).
 */
export function isRunning(pid: number): boolean {
  const st = readProcStat(pid);
  return st !== null && st.state !== "Z" && st.state !== "X";
}

/** argv of a process ([] when it is gone or a kernel thread). */
export function readCmdline(pid: number): string[] {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    const args = raw.split("\0");
    if (args[args.length - 1] === "") args.pop();
    return args;
  } catch {
    return [];
  }
}

/** All PIDs currently in /proc. */
export function listPids(): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** Direct children of `ppid` (scans /proc: /proc/PID/task/TID/children is not always compiled in). */
export function childrenOf(ppid: number): ProcStat[] {
  const out: ProcStat[] = [];
  for (const pid of listPids()) {
    const st = readProcStat(pid);
    if (st && st.ppid === ppid) out.push(st);
  }
  return out;
}

/** Namespace identity like "pid:[4026532210]", or null if unreadable. */
export function namespaceOf(pid: number, ns: string): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/${ns}`);
  } catch {
    return null;
  }
}

/** PIDs (host view) of every process sharing `pid`'s PID namespace. */
export function pidsInSamePidNamespace(pid: number): number[] {
  const target = namespaceOf(pid, "pid");
  if (!target) return [];
  return listPids().filter((p) => namespaceOf(p, "pid") === target);
}

import { constants } from "node:os";
import { runCommand } from "../image/runCommand";
import { namespaceOf } from "./procfs";

/** Result of running a command inside a container. */
export interface ExecResult {
  /** Exit code; 124 on timeout (like timeout(1)), 128+N when killed by signal N. */
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link execInContainer}. */
export interface ExecOptions {
  /** Written to the command's stdin. */
  input?: string;
  /** Default 60 s. */
  timeoutMs?: number;
}

/** The environment a root login would have; the host's environment must not leak in. */
const CONTAINER_ENV = [
  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  "HOME=/root",
  "LANG=C.UTF-8",
  "TERM=dumb",
];

// nsenter flag per namespace; only namespaces that differ from ours are entered.
const NAMESPACE_FLAGS: ReadonlyArray<[string, string]> = [
  ["mnt", "--mount"],
  ["uts", "--uts"],
  ["ipc", "--ipc"],
  ["net", "--net"],
  ["pid", "--pid"],
  ["cgroup", "--cgroup"],
];

/**
 * Runs `cmd` inside the container whose init is `leaderPid`, via nsenter into
 * its namespaces and root — the only way in, as containers are started with
 * --register=no (no machinectl / systemd-run -M without a host systemd).
 */
export async function execInContainer(leaderPid: number, cmd: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  if (cmd.length === 0) throw new Error("execInContainer: empty command");
  const flags: string[] = [];
  for (const [ns, flag] of NAMESPACE_FLAGS) {
    const theirs = namespaceOf(leaderPid, ns);
    if (theirs === null) throw new Error(`container init ${leaderPid} is gone`);
    if (theirs !== namespaceOf(process.pid, ns)) flags.push(flag);
  }
  const res = await runCommand(
    "nsenter",
    ["--target", String(leaderPid), ...flags, "--root", "--wd", "--", "/usr/bin/env", "-i", ...CONTAINER_ENV, ...cmd],
    { ...(opts.input !== undefined ? { input: opts.input } : {}), timeoutMs: opts.timeoutMs ?? 60_000 },
  );
  const code = res.timedOut ? 124 : res.code ?? 128 + (res.signal ? constants.signals[res.signal] : 0);
  return { code, stdout: res.stdout, stderr: res.stderr };
}

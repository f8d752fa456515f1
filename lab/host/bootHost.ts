import { spawn } from "node:child_process";
import { closeSync, existsSync, lstatSync, openSync, readFileSync } from "node:fs";
import { chmod, mkdir, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { unmountAllUnder } from "../image/mountTable";
import { runChecked } from "../image/runCommand";
import { CloudInitResult, cloudInitSucceeded, formatCloudInitFailure, parseCloudInitStatusJson } from "./cloudInitStatus";
import { ExecOptions, ExecResult, execInContainer } from "./containerExec";
import { HostMemory, measureHostMemory } from "./hostMemory";
import { clearHostState, HOST_CONSOLE_LOG, HostState, overlayDirs, readHostState, writeHostState } from "./hostState";
import { HostMetaData, renderLabCloudCfg, renderMetaData, renderResolvConf } from "./noCloudSeed";
import { isRunning, readProcStat } from "./procfs";
import { DEFAULT_STOP_TIMEOUT_MS, findContainerLeader, isOurNspawn, terminateNspawn } from "./stopHost";

/** A host directory made visible inside the container (e.g. a block volume's backing directory). */
export interface HostBind {
  hostPath: string;
  containerPath: string;
  readOnly?: boolean;
}

/**
 * Capabilities added to systemd-nspawn's default set. A droplet's root has
 * them all; inside a container we add only what the stack's daemons use:
 * NET_ADMIN (keepalived VIPs, nftables, tc in the host's own netns — nspawn
 * drops it when given an existing network namespace) and IPC_LOCK (mlock).
 */
export const DEFAULT_EXTRA_CAPABILITIES: readonly string[] = ["CAP_NET_ADMIN", "CAP_IPC_LOCK"];

/** Options of {@link bootHost}. */
export interface BootHostOptions {
  /** Machine name (also names the container in logs); letters, digits, '-'. */
  name: string;
  /** Base image tree (from ensureBaseImage): the read-only overlay lower layer. */
  rootfs: string;
  /** This host's directory: overlay upper/work/merged, PID and state files, console log. */
  stateDir: string;
  /** Network namespace prepared by the net layer, e.g. /run/netns/<netnsName>. */
  netnsPath: string;
  /** Hostname from the first instant (nspawn --hostname); cloud-init then applies `metaData.localHostname`. */
  hostname: string;
  /** The droplet's user-data, written to the NoCloud seed byte for byte. */
  userData: string;
  metaData: HostMetaData;
  /** Written to the container's /etc/resolv.conf (nspawn leaves it alone: --resolv-conf=off). */
  nameservers: readonly string[];
  searchDomains?: readonly string[];
  binds?: readonly HostBind[];
  /** Default {@link DEFAULT_EXTRA_CAPABILITIES}. */
  extraCapabilities?: readonly string[];
  /** Time allowed from start to `systemctl is-system-running` settling (default 180 s). */
  bootTimeoutMs?: number;
  log?: (line: string) => void;
}

/** A booted machine container. */
export interface RunningHost {
  readonly name: string;
  /** PID of systemd-nspawn (recorded in stateDir/nspawn.pid). */
  readonly pid: number;
  /** PID (host view) of the container's systemd. */
  readonly leaderPid: number;
  readonly stateDir: string;
  /** Host path of the container's root filesystem (the overlay mount). */
  readonly rootDir: string;
  /** `systemctl is-system-running` once boot settled: "running" or "degraded". */
  readonly bootState: string;
  /** Units that had failed when boot settled (empty when bootState is "running"). */
  readonly failedUnits: readonly string[];
  /** Milliseconds from starting nspawn until boot settled (cloud-init's final stage is part of boot). */
  readonly bootMs: number;
  /** Runs a command inside the container as root (nsenter into its namespaces). */
  exec(cmd: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Waits for cloud-init to finish and returns its verdict; failures are also logged with the output log's tail. */
  waitForCloudInit(timeoutMs: number): Promise<CloudInitResult>;
  /** Current memory of the container's processes. */
  memory(): HostMemory;
  /** Clean shutdown (SIGTERM, SIGKILL after a timeout), then unmounts everything under stateDir. Idempotent. */
  stop(): Promise<void>;
}

const SAFE_PATH = /^\/[^,:\s\\]*$/;
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$/;
const HOSTNAME = /^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,251}[a-zA-Z0-9])?$/;

function validate(opts: BootHostOptions): void {
  if (!NAME.test(opts.name)) throw new Error(`bootHost: invalid name ${JSON.stringify(opts.name)}`);
  if (!HOSTNAME.test(opts.hostname)) throw new Error(`bootHost: invalid hostname ${JSON.stringify(opts.hostname)}`);
  // overlayfs options and nspawn --bind split on ',' and ':'.
  for (const [what, p] of [
    ["rootfs", opts.rootfs],
    ["stateDir", opts.stateDir],
    ...(opts.binds ?? []).flatMap((b) => [
      ["bind hostPath", b.hostPath],
      ["bind containerPath", b.containerPath],
    ]),
  ] as Array<[string, string]>) {
    if (!SAFE_PATH.test(path.resolve(p))) throw new Error(`bootHost: ${what} must be an absolute path without , : \\ or spaces: ${p}`);
  }
  if (!existsSync(path.join(opts.rootfs, "usr/lib/systemd/systemd"))) throw new Error(`bootHost: ${opts.rootfs} is not a bootable rootfs`);
  if (!existsSync(opts.netnsPath)) throw new Error(`bootHost: network namespace ${opts.netnsPath} does not exist`);
  for (const b of opts.binds ?? []) {
    if (!path.isAbsolute(b.containerPath)) throw new Error(`bootHost: bind containerPath must be absolute: ${b.containerPath}`);
    if (!existsSync(b.hostPath)) throw new Error(`bootHost: bind hostPath does not exist: ${b.hostPath}`);
  }
}

/** Writes a file into the container tree without following a symlink planted in the image. */
async function writeIntoRoot(root: string, rel: string, content: string, mode: number): Promise<void> {
  const file = path.join(root, rel);
  await mkdir(path.dirname(file), { recursive: true });
  try {
    if (lstatSync(file).isSymbolicLink()) await unlink(file);
  } catch {
    // does not exist yet
  }
  await writeFile(file, content, { mode });
  await chmod(file, mode);
}

function consoleTail(stateDir: string, lines = 30): string {
  try {
    return readFileSync(path.join(stateDir, HOST_CONSOLE_LOG), "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no console log)";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Boots one lab host: a systemd-nspawn machine container running the base
 * image through a per-host overlay, inside the given network namespace,
 * with real cloud-init consuming `userData` from a NoCloud seed. Resolves
 * once systemd reports boot finished; the container keeps running after
 * this process exits (stop it with {@link RunningHost.stop} or, from another
 * process, `stopHostFromState(stateDir)`).
 *
 * An existing upper layer in `stateDir` is kept: booting again is a reboot of
 * the same droplet (same instance-id, so cloud-init skips per-instance work).
 * Use a fresh `stateDir` for a new droplet, and one `stateDir` per host.
 */
export async function bootHost(opts: BootHostOptions): Promise<RunningHost> {
  validate(opts);
  const log = opts.log ?? (() => undefined);
  const stateDir = path.resolve(opts.stateDir);
  const rootfs = path.resolve(opts.rootfs);
  const { upper, work, merged } = overlayDirs(stateDir);

  const previous = readHostState(stateDir);
  if (previous && isOurNspawn(previous.nspawnPid, previous.merged, previous.nspawnStartTime)) {
    throw new Error(`bootHost: ${opts.name} is already running (nspawn PID ${previous.nspawnPid}, state ${stateDir})`);
  }
  // Leftovers of a crashed run (mounts, state files) would make the mount below stack.
  await unmountAllUnder(stateDir);
  await clearHostState(stateDir);

  for (const d of [upper, work, merged]) await mkdir(d, { recursive: true });
  const t0 = Date.now();
  await runChecked("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${rootfs},upperdir=${upper},workdir=${work}`, merged]);

  let nspawnPid = 0;
  let leaderPid = 0;
  try {
    await writeIntoRoot(merged, "var/lib/cloud/seed/nocloud/user-data", opts.userData, 0o600);
    await writeIntoRoot(merged, "var/lib/cloud/seed/nocloud/meta-data", renderMetaData(opts.metaData), 0o600);
    await writeIntoRoot(merged, "etc/cloud/cloud.cfg.d/99-lab.cfg", renderLabCloudCfg(), 0o644);
    await writeIntoRoot(merged, "etc/resolv.conf", renderResolvConf(opts.nameservers, opts.searchDomains ?? []), 0o644);

    const args = [
      `--directory=${merged}`,
      "--boot",
      // No systemd on the host: no machined registration, no scope unit.
      "--register=no",
      "--keep-unit",
      `--network-namespace-path=${opts.netnsPath}`,
      "--console=pipe",
      `--machine=${opts.name}`,
      `--hostname=${opts.hostname}`,
      "--resolv-conf=off",
      "--link-journal=no",
      "--timezone=off",
      ...(opts.extraCapabilities ?? DEFAULT_EXTRA_CAPABILITIES).map((c) => `--capability=${c}`),
      ...(opts.binds ?? []).map((b) => `--bind${b.readOnly ? "-ro" : ""}=${path.resolve(b.hostPath)}:${b.containerPath}`),
    ];
    const consoleFd = openSync(path.join(stateDir, HOST_CONSOLE_LOG), "a");
    let child;
    try {
      // Own process group and no stdin: the container must not die with this process or its terminal.
      child = spawn("systemd-nspawn", args, { detached: true, stdio: ["ignore", consoleFd, consoleFd] });
    } finally {
      closeSync(consoleFd);
    }
    const spawnError = new Promise<never>((_, reject) => child.once("error", reject));
    spawnError.catch(() => undefined);
    child.unref();
    if (!child.pid) await spawnError;
    nspawnPid = child.pid!;
    const state: HostState = {
      name: opts.name,
      nspawnPid,
      nspawnStartTime: readProcStat(nspawnPid)?.startTime ?? 0,
      leaderPid: 0,
      merged,
      rootfs,
      netnsPath: opts.netnsPath,
      startedAt: new Date().toISOString(),
    };
    await writeHostState(stateDir, state);
    log(`host ${opts.name}: systemd-nspawn PID ${nspawnPid} started (console: ${path.join(stateDir, HOST_CONSOLE_LOG)})`);

    const deadline = t0 + (opts.bootTimeoutMs ?? 180_000);
    const assertAlive = (): void => {
      if (!isRunning(nspawnPid)) throw new Error(`host ${opts.name}: systemd-nspawn exited during boot:\n${consoleTail(stateDir)}`);
      if (Date.now() > deadline) throw new Error(`host ${opts.name}: boot timed out:\n${consoleTail(stateDir)}`);
    };
    for (;;) {
      assertAlive();
      leaderPid = findContainerLeader(nspawnPid) ?? 0;
      if (leaderPid) break;
      await sleep(25);
    }
    await writeHostState(stateDir, { ...state, leaderPid });

    let bootState = "";
    for (;;) {
      assertAlive();
      // --wait blocks until startup finished; before the container's systemd
      // answers on its bus it prints "offline" at once, so we poll.
      const r = await execInContainer(leaderPid, ["systemctl", "is-system-running", "--wait"], {
        timeoutMs: Math.max(1, deadline - Date.now()),
      });
      bootState = r.stdout.trim().split("\n").pop() ?? "";
      if (bootState === "running" || bootState === "degraded") break;
      await sleep(100);
    }
    const bootMs = Date.now() - t0;
    let failedUnits: string[] = [];
    if (bootState === "degraded") {
      const f = await execInContainer(leaderPid, ["systemctl", "list-units", "--failed", "--plain", "--no-legend", "--no-pager"]);
      failedUnits = f.stdout.split("\n").map((l) => l.trim().split(/\s+/)[0] ?? "").filter(Boolean);
      log(`host ${opts.name}: booted DEGRADED in ${bootMs} ms; failed units: ${failedUnits.join(", ")}`);
    } else {
      log(`host ${opts.name}: booted in ${bootMs} ms`);
    }
    return makeRunningHost({ name: opts.name, stateDir, merged, nspawnPid, leaderPid, bootState, failedUnits, bootMs, log });
  } catch (err) {
    if (nspawnPid && isOurNspawn(nspawnPid, merged)) await terminateNspawn(nspawnPid, leaderPid, 5_000);
    await unmountAllUnder(stateDir);
    await clearHostState(stateDir);
    throw err;
  }
}

interface HostFacts {
  name: string;
  stateDir: string;
  merged: string;
  nspawnPid: number;
  leaderPid: number;
  bootState: string;
  failedUnits: string[];
  bootMs: number;
  log: (line: string) => void;
}

function makeRunningHost(f: HostFacts): RunningHost {
  let stopping: Promise<void> | undefined;
  const exec = (cmd: readonly string[], opts?: ExecOptions): Promise<ExecResult> => execInContainer(f.leaderPid, cmd, opts);
  return {
    name: f.name,
    pid: f.nspawnPid,
    leaderPid: f.leaderPid,
    stateDir: f.stateDir,
    rootDir: f.merged,
    bootState: f.bootState,
    failedUnits: f.failedUnits,
    bootMs: f.bootMs,
    exec,
    async waitForCloudInit(timeoutMs: number): Promise<CloudInitResult> {
      const r = await exec(["cloud-init", "status", "--wait", "--format", "json"], { timeoutMs });
      let result: CloudInitResult;
      if (r.code === 124) {
        result = { status: "timeout", errors: [`cloud-init still running after ${timeoutMs} ms`], outputTail: "" };
      } else {
        // Exit 1 just means status "error"; the JSON is still printed.
        result = { ...parseCloudInitStatusJson(r.stdout), outputTail: "" };
      }
      if (!cloudInitSucceeded(result)) {
        const tail = await exec(["tail", "-n", "40", "/var/log/cloud-init-output.log"], { timeoutMs: 10_000 });
        result.outputTail = tail.stdout.trimEnd();
        f.log(formatCloudInitFailure(f.name, result));
      }
      return result;
    },
    memory: () => measureHostMemory(f.leaderPid),
    stop(): Promise<void> {
      stopping ??= (async () => {
        const t = Date.now();
        let killed = false;
        if (isOurNspawn(f.nspawnPid, f.merged)) killed = await terminateNspawn(f.nspawnPid, f.leaderPid, DEFAULT_STOP_TIMEOUT_MS);
        await unmountAllUnder(f.stateDir);
        await clearHostState(f.stateDir);
        f.log(`host ${f.name}: stopped in ${Date.now() - t} ms${killed ? " (had to SIGKILL)" : ""}`);
      })();
      return stopping;
    },
  };
}

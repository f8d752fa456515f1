import fs from "node:fs";
import path from "node:path";
import { AddressPlan, validatePrefix } from "./addressPlan";
import { pidAlive } from "./processes";

/** A VPC as the fabric knows it. */
export interface VpcRecord {
  name: string;
  region: string;
  ipRange: string;
  /** Bridge device in the fabric netns. */
  bridge: string;
  /** The fabric's address on the VPC (first host address). */
  gateway: string;
  prefixLen: number;
}

/** A host netns wired into the fabric. */
export interface HostRecord {
  name: string;
  netns: string;
  publicIp: string;
  publicGateway: string;
  /** Region for latency; undefined = "the internet", never delayed. */
  region?: string;
  vpc?: { name: string; bridge: string; privateIp: string; prefixLen: number; gateway: string };
  /** Fabric-side veth names. */
  ports: { pub: string; vpc?: string };
}

/** Everything the fabric needs to re-render its rules; persisted as JSON in the run dir. */
export interface FabricState {
  version: 1;
  prefix: string;
  plan: AddressPlan;
  interRegionDelayMs: number;
  vpcs: Record<string, VpcRecord>;
  /** Peered VPC pairs, each sorted, no duplicates. */
  peerings: [string, string][];
  hosts: Record<string, HostRecord>;
  /** Reserved IP -> holder host name, or null when unassigned (traffic dropped). */
  reservedIps: Record<string, string | null>;
  /** Sticky allocations by caller key, so re-running the program reuses addresses. */
  allocations: {
    public: Record<string, string>;
    private: Record<string, Record<string, string>>;
    reserved: Record<string, string>;
  };
  /** Hosts whose traffic the fabric drops. */
  blackholed: string[];
  /** VPC pairs (sorted) that cannot reach each other, even over public addresses. */
  partitions: [string, string][];
  /** Extra one-way delay by region pair ("a|b", sorted), on top of interRegionDelayMs. */
  extraLatencyMs?: Record<string, number>;
}

/** Root of all lab run-time records; overridable for tests with DRR_LAB_RUN_DIR. */
export function labRunRoot(): string {
  return process.env.DRR_LAB_RUN_DIR ?? "/run/drr-lab";
}

/** Run directory of one lab (state, pid files, logs). */
export function labRunDir(prefix: string): string {
  return path.join(labRunRoot(), validatePrefix(prefix));
}

/** The fabric's persisted state file (the delay relay watches it for per-pair latency). */
export function statePath(prefix: string): string {
  return path.join(labRunDir(prefix), "fabric.json");
}

/** Reads the persisted state, or undefined if this fabric was never created. */
export function readFabricState(prefix: string): FabricState | undefined {
  let text: string;
  try {
    text = fs.readFileSync(statePath(prefix), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  const state = JSON.parse(text) as FabricState;
  if (state.version !== 1) throw new Error(`unsupported fabric state version in ${statePath(prefix)}`);
  return state;
}

/** Writes the state atomically (temp file + rename) so a crash never leaves half a JSON. */
export function writeFabricState(state: FabricState): void {
  const file = statePath(state.prefix);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + "\n");
  fs.renameSync(tmp, file);
}

const inProcessChains = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` holding the fabric's lock: serialised inside this process (the
 * mock cloud creates droplets concurrently) and across processes (lab CLI
 * commands) through an O_EXCL lock file carrying the holder's PID; a lock
 * left by a dead process is broken.
 */
export function withFabricLock<T>(prefix: string, fn: () => Promise<T>): Promise<T> {
  const previous = inProcessChains.get(prefix) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(async () => {
    const release = await acquireFileLock(path.join(labRunDir(prefix), "fabric.lock"));
    try {
      return await fn();
    } finally {
      release();
    }
  });
  inProcessChains.set(prefix, next);
  return next;
}

async function acquireFileLock(file: string, timeoutMs = 30_000): Promise<() => void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = fs.openSync(file, "wx");
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return () => fs.rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let holder = NaN;
    try {
      holder = Number(fs.readFileSync(file, "utf8"));
    } catch {
      continue; // released between our open and read
    }
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && !pidAlive(holder)) {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${file} (held by pid ${holder})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

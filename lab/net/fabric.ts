import fs from "node:fs";
import {
  AddressPlan,
  PUB_BRIDGE,
  delayNetnsName,
  fabricNetnsName,
  gatewayOf,
  makeAddressPlan,
  stableMac,
  validatePrefix,
  vpcBridgeName,
} from "./addressPlan";
import { cidrOverlaps, formatCidr, parseCidr } from "./cidr";
import { ensureDelayLink, stopDelayRelay } from "./delayLink";
import { ipBatch, run, runInNetns } from "./exec";
import { renderFabricNft } from "./fabricNft";
import { removeHostPlumbing } from "./hostPlumbing";
import { FabricState, VpcRecord, labRunDir, readFabricState, withFabricLock, writeFabricState } from "./fabricState";
import { netnsExists } from "./processes";

/** Handle of a lab fabric; plain data, so any process can rebuild it with {@link openFabric}. */
export interface Fabric {
  prefix: string;
  /** Name of the router/bridge netns. */
  netns: string;
  /** Where state, PID files and logs live. */
  runDir: string;
}

/** Options of {@link createFabric}. */
export interface CreateFabricOptions {
  /** Lab name prefix (`^[a-z][a-z0-9]{1,9}$`); every namespace is called `<prefix>-…`. */
  prefix: string;
  /** One-way extra delay between regions (default 40 ms; 0 disables the relay). */
  interRegionDelayMs?: number;
  /** Address plan overrides (only honoured when the fabric is first created). */
  plan?: Partial<AddressPlan>;
}

function handle(prefix: string): Fabric {
  return { prefix, netns: fabricNetnsName(prefix), runDir: labRunDir(prefix) };
}

/** Rebuilds the handle of an existing fabric; throws if it was never created. */
export function openFabric(prefix: string): Fabric {
  if (!readFabricState(prefix)) throw new Error(`no lab fabric with prefix ${prefix}`);
  return handle(prefix);
}

/** Snapshot of the fabric's recorded state (addresses, hosts, VPCs, faults). */
export function fabricState(fabric: Fabric): FabricState {
  const s = readFabricState(fabric.prefix);
  if (!s) throw new Error(`no lab fabric with prefix ${fabric.prefix}`);
  return s;
}

/**
 * Loads the state under the lock, lets `fn` change it, persists it and
 * re-applies the fabric's nftables rules (one atomic transaction).
 */
export async function mutateFabric<T>(fabric: Fabric, fn: (state: FabricState) => Promise<T> | T): Promise<T> {
  return withFabricLock(fabric.prefix, async () => {
    const state = fabricState(fabric);
    const result = await fn(state);
    // Rules first: if nft refuses them, the recorded state stays the last one that worked.
    await applyFabricRules(state);
    writeFabricState(state);
    return result;
  });
}

/** Renders and loads the fabric's nftables rules from `state`. */
export async function applyFabricRules(state: FabricState): Promise<void> {
  await runInNetns(fabricNetnsName(state.prefix), "nft", ["-f", "-"], { input: renderFabricNft(state) });
}

async function linkExists(netns: string, dev: string): Promise<boolean> {
  return (await run("ip", ["-n", netns, "link", "show", "dev", dev], { allowFail: true })).code === 0;
}

async function ensureBridge(netns: string, name: string, mac: string, alias: string, addresses: readonly string[]): Promise<void> {
  if (!(await linkExists(netns, name))) {
    await run("ip", ["-n", netns, "link", "add", name, "type", "bridge", "forward_delay", "0", "stp_state", "0", "mcast_snooping", "0"]);
  }
  await ipBatch(netns, [
    `link set ${name} address ${mac} alias ${JSON.stringify(alias)} up`,
    ...addresses.map((a) => `addr replace ${a} dev ${name}`),
  ]);
}

/**
 * Creates the fabric (or repairs/updates an existing one): the router netns
 * with forwarding on, the `pub` bridge, the delay loop, every recorded VPC
 * bridge, and the rules. Idempotent.
 */
export async function createFabric(opts: CreateFabricOptions): Promise<Fabric> {
  const prefix = validatePrefix(opts.prefix);
  const fabric = handle(prefix);
  return withFabricLock(prefix, async () => {
    const existing = readFabricState(prefix);
    const state: FabricState = existing ?? {
      version: 1,
      prefix,
      plan: makeAddressPlan(opts.plan),
      interRegionDelayMs: 40,
      vpcs: {},
      peerings: [],
      hosts: {},
      reservedIps: {},
      allocations: { public: {}, private: {}, reserved: {} },
      blackholed: [],
      partitions: [],
    };
    if (opts.interRegionDelayMs !== undefined) {
      if (!(opts.interRegionDelayMs >= 0 && opts.interRegionDelayMs <= 10_000)) throw new Error("interRegionDelayMs must be 0..10000");
      state.interRegionDelayMs = opts.interRegionDelayMs;
    }
    const ns = fabric.netns;
    if (!netnsExists(ns)) await run("ip", ["netns", "add", ns]);
    await run("ip", ["-n", ns, "link", "set", "lo", "up"]);
    await runInNetns(ns, "sysctl", [
      "-q", "-w",
      "net.ipv4.ip_forward=1",
      // All public traffic hairpins through `pub`; redirects would teach hosts to bypass the fabric.
      "net.ipv4.conf.all.send_redirects=0",
      "net.ipv4.conf.default.send_redirects=0",
      "net.ipv4.conf.all.rp_filter=0",
      "net.ipv4.conf.default.rp_filter=0",
      // The lab is IPv4-only; no IPv6 on bridges means no link-local side doors.
      "net.ipv6.conf.all.disable_ipv6=1",
      "net.ipv6.conf.default.disable_ipv6=1",
    ]);
    // If br_netfilter is loaded, bridged (intra-VPC) frames would also hit the
    // inet forward chain and be dropped by its policy; keep L2 traffic out of L3 rules.
    // -e: kernels without br_netfilter have no such keys, which is fine.
    await runInNetns(ns, "sysctl", [
      "-q", "-e", "-w",
      "net.bridge.bridge-nf-call-iptables=0",
      "net.bridge.bridge-nf-call-ip6tables=0",
      "net.bridge.bridge-nf-call-arptables=0",
    ]);
    await ensureBridge(ns, PUB_BRIDGE, stableMac(`${prefix}:${PUB_BRIDGE}`), "public internet", [
      `${gatewayOf(state.plan.dropletPublicRange)}/${parseCidr(state.plan.dropletPublicRange).prefixLen}`,
      `${gatewayOf(state.plan.servicesRange)}/${parseCidr(state.plan.servicesRange).prefixLen}`,
    ]);
    for (const vpc of Object.values(state.vpcs)) await ensureVpcBridge(prefix, vpc);
    await ensureDelayLink(prefix, state.interRegionDelayMs);
    await applyFabricRules(state);
    writeFabricState(state);
    return fabric;
  });
}

async function ensureVpcBridge(prefix: string, vpc: VpcRecord): Promise<void> {
  await ensureBridge(fabricNetnsName(prefix), vpc.bridge, stableMac(`${prefix}:vpc:${vpc.name}`), `vpc ${vpc.name} (${vpc.region})`, [
    `${vpc.gateway}/${vpc.prefixLen}`,
  ]);
}

/** What a VPC needs: the program's name, region and ipRange. */
export interface VpcSpec {
  name: string;
  region: string;
  ipRange: string;
}

/**
 * Adds a VPC (a bridge with the fabric as gateway on its first address).
 * Idempotent for identical specs; a changed range or region is an error
 * (VPCs are immutable in DigitalOcean too).
 */
export async function ensureVpc(fabric: Fabric, spec: VpcSpec): Promise<VpcRecord> {
  const range = parseCidr(spec.ipRange);
  if (range.family !== 4 || range.prefixLen > 28) throw new Error(`VPC ${spec.name}: ipRange must be IPv4, /28 or larger`);
  const ipRange = formatCidr(range);
  return mutateFabric(fabric, async (state) => {
    const old = state.vpcs[spec.name];
    if (old && (old.ipRange !== ipRange || old.region !== spec.region)) {
      throw new Error(`VPC ${spec.name} already exists with ${old.ipRange} in ${old.region}`);
    }
    if (!old) {
      for (const other of Object.values(state.vpcs)) {
        if (cidrOverlaps(parseCidr(other.ipRange), range)) throw new Error(`VPC ${spec.name} (${ipRange}) overlaps VPC ${other.name} (${other.ipRange})`);
      }
      for (const key of ["dropletPublicRange", "servicesRange", "reservedRange"] as const) {
        if (cidrOverlaps(parseCidr(state.plan[key]), range)) throw new Error(`VPC ${spec.name} (${ipRange}) overlaps the lab's ${key}`);
      }
    }
    const vpc: VpcRecord = old ?? {
      name: spec.name,
      region: spec.region,
      ipRange,
      bridge: vpcBridgeName(spec.name),
      gateway: gatewayOf(ipRange),
      prefixLen: range.prefixLen,
    };
    state.vpcs[spec.name] = vpc;
    await ensureVpcBridge(fabric.prefix, vpc);
    return vpc;
  });
}

/** Removes a VPC's bridge; refuses while hosts are attached. Missing VPC is fine. */
export async function removeVpc(fabric: Fabric, name: string): Promise<void> {
  await mutateFabric(fabric, async (state) => {
    const vpc = state.vpcs[name];
    if (!vpc) return;
    const users = Object.values(state.hosts).filter((h) => h.vpc?.name === name);
    if (users.length > 0) throw new Error(`VPC ${name} still has hosts: ${users.map((h) => h.name).join(", ")}`);
    delete state.vpcs[name];
    state.peerings = state.peerings.filter((p) => !p.includes(name));
    state.partitions = state.partitions.filter((p) => !p.includes(name));
    await run("ip", ["-n", fabric.netns, "link", "del", vpc.bridge], { allowFail: true });
  });
}

function pairKey(a: string, b: string): [string, string] {
  return a < b ? [a, b] : [b, a];
}

function requireVpcs(state: FabricState, a: string, b: string): void {
  for (const n of [a, b]) if (!state.vpcs[n]) throw new Error(`unknown VPC ${n}`);
  if (a === b) throw new Error(`cannot pair VPC ${a} with itself`);
}

/** Enables routing between two VPCs (VPC peering). Idempotent. */
export async function peer(fabric: Fabric, vpcA: string, vpcB: string): Promise<void> {
  await mutateFabric(fabric, (state) => {
    requireVpcs(state, vpcA, vpcB);
    const [a, b] = pairKey(vpcA, vpcB);
    if (!state.peerings.some(([x, y]) => x === a && y === b)) state.peerings.push([a, b]);
  });
}

/** Removes a peering; missing peering is fine. */
export async function unpeer(fabric: Fabric, vpcA: string, vpcB: string): Promise<void> {
  await mutateFabric(fabric, (state) => {
    const [a, b] = pairKey(vpcA, vpcB);
    state.peerings = state.peerings.filter(([x, y]) => !(x === a && y === b));
  });
}

/**
 * Tears the fabric down: every recorded host netns, the relay, the relay
 * netns and the fabric netns, then the state. Processes still running inside
 * host namespaces are not killed here (see destroyAll). Missing parts are fine.
 */
export async function destroyFabric(fabricOrPrefix: Fabric | string): Promise<void> {
  const prefix = typeof fabricOrPrefix === "string" ? validatePrefix(fabricOrPrefix) : fabricOrPrefix.prefix;
  const state = readFabricState(prefix);
  for (const host of Object.values(state?.hosts ?? {})) await removeHostPlumbing(prefix, host.name, host.netns);
  await stopDelayRelay(prefix);
  for (const ns of [delayNetnsName(prefix), fabricNetnsName(prefix)]) {
    if (netnsExists(ns)) await run("ip", ["netns", "del", ns]);
  }
  fs.rmSync(labRunDir(prefix), { recursive: true, force: true });
}

import { Fabric, fabricState, mutateFabric } from "./fabric";
import { regionPairKey } from "./pairLatency";

/**
 * Makes a host silently unreachable: the fabric drops every IPv4/IPv6 frame
 * to or from its ports (public and VPC), with no RST and no ICMP, so peers
 * see timeouts like with a hung machine. ARP is left alone on purpose: if it
 * failed, the fabric would answer routed packets with "host unreachable".
 */
export async function blackhole(fabric: Fabric, hostName: string): Promise<void> {
  await mutateFabric(fabric, (state) => {
    if (!state.hosts[hostName]) throw new Error(`cannot blackhole unknown host ${hostName}`);
    if (!state.blackholed.includes(hostName)) state.blackholed.push(hostName);
  });
}

/** Undoes {@link blackhole}; a host that is not blackholed is fine. */
export async function unblackhole(fabric: Fabric, hostName: string): Promise<void> {
  await mutateFabric(fabric, (state) => {
    state.blackholed = state.blackholed.filter((h) => h !== hostName);
  });
}

function sortedPair(a: string, b: string): [string, string] {
  return a < b ? [a, b] : [b, a];
}

/**
 * Cuts all traffic between two VPCs, including between the public addresses
 * of their hosts (a region split), even if they are peered. Clients outside
 * both (client, admin, dns) still reach either side. Idempotent.
 */
export async function partition(fabric: Fabric, vpcA: string, vpcB: string): Promise<void> {
  await mutateFabric(fabric, (state) => {
    for (const v of [vpcA, vpcB]) if (!state.vpcs[v]) throw new Error(`unknown VPC ${v}`);
    if (vpcA === vpcB) throw new Error("cannot partition a VPC from itself");
    const [a, b] = sortedPair(vpcA, vpcB);
    if (!state.partitions.some(([x, y]) => x === a && y === b)) state.partitions.push([a, b]);
  });
}

/** Heals one partition, or all of them when called without VPC names. */
export async function heal(fabric: Fabric, vpcA?: string, vpcB?: string): Promise<void> {
  await mutateFabric(fabric, (state) => {
    if (vpcA === undefined || vpcB === undefined) {
      state.partitions = [];
      return;
    }
    const [a, b] = sortedPair(vpcA, vpcB);
    state.partitions = state.partitions.filter(([x, y]) => !(x === a && y === b));
  });
}

/**
 * Sets extra one-way latency between two regions (both directions), on top of the base
 * inter-region delay; 0 removes it. The delay relay picks it up within half a second.
 */
export async function setLatency(fabric: Fabric, regionA: string, regionB: string, ms: number): Promise<void> {
  if (!Number.isInteger(ms) || ms < 0 || ms > 5000) throw new Error(`latency ${ms} must be a whole number of milliseconds from 0 to 5000`);
  await mutateFabric(fabric, (state) => {
    const regions = new Set(Object.values(state.vpcs).map((v) => v.region));
    for (const r of [regionA, regionB]) if (!regions.has(r)) throw new Error(`unknown region ${r}; regions: ${[...regions].join(", ")}`);
    if (regionA === regionB) throw new Error("latency is between two different regions");
    if (state.interRegionDelayMs <= 0) throw new Error("the fabric has no delay loop (interRegionDelayMs 0)");
    const extra = { ...(state.extraLatencyMs ?? {}) };
    if (ms === 0) delete extra[regionPairKey(regionA, regionB)];
    else extra[regionPairKey(regionA, regionB)] = ms;
    state.extraLatencyMs = extra;
  });
}

/** Undoes every fault: blackholes, partitions and extra latencies. */
export async function healAll(fabric: Fabric): Promise<void> {
  await mutateFabric(fabric, (state) => {
    state.blackholed = [];
    state.partitions = [];
    state.extraLatencyMs = {};
  });
}

/** Current faults, for `lab status`. */
export function listFaults(fabric: Fabric): { blackholed: string[]; partitions: [string, string][]; extraLatencyMs: Record<string, number> } {
  const s = fabricState(fabric);
  return { blackholed: [...s.blackholed], partitions: s.partitions.map(([a, b]) => [a, b]), extraLatencyMs: { ...(s.extraLatencyMs ?? {}) } };
}

import { Fabric, fabricState, mutateFabric } from "./fabric";

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

/** Current faults, for `lab status`. */
export function listFaults(fabric: Fabric): { blackholed: string[]; partitions: [string, string][] } {
  const s = fabricState(fabric);
  return { blackholed: [...s.blackholed], partitions: s.partitions.map(([a, b]) => [a, b]) };
}

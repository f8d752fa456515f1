import { FIRST_PRIVATE_OFFSET, FIRST_PUBLIC_OFFSET, allocateFrom } from "./addressPlan";
import { Fabric, mutateFabric } from "./fabric";

/**
 * Hands out a droplet public IPv4 for `key` (e.g. the droplet's URN or
 * name). Sticky: the same key always gets the same address, so a re-run of
 * the program reproduces the same lab.
 */
export async function allocatePublicIp(fabric: Fabric, key: string): Promise<string> {
  return mutateFabric(fabric, (state) => {
    const known = state.allocations.public[key];
    if (known) return known;
    const taken = [...Object.values(state.allocations.public), ...Object.values(state.hosts).map((h) => h.publicIp)];
    const ip = allocateFrom(state.plan.dropletPublicRange, taken, FIRST_PUBLIC_OFFSET);
    state.allocations.public[key] = ip;
    return ip;
  });
}

/** Hands out a private IPv4 in a VPC for `key`; sticky like {@link allocatePublicIp}. */
export async function allocatePrivateIp(fabric: Fabric, vpcName: string, key: string): Promise<string> {
  return mutateFabric(fabric, (state) => {
    const vpc = state.vpcs[vpcName];
    if (!vpc) throw new Error(`unknown VPC ${vpcName}`);
    const table = (state.allocations.private[vpcName] ??= {});
    const known = table[key];
    if (known) return known;
    const taken = [...Object.values(table), ...Object.values(state.hosts).flatMap((h) => (h.vpc?.name === vpcName ? [h.vpc.privateIp] : []))];
    const ip = allocateFrom(vpc.ipRange, taken, FIRST_PRIVATE_OFFSET);
    table[key] = ip;
    return ip;
  });
}

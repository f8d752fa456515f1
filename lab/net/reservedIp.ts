import { FIRST_PUBLIC_OFFSET, allocateFrom } from "./addressPlan";
import { ipInCidr, parseIpv4 } from "./cidr";
import { runInNetns } from "./exec";
import { Fabric, fabricState, mutateFabric } from "./fabric";

/**
 * Deletes the fabric's conntrack entries whose original destination is one
 * of `ips`, so the next packet of any flow (UDP "connections" included) is
 * NATed afresh to the current holder instead of the old one.
 */
export async function flushConntrackFor(fabricNetns: string, ips: readonly string[]): Promise<void> {
  for (const ip of ips) {
    const r = await runInNetns(fabricNetns, "conntrack", ["-D", "--orig-dst", ip], { allowFail: true });
    // conntrack exits 1 when nothing matched; that is success for us.
    if (r.code !== 0 && !/0 flow entries have been deleted/.test(r.stderr)) {
      throw new Error(`conntrack -D --orig-dst ${ip} failed: ${r.stderr.trim()}`);
    }
  }
}

/**
 * Hands out a reserved IP for `key` (sticky: the same key gets the same IP
 * again). The new IP starts unassigned: traffic to it is dropped.
 */
export async function allocateReservedIp(fabric: Fabric, key: string): Promise<string> {
  return mutateFabric(fabric, (state) => {
    const known = state.allocations.reserved[key];
    const ip = known ?? allocateFrom(state.plan.reservedRange, [...Object.keys(state.reservedIps), ...Object.values(state.allocations.reserved)], FIRST_PUBLIC_OFFSET);
    state.allocations.reserved[key] = ip;
    if (!(ip in state.reservedIps)) state.reservedIps[ip] = null;
    return ip;
  });
}

/**
 * Points a reserved IP at a host (or at nobody with `null`). The DNAT map
 * changes in one nft transaction and conntrack entries for the IP are
 * flushed afterwards, so every new connection reaches the new holder at once;
 * established connections to the old holder break, as on DigitalOcean.
 */
export async function assignReservedIp(fabric: Fabric, ip: string, hostName: string | null): Promise<void> {
  parseIpv4(ip);
  await mutateFabric(fabric, (state) => {
    if (!ipInCidr(ip, state.plan.reservedRange)) throw new Error(`${ip} is not in the reserved range ${state.plan.reservedRange}`);
    if (hostName !== null && !state.hosts[hostName]) throw new Error(`cannot assign ${ip}: unknown host ${hostName}`);
    state.reservedIps[ip] = hostName;
  });
  await flushConntrackFor(fabric.netns, [ip]);
}

/** Forgets a reserved IP entirely (traffic to it stays dropped). Missing IP is fine. */
export async function releaseReservedIp(fabric: Fabric, ip: string): Promise<void> {
  await mutateFabric(fabric, (state) => {
    delete state.reservedIps[ip];
    for (const [key, value] of Object.entries(state.allocations.reserved)) {
      if (value === ip) delete state.allocations.reserved[key];
    }
  });
  await flushConntrackFor(fabric.netns, [ip]);
}

/** Current holder of a reserved IP (null = unassigned, undefined = unknown IP). */
export function reservedIpHolder(fabric: Fabric, ip: string): string | null | undefined {
  return fabricState(fabric).reservedIps[ip];
}

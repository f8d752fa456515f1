/**
 * Extra one-way latency between two regions, on top of the fabric's base inter-region delay: the
 * relay of the delay loop reads the inner IPv4 addresses of each VXLAN datagram, finds their
 * regions, and holds the datagram longer when that pair has extra latency set (`lab fault latency`).
 */
import { ipInCidr } from "./cidr";
import type { FabricState } from "./fabricState";

/** "a|b" with the two region names sorted, the key of {@link FabricState.extraLatencyMs}. */
export function regionPairKey(a: string, b: string): string {
    return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** Looks up an IPv4 address's region: a host's public address, or inside a VPC's range. */
export type RegionOf = (ip: string) => string | undefined;

export function regionLookup(state: Pick<FabricState, "vpcs" | "hosts">): RegionOf {
    const byIp = new Map<string, string>();
    for (const h of Object.values(state.hosts)) if (h.region) byIp.set(h.publicIp, h.region);
    const ranges = Object.values(state.vpcs).map((v) => ({ range: v.ipRange, region: v.region }));
    return (ip) => byIp.get(ip) ?? ranges.find((r) => ipInCidr(ip, r.range))?.region;
}

// VXLAN header (8) + inner Ethernet header (14), then the IPv4 header.
const ETHERTYPE_AT = 8 + 12;
const IPV4_AT = 8 + 14;

/** The inner IPv4 source and destination of a VXLAN datagram, if it carries IPv4. */
export function innerIpv4(datagram: Buffer): { src: string; dst: string } | undefined {
    if (datagram.length < IPV4_AT + 20 || datagram.readUInt16BE(ETHERTYPE_AT) !== 0x0800) return undefined;
    const ip = (at: number) => `${datagram[at]}.${datagram[at + 1]}.${datagram[at + 2]}.${datagram[at + 3]}`;
    return { src: ip(IPV4_AT + 12), dst: ip(IPV4_AT + 16) };
}

/** The extra delay for one datagram (0 when the pair has none or an address has no region). */
export function extraDelayMs(datagram: Buffer, regionOf: RegionOf, extra: Readonly<Record<string, number>>): number {
    const inner = innerIpv4(datagram);
    if (!inner) return 0;
    const a = regionOf(inner.src);
    const b = regionOf(inner.dst);
    if (!a || !b || a === b) return 0;
    return extra[regionPairKey(a, b)] ?? 0;
}

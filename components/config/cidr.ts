/** A parsed IPv4 or IPv6 CIDR block. */
export interface Cidr {
    readonly family: 4 | 6;
    readonly address: string;
    readonly prefix: number;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function isIpv6(value: string): boolean {
    // Node's parser is the reference; URL accepts exactly the RFC 4291 text forms inside brackets.
    if (!value.includes(":")) return false;
    try {
        return new URL(`http://[${value}]/`).hostname.length > 2;
    } catch {
        return false;
    }
}

/** Parses "a.b.c.d/n" or "x::y/n"; returns undefined when the text is not a CIDR block. */
export function parseCidr(text: string): Cidr | undefined {
    const match = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
    if (!match) return undefined;
    const [, address, prefixText] = match as unknown as [string, string, string];
    const prefix = Number(prefixText);
    if (IPV4.test(address)) return prefix <= 32 ? { family: 4, address, prefix } : undefined;
    if (isIpv6(address)) return prefix <= 128 ? { family: 6, address, prefix } : undefined;
    return undefined;
}

/** A dotted IPv4 address as an unsigned 32-bit integer (kept in a double: JS bitwise ops are signed). */
export function ipv4ToInt(address: string): number {
    return address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/** An unsigned 32-bit integer as a dotted IPv4 address. */
export function intToIpv4(value: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** The n-th address of an IPv4 block (0 is the network address). */
export function nthIpv4(cidr: string, n: number): string {
    const parsed = parseCidr(cidr);
    if (!parsed || parsed.family !== 4) throw new Error(`not an IPv4 CIDR: ${cidr}`);
    return intToIpv4(ipv4ToInt(parsed.address) + n);
}

/** Whether two IPv4 blocks share any address. */
export function ipv4Overlaps(a: string, b: string): boolean {
    const pa = parseCidr(a);
    const pb = parseCidr(b);
    if (!pa || !pb || pa.family !== 4 || pb.family !== 4) return false;
    const size = (p: number) => 2 ** (32 - p);
    const start = (c: Cidr) => Math.floor(ipv4ToInt(c.address) / size(c.prefix)) * size(c.prefix);
    const [sa, sb] = [start(pa), start(pb)];
    return sa < sb + size(pb.prefix) && sb < sa + size(pa.prefix);
}

/** The netmask of an IPv4 prefix length, e.g. 20 -> 255.255.240.0. */
export function ipv4Netmask(prefix: number): string {
    return intToIpv4(prefix === 0 ? 0 : (0xffffffff - (2 ** (32 - prefix) - 1)));
}

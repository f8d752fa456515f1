/** IP family of an address or prefix. */
export type IpFamily = 4 | 6;

/** A parsed, normalised prefix (host bits cleared). */
export interface Cidr {
  family: IpFamily;
  /** Network address as an integer. */
  network: bigint;
  prefixLen: number;
}

const BITS: Record<IpFamily, number> = { 4: 32, 6: 128 };

/** Parses a dotted-quad IPv4 address; throws on anything else. */
export function parseIpv4(text: string): bigint {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255)) {
    throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
  }
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

/** Parses an IPv6 address (with `::` compression and an optional dotted-quad tail). */
export function parseIpv6(text: string): bigint {
  const fail = (): never => {
    throw new Error(`not an IPv6 address: ${JSON.stringify(text)}`);
  };
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.split("::").length > 2) fail();
  let groups: number[] = [];
  const parseSide = (side: string): number[] => {
    if (side === "") return [];
    const out: number[] = [];
    const pieces = side.split(":");
    pieces.forEach((piece, i) => {
      if (piece.includes(".")) {
        // An embedded IPv4 tail is allowed only as the last piece.
        if (i !== pieces.length - 1) fail();
        const v4 = parseIpv4(piece);
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) fail();
        out.push(parseInt(piece, 16));
      }
    });
    return out;
  };
  if (text.includes("::")) {
    const [left, right] = text.split("::") as [string, string];
    const l = parseSide(left);
    const r = parseSide(right);
    if (l.length + r.length > 7) fail();
    groups = [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  } else {
    groups = parseSide(text);
    if (groups.length !== 8) fail();
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Family of an address string (by syntax only). */
export function ipFamily(text: string): IpFamily {
  return text.includes(":") ? 6 : 4;
}

/** Parses an address of either family. */
export function parseIp(text: string): { family: IpFamily; value: bigint } {
  const family = ipFamily(text);
  return { family, value: family === 4 ? parseIpv4(text) : parseIpv6(text) };
}

/** Formats an integer as an address of the given family (IPv6 in RFC 5952 short form). */
export function formatIp(family: IpFamily, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => ((value >> s) & 0xffn).toString()).join(".");
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  // Compress the longest run of two or more zero groups, as RFC 5952 asks.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

/** Parses "addr/len" or a bare address (a host prefix); clears host bits. */
export function parseCidr(text: string): Cidr {
  const [addr, len, extra] = text.split("/");
  if (addr === undefined || extra !== undefined) throw new Error(`not a CIDR: ${JSON.stringify(text)}`);
  const { family, value } = parseIp(addr);
  const bits = BITS[family];
  if (len !== undefined && !/^(0|[1-9][0-9]{0,2})$/.test(len)) throw new Error(`bad prefix length in ${JSON.stringify(text)}`);
  const prefixLen = len === undefined ? bits : Number(len);
  if (prefixLen > bits) throw new Error(`prefix length too long in ${JSON.stringify(text)}`);
  return { family, network: value & maskOf(family, prefixLen), prefixLen };
}

function maskOf(family: IpFamily, prefixLen: number): bigint {
  const bits = BigInt(BITS[family]);
  const all = (1n << bits) - 1n;
  return all ^ ((1n << (bits - BigInt(prefixLen))) - 1n);
}

/** Canonical text of a prefix: "a.b.c.d/n", host prefixes without "/32" or "/128". */
export function formatCidr(c: Cidr): string {
  const addr = formatIp(c.family, c.network);
  return c.prefixLen === BITS[c.family] ? addr : `${addr}/${c.prefixLen}`;
}

/** Number of addresses in a prefix. */
export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(BITS[c.family] - c.prefixLen);
}

/** True if `inner` lies entirely inside `outer` (same family). */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return (
    outer.family === inner.family &&
    outer.prefixLen <= inner.prefixLen &&
    (inner.network & maskOf(outer.family, outer.prefixLen)) === outer.network
  );
}

/** True if the two prefixes share at least one address. */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** True if address `ip` is inside prefix `cidr` (both strings). */
export function ipInCidr(ip: string, cidr: string): boolean {
  return cidrContains(parseCidr(cidr), parseCidr(ip));
}

/**
 * The n-th address of a prefix (0 = network address). Throws if n is outside
 * the prefix, so allocation bugs surface instead of wrapping into the next net.
 */
export function nthAddress(cidr: string, n: number): string {
  const c = parseCidr(cidr);
  if (n < 0 || BigInt(n) >= cidrSize(c)) throw new Error(`address #${n} is outside ${cidr}`);
  return formatIp(c.family, c.network + BigInt(n));
}

/** Index of `ip` inside `cidr` (inverse of {@link nthAddress}). */
export function addressIndex(cidr: string, ip: string): number {
  const c = parseCidr(cidr);
  const a = parseCidr(ip);
  if (!cidrContains(c, a)) throw new Error(`${ip} is not inside ${cidr}`);
  return Number(a.network - c.network);
}

/**
 * Normalises a list of prefixes of one family: clears host bits, drops
 * duplicates and prefixes covered by another, sorts. nft rejects anonymous
 * sets whose intervals overlap, so rule renderers feed their lists through this.
 */
export function mergeCidrs(list: readonly string[]): string[] {
  const parsed = list.map(parseCidr).sort((a, b) => a.prefixLen - b.prefixLen);
  const kept: Cidr[] = [];
  for (const c of parsed) {
    if (!kept.some((k) => cidrContains(k, c))) kept.push(c);
  }
  kept.sort((a, b) => (a.family !== b.family ? a.family - b.family : a.network < b.network ? -1 : a.network > b.network ? 1 : 0));
  return kept.map(formatCidr);
}

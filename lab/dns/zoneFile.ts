import { parseIpv4, parseIpv6, formatIp } from "../net/cidr";
import type { DnsRecord, DnsZone } from "./dnsTypes";

/** Options of {@link renderZone}. */
export interface ZoneRenderOptions {
  /** SOA serial (uint32); must grow on every change. */
  serial: number;
  /** IPv4 of the authoritative server, published as `<nsLabel>.<zone>` (glue). */
  nsAddress: string;
  /** Label of the generated name server record (default "lab-ns"). */
  nsLabel?: string;
  /** Negative-caching TTL and the TTL of generated records (default 30). */
  soaMinimum?: number;
}

const LABEL = "(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)";
const REL_NAME_RE = new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*$`);
const ZONE_RE = new RegExp(`^${LABEL}(?:\\.${LABEL})+$|^${LABEL}$`);

/** Validates and lower-cases a zone name (no trailing dot). */
export function normalizeZoneName(name: string): string {
  const n = name.replace(/\.$/, "").toLowerCase();
  if (!ZONE_RE.test(n) || n.length > 253) throw new Error(`invalid zone name ${JSON.stringify(name)}`);
  return n;
}

/**
 * Turns a record owner name into the zone-file form relative to the origin
 * ("@" for the apex), as DigitalOcean's API names records. `zone` must be
 * normalised ({@link normalizeZoneName}); throws for an invalid or foreign name.
 */
export function ownerName(zone: string, name: string): string {
  const n = name.toLowerCase();
  if (n === "@" || n === "" || n === `${zone}.`) return "@";
  if (n === "*") return "*";
  if (n.endsWith(".")) {
    if (!n.endsWith(`.${zone}.`)) throw new Error(`record name ${JSON.stringify(name)} is outside zone ${zone}`);
    return ownerName(zone, n.slice(0, -(zone.length + 2)));
  }
  if (!REL_NAME_RE.test(n)) throw new Error(`invalid record name ${JSON.stringify(name)} in zone ${zone}`);
  return n;
}

/** Fully qualified name (no trailing dot) of a record owner name of `zone` (normalised). */
export function recordFqdn(zone: string, name: string): string {
  const owner = ownerName(zone, name);
  return owner === "@" ? zone : `${owner}.${zone}`;
}

function targetName(value: string, what: string): string {
  if (value === "@") return "@";
  const bare = value.endsWith(".") ? value.slice(0, -1) : value;
  if (!REL_NAME_RE.test(bare) || bare.startsWith("*")) throw new Error(`invalid ${what} target ${JSON.stringify(value)}`);
  return value.toLowerCase();
}

/**
 * Quotes TXT data as zone-file character-strings: `"` and `\` escaped,
 * non-printable and non-ASCII bytes as \DDD, split into ≤255-byte chunks.
 */
export function quoteTxt(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  const encode = (part: Uint8Array): string => {
    let s = "";
    for (const b of part) {
      if (b === 0x22 || b === 0x5c) s += `\\${String.fromCharCode(b)}`;
      else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
      else s += `\\${String(b).padStart(3, "0")}`;
    }
    return `"${s}"`;
  };
  const chunks: string[] = [];
  for (let i = 0; i < bytes.length; i += 255) chunks.push(encode(bytes.subarray(i, i + 255)));
  return chunks.length > 0 ? chunks.join(" ") : '""';
}

function recordData(r: DnsRecord): string {
  switch (r.type) {
    case "A":
      return formatIp(4, parseIpv4(r.value));
    case "AAAA":
      return formatIp(6, parseIpv6(r.value));
    case "CNAME":
      return targetName(r.value, "CNAME");
    case "NS":
      return targetName(r.value, "NS");
    case "TXT":
      return quoteTxt(r.value);
    default: {
      const never: never = r.type;
      throw new Error(`unsupported record type ${String(never)}`);
    }
  }
}

/**
 * Renders a zone file for BIND. Pure. Adds the SOA, an apex NS pointing at
 * `<nsLabel>.<zone>` (unless the records bring their own apex NS) and its
 * glue A record. Rejects what DNS forbids (CNAME at the apex or next to
 * other data) so the caller gets a clear error before named-checkzone.
 */
export function renderZone(zone: DnsZone, opts: ZoneRenderOptions): string {
  const origin = normalizeZoneName(zone.name);
  if (!Number.isInteger(opts.serial) || opts.serial < 1 || opts.serial > 0xffffffff) throw new Error(`invalid SOA serial ${opts.serial}`);
  const nsLabel = opts.nsLabel ?? "lab-ns";
  const minimum = opts.soaMinimum ?? 30;
  const nsAddress = formatIp(4, parseIpv4(opts.nsAddress));

  const rows = zone.records.map((r) => {
    if (!Number.isInteger(r.ttl) || r.ttl < 0 || r.ttl > 2147483647) throw new Error(`invalid TTL ${r.ttl} for ${r.name}`);
    return { owner: ownerName(origin, r.name), ttl: r.ttl, type: r.type, data: recordData(r) };
  });
  const byOwner = new Map<string, Set<string>>();
  for (const row of rows) byOwner.set(row.owner, (byOwner.get(row.owner) ?? new Set()).add(row.type));
  for (const [owner, types] of byOwner) {
    if (types.has("CNAME") && (owner === "@" || types.size > 1)) {
      throw new Error(`zone ${origin}: CNAME at ${owner} cannot coexist with other data${owner === "@" ? " (apex has SOA/NS)" : ""}`);
    }
  }
  const ownApexNs = rows.some((r) => r.owner === "@" && r.type === "NS");
  const ownGlue = byOwner.has(nsLabel);

  const lines = [
    "; generated by lab/dns/zoneFile.ts",
    `$ORIGIN ${origin}.`,
    `$TTL ${minimum}`,
    `@\t${minimum}\tIN\tSOA\t${nsLabel}.${origin}. hostmaster.${origin}. ( ${opts.serial} 3600 600 86400 ${minimum} )`,
  ];
  if (!ownApexNs) lines.push(`@\t${minimum}\tIN\tNS\t${nsLabel}.${origin}.`);
  if (!ownGlue) lines.push(`${nsLabel}\t${minimum}\tIN\tA\t${nsAddress}`);
  for (const r of rows) lines.push(`${r.owner}\t${r.ttl}\tIN\t${r.type}\t${r.data}`);
  return lines.join("\n") + "\n";
}

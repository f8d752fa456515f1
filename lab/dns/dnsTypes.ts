/** Record types the lab's DNS serves (what the program creates through digitalocean.DnsRecord). */
export type DnsRecordType = "A" | "AAAA" | "CNAME" | "TXT" | "NS";

/**
 * One resource record. `name` is relative to the zone like DigitalOcean's
 * (`@` = apex, `www`, `*.app`) or absolute with a trailing dot inside the
 * zone. `value` follows zone-file rules: CNAME/NS targets need a trailing
 * dot to be absolute, `@` means the apex; TXT is the raw text (quoted for you).
 */
export interface DnsRecord {
  type: DnsRecordType;
  name: string;
  value: string;
  /** Seconds. */
  ttl: number;
  /** DigitalOcean's record id; the DNS server's store assigns one when it is missing. */
  id?: number;
}

/** A record as the DNS server's store holds it: always with its id. */
export type StoredDnsRecord = DnsRecord & { id: number };

/** An authoritative zone. */
export interface DnsZone {
  /** Domain name without trailing dot, e.g. "example.test". */
  name: string;
  records: DnsRecord[];
}

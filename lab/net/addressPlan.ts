import { createHash } from "node:crypto";
import { addressIndex, cidrOverlaps, cidrSize, ipInCidr, nthAddress, parseCidr, parseIpv4 } from "./cidr";

/**
 * Where the lab puts every address. All public ranges are documentation
 * ranges (RFC 5737) so nothing in the lab can ever be confused with a real
 * internet address. Private VPC ranges come from the program, not from here.
 */
export interface AddressPlan {
  /** Droplet public IPv4s ("the internet" as droplets see it); the fabric owns the first host address. */
  dropletPublicRange: string;
  /** Public addresses of the lab's own machines (client, admin, dns); the fabric owns the first host address. */
  servicesRange: string;
  /** Reserved (floating) IPs; the fabric translates them to the holder's public IP. */
  reservedRange: string;
  /** Public address of the `client` netns (browser, curl). */
  clientIp: string;
  /** Public address of the `admin` netns, the origin of the lab's SSH wiring. */
  adminIp: string;
  /** Public address of the lab's authoritative DNS server. */
  dnsIp: string;
  /** Ranges routed via the VPC gateway on each droplet's private NIC; the fabric then decides (peering). */
  privateSupernets: string[];
}

/** The default plan: TEST-NET-2 for droplets, TEST-NET-1 for lab services, TEST-NET-3 for reserved IPs. */
export const DEFAULT_ADDRESS_PLAN: Readonly<AddressPlan> = Object.freeze({
  dropletPublicRange: "198.51.100.0/24",
  servicesRange: "192.0.2.0/24",
  reservedRange: "203.0.113.0/24",
  clientIp: "192.0.2.10",
  adminIp: "192.0.2.22",
  dnsIp: "192.0.2.53",
  privateSupernets: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
});

/** First host offset handed out in the public and reserved ranges (low addresses stay free for the fabric). */
export const FIRST_PUBLIC_OFFSET = 10;
/** First host offset handed out in a VPC (offset 1 is the fabric's gateway). */
export const FIRST_PRIVATE_OFFSET = 2;

/**
 * Builds and validates a plan: ranges must be IPv4, must not overlap each
 * other, and the special hosts must sit inside the services range above the
 * gateway. Throws with a message naming the offending field.
 */
export function makeAddressPlan(overrides: Partial<AddressPlan> = {}): AddressPlan {
  const plan: AddressPlan = { ...DEFAULT_ADDRESS_PLAN, privateSupernets: [...DEFAULT_ADDRESS_PLAN.privateSupernets], ...overrides };
  const ranges = ["dropletPublicRange", "servicesRange", "reservedRange"] as const;
  for (const key of ranges) {
    const c = parseCidr(plan[key]);
    if (c.family !== 4) throw new Error(`address plan: ${key} must be IPv4`);
    if (c.prefixLen > 29) throw new Error(`address plan: ${key} is too small`);
  }
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const a = ranges[i] as (typeof ranges)[number];
      const b = ranges[j] as (typeof ranges)[number];
      if (cidrOverlaps(parseCidr(plan[a]), parseCidr(plan[b]))) throw new Error(`address plan: ${a} overlaps ${b}`);
    }
  }
  for (const key of ["clientIp", "adminIp", "dnsIp"] as const) {
    parseIpv4(plan[key]);
    if (!ipInCidr(plan[key], plan.servicesRange)) throw new Error(`address plan: ${key} must be inside servicesRange`);
    const idx = addressIndex(plan.servicesRange, plan[key]);
    if (idx < 2 || BigInt(idx) >= cidrSize(parseCidr(plan.servicesRange)) - 1n) {
      throw new Error(`address plan: ${key} must not be the network, gateway or broadcast address`);
    }
  }
  if (new Set([plan.clientIp, plan.adminIp, plan.dnsIp]).size !== 3) throw new Error("address plan: special hosts need distinct addresses");
  for (const s of plan.privateSupernets) {
    for (const key of ranges) {
      if (cidrOverlaps(parseCidr(s), parseCidr(plan[key]))) throw new Error(`address plan: private supernet ${s} overlaps ${key}`);
    }
  }
  return plan;
}

/** The admin CIDR the lab stack must allow SSH from. */
export function adminCidr(plan: AddressPlan): string {
  return `${plan.adminIp}/32`;
}

/** Gateway (first host address) of a range: the fabric's address on that network. */
export function gatewayOf(range: string): string {
  return nthAddress(range, 1);
}

/** Public gateway a host with public address `ip` must use; throws if `ip` is in no public range. */
export function publicGatewayFor(plan: AddressPlan, ip: string): string {
  for (const range of [plan.dropletPublicRange, plan.servicesRange]) {
    if (ipInCidr(ip, range)) {
      const idx = addressIndex(range, ip);
      if (idx < 2 || BigInt(idx) >= cidrSize(parseCidr(range)) - 1n) throw new Error(`${ip} is reserved in ${range}`);
      return gatewayOf(range);
    }
  }
  throw new Error(`public IP ${ip} is outside ${plan.dropletPublicRange} and ${plan.servicesRange}`);
}

/**
 * Lowest free address of `range` at or above `firstOffset`, skipping the
 * broadcast address. Pure: the caller persists what it took.
 */
export function allocateFrom(range: string, taken: Iterable<string>, firstOffset: number): string {
  const used = new Set(taken);
  const size = cidrSize(parseCidr(range));
  for (let n = firstOffset; BigInt(n) < size - 1n; n++) {
    const candidate = nthAddress(range, n);
    if (!used.has(candidate)) return candidate;
  }
  throw new Error(`address range ${range} is exhausted`);
}

const PREFIX_RE = /^[a-z][a-z0-9]{1,9}$/;
const HOST_RE = /^[a-z0-9](?:[a-z0-9.-]{0,61}[a-z0-9])?$/;

/**
 * Checks a lab name prefix. Kept short and hyphen-free so that
 * `destroyAll("drr")` can never match another lab's "drrt1-…" namespaces.
 */
export function validatePrefix(prefix: string): string {
  if (!PREFIX_RE.test(prefix)) throw new Error(`lab prefix must match ${PREFIX_RE}: ${JSON.stringify(prefix)}`);
  return prefix;
}

/** Checks a host (droplet) name: lower-case DNS label characters. */
export function validateHostName(name: string): string {
  if (!HOST_RE.test(name)) throw new Error(`host name must match ${HOST_RE}: ${JSON.stringify(name)}`);
  return name;
}

/** Namespace holding the bridges and the router. */
export function fabricNetnsName(prefix: string): string {
  return `${validatePrefix(prefix)}-fabric`;
}

/** Namespace holding the inter-region delay relay. */
export function delayNetnsName(prefix: string): string {
  return `${validatePrefix(prefix)}-delay`;
}

/** Namespace of one host (droplet or special host). */
export function hostNetnsName(prefix: string, hostName: string): string {
  return `${validatePrefix(prefix)}-h-${validateHostName(hostName)}`;
}

/** Name of the public bridge in the fabric. */
export const PUB_BRIDGE = "pub";

function shortHash(text: string, hexChars: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, hexChars);
}

function readable(text: string, chars: number): string {
  return text.toLowerCase().replace(/[^a-z0-9]/g, "").slice(0, chars);
}

/** Bridge name for a VPC in the fabric (≤ 15 chars, unique by hash). */
export function vpcBridgeName(vpcName: string): string {
  return `v-${readable(vpcName, 6)}-${shortHash(`vpc:${vpcName}`, 5)}`;
}

/** Fabric-side veth names of a host's NICs (≤ 15 chars, unique by hash). */
export function hostPortNames(hostName: string): { pub: string; vpc: string } {
  const base = `${readable(hostName, 6)}-${shortHash(`host:${hostName}`, 5)}`;
  return { pub: `p-${base}`, vpc: `q-${base}` };
}

/**
 * Deterministic locally administered unicast MAC. Bridges get a fixed MAC
 * because a bridge otherwise adopts its lowest port MAC, which changes as
 * hosts join and leaves stale ARP entries behind.
 */
export function stableMac(seed: string): string {
  const h = shortHash(`mac:${seed}`, 10);
  return ["02", ...(h.match(/../g) as string[])].join(":");
}

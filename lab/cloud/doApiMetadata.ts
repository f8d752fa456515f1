/**
 * DigitalOcean's droplet metadata service (http://169.254.169.254/metadata/v1),
 * answering each droplet about itself. The caller is identified by the source
 * address of its connection, as on DigitalOcean where only the droplet's own
 * link can reach its metadata. Pure: no sockets, no files.
 */
import { stableMac } from "../net/addressPlan";
import type { HostRecord } from "../net/fabricState";
import { HttpRequest, HttpResponse, jsonResponse, normalizePath, plainIpv4, textResponse } from "./doApiHttp";
import type { DoApiDroplet, DoApiState } from "./doApiState";

/** What the metadata service answers from. */
export interface MetadataContext {
  state: DoApiState;
  /** Reserved IP -> holder host name, live from the fabric. */
  holders: Record<string, string | null>;
  /** The fabric's host records by name (gateways, prefix lengths), when known. */
  hosts: Record<string, HostRecord>;
  /** Resolvers written into droplets, if any (for the `dns` key). */
  nameservers?: string[];
}

function netmask(prefixLen: number): string {
  const bits = prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 255).join(".");
}

interface Nic {
  ipv4: { ip_address: string; netmask?: string; gateway?: string };
  mac?: string;
  type: "public" | "private";
}

function interfaces(d: DoApiDroplet, host: HostRecord | undefined, prefix: string): { public: Nic[]; private: Nic[] } {
  // The lab's NICs: eth0 public (/32 via the fabric), eth1 on the VPC; MACs as lab/net sets them.
  const pub: Nic = { ipv4: { ip_address: d.publicIpv4 }, type: "public" };
  const priv: Nic = { ipv4: { ip_address: d.privateIpv4 }, type: "private" };
  if (host) {
    pub.ipv4.netmask = netmask(32);
    pub.ipv4.gateway = host.publicGateway;
    pub.mac = stableMac(`${prefix}:${host.name}:eth0`);
    if (host.vpc) {
      priv.ipv4.netmask = netmask(host.vpc.prefixLen);
      priv.ipv4.gateway = host.vpc.gateway;
      priv.mac = stableMac(`${prefix}:${host.name}:eth1`);
    }
  }
  return { public: [pub], private: [priv] };
}

function reservedIpOf(d: DoApiDroplet, ctx: MetadataContext): string | undefined {
  return ctx.state.reservedIps.find((r) => ctx.holders[r.ip] === d.name)?.ip;
}

/** The `/metadata/v1.json` document, shaped as DigitalOcean documents it. */
export function metadataJson(d: DoApiDroplet, ctx: MetadataContext): Record<string, unknown> {
  const rip = reservedIpOf(d, ctx);
  const reserved = { ipv4: rip ? { active: true, ip_address: rip } : { active: false } };
  return {
    droplet_id: d.id,
    hostname: d.name,
    region: d.region,
    interfaces: interfaces(d, ctx.hosts[d.name], ctx.state.prefix),
    floating_ip: reserved,
    reserved_ip: reserved,
    dns: { nameservers: ctx.nameservers ?? [] },
    tags: d.tags ?? [],
    features: { dhcp_enabled: false },
  };
}

/** The droplet a source address belongs to (public or private IPv4). */
export function dropletByAddress(state: DoApiState, address: string): DoApiDroplet | undefined {
  const ip = plainIpv4(address);
  return state.droplets.find((d) => d.publicIpv4 === ip || d.privateIpv4 === ip);
}

/** Plain-text leaves and directory listings under /metadata/v1/. */
function textLeaves(d: DoApiDroplet, ctx: MetadataContext): Map<string, string> {
  const doc = metadataJson(d, ctx);
  const nics = doc.interfaces as { public: Nic[]; private: Nic[] };
  const rip = reservedIpOf(d, ctx);
  const leaves = new Map<string, string>([
    ["", "id\nhostname\nregion\ninterfaces/\nreserved_ip/\nfloating_ip/\ntags/\ndns/\n"],
    ["id", String(d.id)],
    ["hostname", d.name],
    ["region", d.region],
    ["tags", (d.tags ?? []).map((t) => `${t}\n`).join("")],
    ["dns", "nameservers\n"],
    ["dns/nameservers", (ctx.nameservers ?? []).map((n) => `${n}\n`).join("")],
    ["interfaces", "private/\npublic/\n"],
  ]);
  for (const kind of ["public", "private"] as const) {
    const nic = nics[kind][0] as Nic;
    const base = `interfaces/${kind}/0`;
    leaves.set(`interfaces/${kind}`, "0/\n");
    leaves.set(base, `ipv4/\n${nic.mac ? "mac\n" : ""}type\n`);
    leaves.set(`${base}/type`, kind);
    if (nic.mac) leaves.set(`${base}/mac`, nic.mac);
    leaves.set(`${base}/ipv4`, ["address", ...(nic.ipv4.netmask ? ["netmask"] : []), ...(nic.ipv4.gateway ? ["gateway"] : [])].map((x) => `${x}\n`).join(""));
    leaves.set(`${base}/ipv4/address`, nic.ipv4.ip_address);
    if (nic.ipv4.netmask) leaves.set(`${base}/ipv4/netmask`, nic.ipv4.netmask);
    if (nic.ipv4.gateway) leaves.set(`${base}/ipv4/gateway`, nic.ipv4.gateway);
  }
  for (const key of ["reserved_ip", "floating_ip"]) {
    leaves.set(key, "ipv4/\n");
    leaves.set(`${key}/ipv4`, rip ? "active\nip_address\n" : "active\n");
    leaves.set(`${key}/ipv4/active`, rip ? "true" : "false");
    if (rip) leaves.set(`${key}/ipv4/ip_address`, rip);
  }
  return leaves;
}

/**
 * Answers one metadata request: GET only, 404 for unknown paths and for
 * callers that are not droplets of the account.
 */
export function handleMetadataRequest(req: HttpRequest, ctx: MetadataContext): HttpResponse {
  const droplet = dropletByAddress(ctx.state, req.fromIp);
  if (req.method !== "GET" && req.method !== "HEAD") return textResponse(405, "method not allowed\n");
  if (!droplet) return textResponse(404, "not found\n");
  const path = normalizePath(req.path);
  if (path === "/metadata/v1.json") return jsonResponse(200, metadataJson(droplet, ctx));
  const m = /^\/metadata\/v1(?:\/(.*))?$/.exec(path);
  const leaf = m ? textLeaves(droplet, ctx).get(m[1] ?? "") : undefined;
  return leaf === undefined ? textResponse(404, "not found\n") : textResponse(200, leaf);
}

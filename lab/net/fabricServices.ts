/**
 * Addresses the fabric itself answers on, for services the lab plays on
 * DigitalOcean's behalf (the metadata service, the API). Each is a /32 on the
 * fabric's loopback: droplets already route every non-VPC destination to the
 * fabric, so a packet to such an address is delivered locally to whatever
 * listens in the fabric netns, with the droplet's own source address intact.
 */
import { allocateFrom } from "./addressPlan";
import { parseIpv4 } from "./cidr";
import { ipBatch, run } from "./exec";
import { Fabric, fabricState } from "./fabric";
import { netnsExists } from "./processes";

/** DigitalOcean's link-local metadata address. */
export const METADATA_IP = "169.254.169.254";

/** Adds `ip`/32 to the fabric's loopback. Idempotent. */
export async function addFabricServiceAddress(fabric: Fabric, ip: string): Promise<void> {
  parseIpv4(ip);
  await ipBatch(fabric.netns, [`addr replace ${ip}/32 dev lo`]);
}

/** Removes `ip`/32 from the fabric's loopback; a missing address or fabric is fine. */
export async function removeFabricServiceAddress(fabric: Fabric, ip: string): Promise<void> {
  parseIpv4(ip);
  if (!netnsExists(fabric.netns)) return;
  await run("ip", ["-n", fabric.netns, "addr", "del", `${ip}/32`, "dev", "lo"], { allowFail: true });
}

/**
 * Gives a droplet's netns an explicit route to the metadata service:
 * `169.254.169.254/32 via <public gateway> dev eth0 onlink src <public IP>`.
 * The default route would already get there; the /32 keeps it working if
 * something inside the droplet adds a link-local route (IPv4LL, a VRRP
 * setup) or changes the default route, and `src` pins the source to the
 * public address the metadata service identifies the droplet by.
 * Call after the host's netns exists. Idempotent.
 */
export async function enableMetadataRoute(fabric: Fabric, hostName: string): Promise<void> {
  const host = fabricState(fabric).hosts[hostName];
  if (!host) throw new Error(`enableMetadataRoute: unknown host ${hostName}`);
  await ipBatch(host.netns, [`route replace ${METADATA_IP}/32 via ${host.publicGateway} dev eth0 onlink src ${host.publicIp}`]);
}

/**
 * A free address in the plan's services range for a fabric-hosted service:
 * the lowest one from offset 2 (after the gateway) that no special host or
 * host netns uses. Deterministic for a given fabric state.
 */
export function pickServiceAddress(fabric: Fabric): string {
  const state = fabricState(fabric);
  const range = state.plan.servicesRange;
  const taken = new Set([state.plan.clientIp, state.plan.adminIp, state.plan.dnsIp, ...Object.values(state.hosts).map((h) => h.publicIp)]);
  return allocateFrom(range, taken, 2);
}

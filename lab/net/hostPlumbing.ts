import fs from "node:fs";
import path from "node:path";
import { PUB_BRIDGE, fabricNetnsName, hostPortNames, stableMac } from "./addressPlan";
import { ipBatch, run, runInNetns } from "./exec";
import type { HostRecord } from "./fabricState";
import { netnsExists } from "./processes";

/** Directory whose files `ip netns exec` bind-mounts over /etc for that netns. */
export function netnsEtcDir(netns: string): string {
  return path.join("/etc/netns", netns);
}

/** Per-netns resolver and hosts files. */
export interface NetnsEtc {
  /** Written as /etc/netns/<ns>/resolv.conf when given. */
  nameservers?: string[];
  /** Written as /etc/netns/<ns>/hosts (after localhost lines) when given. */
  hosts?: { ip: string; names: string[] }[];
}

/** Renders resolv.conf: short timeouts so lookups of unknown names fail fast. */
export function renderResolvConf(nameservers: readonly string[]): string {
  return [...nameservers.map((n) => `nameserver ${n}`), "options timeout:1 attempts:2", ""].join("\n");
}

/** Renders a hosts file with the usual localhost lines first. */
export function renderHostsFile(entries: readonly { ip: string; names: string[] }[]): string {
  return ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback", ...entries.map((e) => `${e.ip}\t${e.names.join(" ")}`), ""].join("\n");
}

/** Writes (or removes, when empty) the netns's resolv.conf and hosts. */
export function writeNetnsEtc(netns: string, etc: NetnsEtc): void {
  const dir = netnsEtcDir(netns);
  const files: [string, string | undefined][] = [
    ["resolv.conf", etc.nameservers && etc.nameservers.length > 0 ? renderResolvConf(etc.nameservers) : undefined],
    ["hosts", etc.hosts ? renderHostsFile(etc.hosts) : undefined],
  ];
  for (const [name, text] of files) {
    const file = path.join(dir, name);
    if (text === undefined) fs.rmSync(file, { force: true });
    else {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(file, text);
    }
  }
}

async function linkExists(netns: string, dev: string): Promise<boolean> {
  return (await run("ip", ["-n", netns, "link", "show", "dev", dev], { allowFail: true })).code === 0;
}

async function ensureVeth(hostNs: string, hostDev: string, fabricNs: string, port: string, bridge: string, alias: string): Promise<void> {
  if (!(await linkExists(hostNs, hostDev))) {
    // A half-built pair from an interrupted run: drop the fabric end and start over.
    await run("ip", ["-n", fabricNs, "link", "del", port], { allowFail: true });
    await run("ip", ["link", "add", "name", hostDev, "netns", hostNs, "type", "veth", "peer", "name", port, "netns", fabricNs]);
  }
  await ipBatch(fabricNs, [`link set ${port} master ${bridge} alias ${JSON.stringify(alias)} up`]);
}

/**
 * Creates or repairs a host's netns and its NICs: eth0 on `pub` with the
 * public /32 and a default route via the fabric (so all public traffic,
 * even to a neighbour, passes the fabric's NAT and filters), and eth1 on
 * its VPC bridge with the private address and routes for the private
 * supernets via the VPC gateway (peering is enforced by the fabric).
 */
export async function plugHost(prefix: string, host: HostRecord, privateSupernets: readonly string[]): Promise<void> {
  const fabricNs = fabricNetnsName(prefix);
  const ns = host.netns;
  if (!netnsExists(ns)) await run("ip", ["netns", "add", ns]);
  await run("ip", ["-n", ns, "link", "set", "lo", "up"]);

  await ensureVeth(ns, "eth0", fabricNs, host.ports.pub, PUB_BRIDGE, `host ${host.name} eth0`);
  await ipBatch(ns, [
    `link set eth0 address ${stableMac(`${prefix}:${host.name}:eth0`)} up`,
    `addr replace ${host.publicIp}/32 dev eth0`,
    `route replace default via ${host.publicGateway} dev eth0 onlink`,
  ]);

  if (host.vpc && host.ports.vpc) {
    const vpc = host.vpc;
    await ensureVeth(ns, "eth1", fabricNs, host.ports.vpc, vpc.bridge, `host ${host.name} eth1`);
    await ipBatch(ns, [
      `link set eth1 address ${stableMac(`${prefix}:${host.name}:eth1`)} up`,
      `addr replace ${vpc.privateIp}/${vpc.prefixLen} dev eth1`,
      // All private space goes to the fabric; the VPC itself stays on-link (more specific).
      ...privateSupernets.map((s) => `route replace ${s} via ${vpc.gateway} dev eth1`),
    ]);
  }
  const nics = host.vpc ? ["eth0", "eth1"] : ["eth0"];
  // IPv4-only like a default droplet: no link-local IPv6 path that would
  // bypass the fabric's IPv4 rules. lo keeps ::1, so "listen [::]:80" still works.
  await runInNetns(ns, "sysctl", ["-q", "-w", ...nics.map((n) => `net.ipv6.conf.${n}.disable_ipv6=1`)]);
}

/** Removes a host's veths (fabric side), netns and /etc/netns files. Missing parts are fine. */
export async function removeHostPlumbing(prefix: string, hostName: string, netns: string): Promise<void> {
  const fabricNs = fabricNetnsName(prefix);
  if (netnsExists(fabricNs)) {
    const ports = hostPortNames(hostName);
    for (const port of [ports.pub, ports.vpc]) await run("ip", ["-n", fabricNs, "link", "del", port], { allowFail: true });
  }
  if (netnsExists(netns)) await run("ip", ["netns", "del", netns]);
  fs.rmSync(netnsEtcDir(netns), { recursive: true, force: true });
}

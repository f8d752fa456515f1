import path from "node:path";
import { addressIndex, ipInCidr, parseIpv4 } from "./cidr";
import { hostNetnsName, hostPortNames, publicGatewayFor, validateHostName } from "./addressPlan";
import { Fabric, mutateFabric } from "./fabric";
import type { FabricState, HostRecord } from "./fabricState";
import { NetnsEtc, plugHost, removeHostPlumbing, writeNetnsEtc } from "./hostPlumbing";
import { flushConntrackFor } from "./reservedIp";

/** Options of {@link createHostNetns}. */
export interface CreateHostOptions extends NetnsEtc {
  fabric: Fabric;
  /** Droplet (or special host) name; the netns is `<prefix>-h-<name>`. */
  name: string;
  /** Public IPv4 (from the plan's droplet or services range). */
  publicIp: string;
  /** Private NIC on a VPC bridge (as returned by ensureVpc); omit for special hosts. */
  vpc?: { bridge: string; privateIp: string; prefixLen: number };
  /**
   * Region for latency. Defaults to the VPC's region; hosts without one
   * (client, admin, dns) are "the internet" and never delayed.
   */
  region?: string;
}

/** Path of a host's netns (what systemd-nspawn's --network-namespace-path wants). */
export function hostNetnsPath(fabric: Fabric, name: string): string {
  return path.join("/run/netns", hostNetnsName(fabric.prefix, name));
}

function buildRecord(state: FabricState, opts: CreateHostOptions): HostRecord {
  const name = validateHostName(opts.name);
  parseIpv4(opts.publicIp);
  const netns = hostNetnsName(state.prefix, name);
  const ports = hostPortNames(name);
  const record: HostRecord = {
    name,
    netns,
    publicIp: opts.publicIp,
    publicGateway: publicGatewayFor(state.plan, opts.publicIp),
    ports: { pub: ports.pub },
  };
  if (opts.vpc) {
    const vpc = Object.values(state.vpcs).find((v) => v.bridge === opts.vpc?.bridge);
    if (!vpc) throw new Error(`host ${name}: no VPC with bridge ${opts.vpc.bridge} (call ensureVpc first)`);
    if (opts.vpc.prefixLen !== vpc.prefixLen) throw new Error(`host ${name}: prefixLen ${opts.vpc.prefixLen} does not match VPC ${vpc.name} (${vpc.ipRange})`);
    if (!ipInCidr(opts.vpc.privateIp, vpc.ipRange) || addressIndex(vpc.ipRange, opts.vpc.privateIp) < 2) {
      throw new Error(`host ${name}: private IP ${opts.vpc.privateIp} is not a host address of ${vpc.ipRange} above the gateway`);
    }
    record.vpc = { name: vpc.name, bridge: vpc.bridge, privateIp: opts.vpc.privateIp, prefixLen: vpc.prefixLen, gateway: vpc.gateway };
    record.ports.vpc = ports.vpc;
    record.region = vpc.region;
  }
  if (opts.region !== undefined) record.region = opts.region || undefined;
  for (const other of Object.values(state.hosts)) {
    if (other.name === name) continue;
    if (other.publicIp === record.publicIp) throw new Error(`host ${name}: public IP ${record.publicIp} is used by ${other.name}`);
    if (record.vpc && other.vpc?.privateIp === record.vpc.privateIp && other.vpc.name === record.vpc.name) {
      throw new Error(`host ${name}: private IP ${record.vpc.privateIp} is used by ${other.name}`);
    }
  }
  return record;
}

/**
 * Creates a host's network namespace wired to the fabric and returns its
 * path (/run/netns/<prefix>-h-<name>). Idempotent: calling it again with the
 * same arguments repairs and keeps the netns (processes inside survive);
 * different addresses for an existing host are an error.
 */
export async function createHostNetns(opts: CreateHostOptions): Promise<string> {
  const { fabric } = opts;
  await mutateFabric(fabric, async (state) => {
    const record = buildRecord(state, opts);
    const old = state.hosts[record.name];
    if (old && JSON.stringify(old) !== JSON.stringify(record)) {
      throw new Error(`host ${record.name} already exists with different addresses; destroy it first`);
    }
    state.hosts[record.name] = record;
    await plugHost(fabric.prefix, record, state.plan.privateSupernets);
    writeNetnsEtc(record.netns, opts);
  });
  return hostNetnsPath(fabric, opts.name);
}

/**
 * Removes a host: its reserved IPs become unassigned (dropped), its faults
 * are forgotten, its veths and netns are deleted. Processes still inside
 * the netns are not killed (their owner stops them; see destroyAll).
 * Missing host is fine.
 */
export async function destroyHostNetns(fabric: Fabric, name: string): Promise<void> {
  const freed = await mutateFabric(fabric, (state) => {
    const ips = Object.entries(state.reservedIps)
      .filter(([, holder]) => holder === name)
      .map(([ip]) => ip);
    for (const ip of ips) state.reservedIps[ip] = null;
    delete state.hosts[name];
    state.blackholed = state.blackholed.filter((h) => h !== name);
    return ips;
  });
  await flushConntrackFor(fabric.netns, freed);
  await removeHostPlumbing(fabric.prefix, name, hostNetnsName(fabric.prefix, name));
}

/** Names and netns paths of the lab's special hosts. */
export interface SpecialHosts {
  client: string;
  admin: string;
  dns: string;
}

/**
 * Creates the special hosts on the public network: `client` and `admin`
 * (resolv.conf pointing at the lab DNS) and `dns` (where BIND runs).
 */
export async function createSpecialHosts(fabric: Fabric, plan: { clientIp: string; adminIp: string; dnsIp: string }): Promise<SpecialHosts> {
  const nameservers = [plan.dnsIp];
  const [client, admin, dns] = await Promise.all([
    createHostNetns({ fabric, name: "client", publicIp: plan.clientIp, nameservers }),
    createHostNetns({ fabric, name: "admin", publicIp: plan.adminIp, nameservers }),
    createHostNetns({ fabric, name: "dns", publicIp: plan.dnsIp }),
  ]);
  return { client, admin, dns };
}

/**
 * The lab's network layer: a fabric netns that plays the internet, VPCs,
 * VPC peering and inter-region latency; one netns per droplet; reserved IPs;
 * faults; the emulated DigitalOcean cloud firewall; cleanup.
 */
export type { AddressPlan } from "./addressPlan";
export { DEFAULT_ADDRESS_PLAN, adminCidr, hostNetnsName, makeAddressPlan } from "./addressPlan";
export { allocatePrivateIp, allocatePublicIp } from "./allocate";
export type { DestroyReport } from "./destroyAll";
export { destroyAll, registerLabProcess, unregisterLabProcess } from "./destroyAll";
export type { CreateFabricOptions, Fabric, VpcSpec } from "./fabric";
export { createFabric, destroyFabric, ensureVpc, fabricState, openFabric, peer, removeVpc, unpeer } from "./fabric";
export { checkFabric } from "./fabricHealth";
export type { FabricState, HostRecord, VpcRecord } from "./fabricState";
export { labRunDir } from "./fabricState";
export { blackhole, heal, healAll, listFaults, partition, setLatency, unblackhole } from "./faults";
export { regionPairKey } from "./pairLatency";
export { applyFirewall, removeFirewall, showFirewall } from "./firewallApply";
export { CLOUDFW_TABLE, firewallsForDroplet, renderFirewallNft } from "./firewallRender";
export type { DoFirewall, DoFirewallInboundRule, DoFirewallOutboundRule, FirewallDroplet, FirewallRenderInput } from "./firewallTypes";
export { indexDropletsByTag } from "./firewallTypes";
export type { CreateHostOptions, SpecialHosts } from "./hostNetns";
export { createHostNetns, createSpecialHosts, destroyHostNetns, hostNetnsPath } from "./hostNetns";
export type { NetnsEtc } from "./hostPlumbing";
export { writeNetnsEtc } from "./hostPlumbing";
export { allocateReservedIp, assignReservedIp, releaseReservedIp, reservedIpHolder } from "./reservedIp";

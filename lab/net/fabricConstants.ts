/**
 * Fixed names and numbers of the fabric's plumbing. Everything lives inside
 * the lab's own namespaces, so these never clash with the host.
 */

/** nftables table (family inet) holding routing policy, NAT and latency marks. */
export const FABRIC_TABLE = "drr_fabric";
/** nftables table (family bridge) holding per-port faults (blackholes). */
export const FABRIC_L2_TABLE = "drr_fabric_l2";

/**
 * The kernel here has no sch_netem, so inter-region latency is made by
 * routing marked packets through a VXLAN loop whose UDP underlay passes a
 * userspace relay that holds each datagram for the configured delay:
 * fabric --dly-out--> relay (own netns) --> dly-in --> fabric.
 */
export const DELAY_OUT_DEV = "dly-out";
/** VXLAN device where delayed packets re-enter the fabric. */
export const DELAY_IN_DEV = "dly-in";
/** Fabric-side veth towards the relay netns (the VXLAN underlay). */
export const DELAY_UNDERLAY_DEV = "dlyu";
/** fwmark (and routing table number) selecting the delay loop. */
export const LATENCY_MARK = 1;
/** Routing table used for marked packets. */
export const LATENCY_ROUTE_TABLE = 100;
/** UDP port the relay listens on (dly-out sends here). */
export const RELAY_PORT = 4790;
/** UDP port of dly-in (the relay sends here). */
export const VXLAN_IN_PORT = 4789;
/** Underlay link: fabric side, relay side (a /30). */
export const UNDERLAY_FABRIC_IP = "169.254.79.1";
export const UNDERLAY_RELAY_IP = "169.254.79.2";
export const UNDERLAY_NET = "169.254.79.0/30";
/** Overlay addresses: dly-out's own, its (virtual) next hop, dly-in's own. */
export const OVERLAY_OUT_IP = "169.254.77.1";
export const OVERLAY_NEXT_HOP = "169.254.77.2";
export const OVERLAY_IN_IP = "169.254.78.1";

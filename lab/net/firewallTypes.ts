/**
 * DigitalOcean cloud firewall, shaped like the plain values of
 * @pulumi/digitalocean's FirewallArgs (inputs.FirewallInboundRule /
 * FirewallOutboundRule), so the mock cloud can pass what the program gave it.
 */

/** One inbound rule (FirewallInboundRule). */
export interface DoFirewallInboundRule {
  /** "tcp" | "udp" | "icmp". */
  protocol: string;
  /** "80", "8000-9000", "1-65535" or "all"; required by DO for tcp/udp, ignored for icmp. */
  portRange?: string;
  /** "allow" (default) or "deny". */
  action?: string;
  sourceAddresses?: string[];
  sourceTags?: string[];
  sourceDropletIds?: number[];
  /** Not emulated by the lab: a non-empty list is an error. */
  sourceLoadBalancerUids?: string[];
  /** Not emulated by the lab: a non-empty list is an error. */
  sourceKubernetesIds?: string[];
}

/** One outbound rule (FirewallOutboundRule). */
export interface DoFirewallOutboundRule {
  protocol: string;
  portRange?: string;
  action?: string;
  destinationAddresses?: string[];
  destinationTags?: string[];
  destinationDropletIds?: number[];
  /** Not emulated by the lab: a non-empty list is an error. */
  destinationLoadBalancerUids?: string[];
  /** Not emulated by the lab: a non-empty list is an error. */
  destinationKubernetesIds?: string[];
}

/** A cloud firewall (FirewallArgs). Applies to droplets holding any of `tags` or listed in `dropletIds`. */
export interface DoFirewall {
  name?: string;
  tags?: string[];
  dropletIds?: number[];
  inboundRules?: DoFirewallInboundRule[];
  outboundRules?: DoFirewallOutboundRule[];
}

/** The droplet a rule set is rendered for. */
export interface FirewallDroplet {
  name: string;
  /** Numeric droplet ID, matched against firewalls' dropletIds. */
  id?: number;
  tags: string[];
  /** Its public and private addresses. */
  addresses: string[];
}

/** Input of renderFirewallNft. */
export interface FirewallRenderInput {
  droplet: FirewallDroplet;
  /** All firewalls of the account; the renderer picks those that apply to the droplet. */
  firewalls: DoFirewall[];
  /** Tag -> current public and private addresses of every droplet holding it. */
  dropletsByTag: ReadonlyMap<string, readonly string[]>;
  /** Droplet ID -> its addresses, for source/destinationDropletIds. */
  dropletsById?: ReadonlyMap<number, readonly string[]>;
  /**
   * Reserved IPs currently pointing at the droplet. The fabric DNATs them to
   * the droplet's public IP before delivery, so they never appear as a
   * destination here; they are listed in the output for the reader only.
   */
  reservedIpsOfDroplet: string[];
}

/**
 * Builds the tag index the renderer needs from a list of droplets.
 */
export function indexDropletsByTag(droplets: readonly { tags: readonly string[]; addresses: readonly string[] }[]): Map<string, string[]> {
  const byTag = new Map<string, string[]>();
  for (const d of droplets) {
    for (const tag of d.tags) byTag.set(tag, [...(byTag.get(tag) ?? []), ...d.addresses]);
  }
  return byTag;
}

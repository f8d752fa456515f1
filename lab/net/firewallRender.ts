import { ipFamily, mergeCidrs } from "./cidr";
import type { DoFirewall, FirewallDroplet, FirewallRenderInput } from "./firewallTypes";

/** nftables table (family inet) holding the emulated cloud firewall in a droplet's netns. */
export const CLOUDFW_TABLE = "drr_cloudfw";

/** Firewalls that apply to a droplet: by any shared tag or by droplet ID. */
export function firewallsForDroplet(droplet: FirewallDroplet, firewalls: readonly DoFirewall[]): DoFirewall[] {
  return firewalls.filter(
    (fw) => (fw.tags ?? []).some((t) => droplet.tags.includes(t)) || (droplet.id !== undefined && (fw.dropletIds ?? []).includes(droplet.id)),
  );
}

/**
 * Parses a DO port range: undefined, "all", "0" and "1-65535" mean every
 * port (returns undefined); otherwise "N" or "N-M" within 1..65535.
 */
export function parsePortRange(portRange: string | undefined): string | undefined {
  if (portRange === undefined || portRange === "" || portRange === "all" || portRange === "0" || portRange === "1-65535") return undefined;
  const single = /^([0-9]{1,5})$/.exec(portRange);
  const range = /^([0-9]{1,5})-([0-9]{1,5})$/.exec(portRange);
  const ok = (n: number): boolean => n >= 1 && n <= 65535;
  if (single && ok(Number(single[1]))) return String(Number(single[1]));
  if (range && ok(Number(range[1])) && ok(Number(range[2])) && Number(range[1]) <= Number(range[2])) {
    return range[1] === range[2] ? String(Number(range[1])) : `${Number(range[1])}-${Number(range[2])}`;
  }
  throw new Error(`invalid firewall portRange ${JSON.stringify(portRange)}`);
}

function comment(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?");
}

interface RuleSpec {
  fwName: string;
  direction: "inbound" | "outbound";
  index: number;
  protocol: string;
  portRange?: string;
  action?: string;
  addresses: string[];
  tags: string[];
  dropletIds: number[];
  unsupported: string[];
}

/** Renders the nft statements (without verdict comment) for one rule. */
function renderRule(spec: RuleSpec, input: FirewallRenderInput): string[] {
  const protocol = spec.protocol.toLowerCase();
  if (protocol !== "tcp" && protocol !== "udp" && protocol !== "icmp") {
    throw new Error(`firewall ${spec.fwName}: unsupported protocol ${JSON.stringify(spec.protocol)}`);
  }
  if (spec.unsupported.length > 0) {
    throw new Error(`firewall ${spec.fwName}: ${spec.unsupported.join(", ")} are not emulated by the lab`);
  }
  const action = (spec.action ?? "allow").toLowerCase();
  if (action !== "allow" && action !== "deny") throw new Error(`firewall ${spec.fwName}: unsupported action ${JSON.stringify(spec.action)}`);
  const verdict = action === "allow" ? "accept" : "drop";
  const ports = protocol === "icmp" ? undefined : parsePortRange(spec.portRange);

  const peers = [
    ...spec.addresses,
    ...spec.tags.flatMap((t) => input.dropletsByTag.get(t) ?? []),
    ...spec.dropletIds.flatMap((id) => input.dropletsById?.get(id) ?? []),
  ];
  const v4 = mergeCidrs(peers.filter((a) => ipFamily(a) === 4));
  const v6 = mergeCidrs(peers.filter((a) => ipFamily(a) === 6));
  const dir = spec.direction === "inbound" ? "saddr" : "daddr";
  const what = `${protocol}${ports ? ` ${ports}` : ""} ${spec.direction === "inbound" ? "from" : "to"} ${
    [...spec.addresses, ...spec.tags.map((t) => `tag:${t}`), ...spec.dropletIds.map((d) => `droplet:${d}`)].join(" ") || "nothing"
  }`;
  const lines = [`    # ${comment(spec.fwName)} ${spec.direction}[${spec.index}] ${action} ${comment(what)}`];

  const l4 = (family: 4 | 6): string => {
    if (protocol === "icmp") return family === 4 ? "meta l4proto icmp" : "meta l4proto ipv6-icmp";
    return ports ? `${protocol} dport ${ports}` : `meta l4proto ${protocol}`;
  };
  const addrMatch = (family: 4 | 6, list: string[]): string => {
    const any = family === 4 ? "0.0.0.0/0" : "::/0";
    if (list.includes(any)) return family === 4 ? "meta nfproto ipv4" : "meta nfproto ipv6";
    return `${family === 4 ? "ip" : "ip6"} ${dir} { ${list.join(", ")} }`;
  };
  if (v4.length > 0) lines.push(`    ${addrMatch(4, v4)} ${l4(4)} ${verdict}`);
  if (v6.length > 0) lines.push(`    ${addrMatch(6, v6)} ${l4(6)} ${verdict}`);
  if (v4.length === 0 && v6.length === 0) lines.push("    # (no peer addresses: matches nothing)");
  return lines;
}

function collectRules(firewalls: readonly DoFirewall[]): RuleSpec[] {
  const specs: RuleSpec[] = [];
  firewalls.forEach((fw, f) => {
    const fwName = fw.name ?? `firewall#${f}`;
    (fw.inboundRules ?? []).forEach((r, index) =>
      specs.push({
        fwName,
        direction: "inbound",
        index,
        protocol: r.protocol,
        portRange: r.portRange,
        action: r.action,
        addresses: r.sourceAddresses ?? [],
        tags: r.sourceTags ?? [],
        dropletIds: r.sourceDropletIds ?? [],
        unsupported: [
          ...((r.sourceLoadBalancerUids ?? []).length > 0 ? ["sourceLoadBalancerUids"] : []),
          ...((r.sourceKubernetesIds ?? []).length > 0 ? ["sourceKubernetesIds"] : []),
        ],
      }),
    );
    (fw.outboundRules ?? []).forEach((r, index) =>
      specs.push({
        fwName,
        direction: "outbound",
        index,
        protocol: r.protocol,
        portRange: r.portRange,
        action: r.action,
        addresses: r.destinationAddresses ?? [],
        tags: r.destinationTags ?? [],
        dropletIds: r.destinationDropletIds ?? [],
        unsupported: [
          ...((r.destinationLoadBalancerUids ?? []).length > 0 ? ["destinationLoadBalancerUids"] : []),
          ...((r.destinationKubernetesIds ?? []).length > 0 ? ["destinationKubernetesIds"] : []),
        ],
      }),
    );
  });
  return specs;
}

/** Keeps the first occurrence of each non-comment line (overlapping firewalls repeat rules). */
function dedupe(lines: string[]): string[] {
  const seen = new Set<string>();
  return lines.filter((l) => {
    if (l.trimStart().startsWith("#")) return true;
    if (seen.has(l)) return false;
    seen.add(l);
    return true;
  });
}

/**
 * Renders the emulated DigitalOcean cloud firewall of one droplet as an
 * `nft -f` script that atomically replaces table inet drr_cloudfw. Pure.
 *
 * Semantics (DigitalOcean's): a droplet with no firewall is open; a droplet
 * with one or more firewalls gets the union of their rules, everything else
 * is dropped silently in both directions (no outbound rules = no outbound
 * traffic), and return traffic of allowed connections is always allowed
 * (stateful). Tags and droplet IDs resolve to the droplets' current
 * addresses. Deny rules (the newer `action` field) are checked before allows.
 * IPv6 neighbour discovery is always allowed: DO filters outside the
 * droplet, where it never sees ND.
 */
/** The droplet's own network interfaces (public, private), the only ones a cloud firewall filters. */
export const DROPLET_NICS = ["eth0", "eth1"] as const;

export function renderFirewallNft(input: FirewallRenderInput): string {
  const applying = firewallsForDroplet(input.droplet, input.firewalls);
  const header = [
    `# generated by lab/net/firewallRender.ts for droplet ${comment(input.droplet.name)}`,
    `# firewalls: ${applying.map((f, i) => comment(f.name ?? `firewall#${i}`)).join(", ") || "(none: droplet is open)"}`,
    `# reserved IPs delivered here (DNAT to its public IP): ${input.reservedIpsOfDroplet.join(", ") || "(none)"}`,
    `table inet ${CLOUDFW_TABLE}`,
    `delete table inet ${CLOUDFW_TABLE}`,
    `table inet ${CLOUDFW_TABLE} {`,
  ];
  if (applying.length === 0) {
    return [
      ...header,
      "  chain input {",
      "    type filter hook input priority filter; policy accept;",
      "  }",
      "  chain output {",
      "    type filter hook output priority filter; policy accept;",
      "  }",
      "}",
      "",
    ].join("\n");
  }
  const specs = collectRules(applying);
  const chain = (name: "input" | "output", direction: "inbound" | "outbound"): string[] => {
    const mine = specs.filter((s) => s.direction === direction);
    const isDeny = (s: RuleSpec): boolean => (s.action ?? "allow").toLowerCase() === "deny";
    const body = [...mine.filter(isDeny), ...mine.filter((s) => !isDeny(s))].flatMap((s) => renderRule(s, input));
    return [
      `  chain ${name} {`,
      `    type filter hook ${name} priority filter; policy drop;`,
      // A cloud firewall sits outside the droplet and sees only its NICs: traffic on lo or on
      // links the droplet builds itself (e.g. VRRP inside the LBs' VXLAN) is not its business.
      `    ${name === "input" ? "iifname" : "oifname"} != { ${DROPLET_NICS.map((n) => `"${n}"`).join(", ")} } accept`,
      "    ct state established,related accept",
      "    ct state invalid drop",
      "    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept",
      ...dedupe(body),
      "  }",
    ];
  };
  return [...header, ...chain("input", "inbound"), ...chain("output", "outbound"), "}", ""].join("\n");
}

/** An inbound rule of a digitalocean.Firewall, as the policies read it. */
export interface InboundRuleProps {
    readonly protocol?: string;
    readonly portRange?: string;
    readonly sourceAddresses?: readonly string[];
    readonly sourceTags?: readonly string[];
}

export interface FirewallProps {
    readonly name?: string;
    readonly inboundRules?: readonly InboundRuleProps[];
}

/** The ports a rule opens: DigitalOcean reads no range, "", "0" and "all" as every port. */
export function portsOf(rule: InboundRuleProps): { from: number; to: number } {
    const range = (rule.portRange ?? "").trim();
    if (range === "" || range === "0" || range === "all") return { from: 1, to: 65535 };
    const m = /^(\d+)(?:-(\d+))?$/.exec(range);
    // A range the policy cannot read is taken as every port: a policy fails closed.
    if (!m) return { from: 1, to: 65535 };
    return { from: Number(m[1]), to: Number(m[2] ?? m[1]) };
}

/** "tcp/22", "udp/1-65535", "icmp": how a message names a rule. */
export function describeRule(rule: InboundRuleProps): string {
    const protocol = rule.protocol ?? "(no protocol)";
    return protocol === "icmp" ? protocol : `${protocol}/${rule.portRange ?? "all"}`;
}

/** Each inbound rule with its position, for messages such as "inboundRules[3]". */
export function inboundRules(fw: FirewallProps): { rule: InboundRuleProps; at: string }[] {
    return (fw.inboundRules ?? []).map((rule, i) => ({ rule, at: `inboundRules[${i}]` }));
}

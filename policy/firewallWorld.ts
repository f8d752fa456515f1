import * as digitalocean from "@pulumi/digitalocean";
import { ResourceValidationPolicy } from "@pulumi/policy";
import { isWholeInternet } from "./cidr";
import { describeRule, FirewallProps, inboundRules, portsOf } from "./firewallRules";
import { validateWith } from "./validation";

/** What the internet may reach: TCP 80 and 443, one port per rule. */
const PUBLIC_TCP_PORTS = [80, 443];

/** Every inbound rule that opens anything but TCP 80 or 443 to 0.0.0.0/0 or ::/0. */
export function worldOpenViolations(fw: FirewallProps): string[] {
    const violations: string[] = [];
    for (const { rule, at } of inboundRules(fw)) {
        const world = (rule.sourceAddresses ?? []).filter(isWholeInternet);
        if (world.length === 0) continue;
        const { from, to } = portsOf(rule);
        const allowed = rule.protocol === "tcp" && from === to && PUBLIC_TCP_PORTS.includes(from);
        if (!allowed) {
            violations.push(`${at} opens ${describeRule(rule)} to the whole internet (${world.join(", ")}); only tcp/80 and tcp/443 may be public: restrict its sourceAddresses or use sourceTags`);
        }
    }
    return violations;
}

export const firewallWorldPolicy: ResourceValidationPolicy = {
    name: "firewall-public-only-http-https",
    description: "No firewall inbound rule opens anything but TCP 80/443 to the world (0.0.0.0/0 or ::/0).",
    enforcementLevel: "mandatory",
    validateResource: validateWith(digitalocean.Firewall, (fw) => worldOpenViolations(fw)),
};

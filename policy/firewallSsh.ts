import * as digitalocean from "@pulumi/digitalocean";
import { ResourceValidationPolicy } from "@pulumi/policy";
import { cidrWithin } from "./cidr";
import { describeRule, FirewallProps, inboundRules, portsOf } from "./firewallRules";
import { validateWith } from "./validation";

const SSH_PORT = 22;

/** The pack config of this policy (`--policy-pack-config`), e.g. { "allowedCidrs": ["203.0.113.7/32"] }. */
export interface SshPolicyConfig {
    readonly allowedCidrs: readonly string[];
}

/**
 * Every inbound rule that lets SSH (TCP 22, alone or in a range) in from an address outside the
 * allowed admin CIDRs. Sources by tag (droplets of the stack) are not addresses and pass.
 */
export function sshSourceViolations(fw: FirewallProps, config: SshPolicyConfig): string[] {
    const violations: string[] = [];
    for (const { rule, at } of inboundRules(fw)) {
        const { from, to } = portsOf(rule);
        if (rule.protocol !== "tcp" || SSH_PORT < from || SSH_PORT > to) continue;
        for (const source of rule.sourceAddresses ?? []) {
            if (config.allowedCidrs.some((allowed) => cidrWithin(source, allowed))) continue;
            violations.push(`${at} (${describeRule(rule)}) lets SSH in from ${source}, which is outside the allowed admin CIDRs [${config.allowedCidrs.join(", ")}]; set the policy's allowedCidrs or narrow the rule`);
        }
    }
    return violations;
}

export const firewallSshPolicy: ResourceValidationPolicy = {
    name: "firewall-ssh-only-from-admin-cidrs",
    description: "SSH (TCP 22) is open only to the admin CIDRs in the policy's config (allowedCidrs), never to the world.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            allowedCidrs: {
                type: "array",
                items: { type: "string" },
                default: [],
                description: "CIDR blocks allowed to reach port 22, e.g. [\"203.0.113.7/32\"]: the stack's dns-rr-ha:adminCidrs",
            },
        },
    },
    validateResource: validateWith(digitalocean.Firewall, (fw, config: SshPolicyConfig) => sshSourceViolations(fw, config)),
};

import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import { Role } from "../droplet/roleDroplet";
import { parseCidr } from "../config/cidr";
import { firewallMatrix } from "./firewallMatrix";

export interface FirewallsArgs {
    /**
     * Stack-scoped tag of each role, e.g. { lb: "prod-lb", ... }; droplets carry these tags.
     * The tags must exist before the firewalls: pass the `digitalocean.Tag` resources in `dependsOn`.
     */
    readonly roleTags: Readonly<Record<Role, string>>;
    /** Sources allowed to SSH into every droplet. */
    readonly adminCidrs: readonly string[];
}

/** One DigitalOcean cloud firewall per role, applied by tag, enforcing {@link firewallMatrix}. */
export class Firewalls extends pulumi.ComponentResource {
    public readonly firewallIds: Record<Role, pulumi.Output<string>>;

    public static validateArgs(args: FirewallsArgs): void {
        if (args.adminCidrs.length === 0) throw new Error("FirewallsArgs.adminCidrs must list at least one CIDR: SSH would be unreachable");
        args.adminCidrs.forEach((c, i) => {
            const p = parseCidr(c);
            if (!p) throw new Error(`FirewallsArgs.adminCidrs[${i}] "${c}" is not a CIDR block`);
            if (p.prefix === 0) throw new Error(`FirewallsArgs.adminCidrs[${i}] "${c}" opens SSH to the whole internet; give a narrower range`);
        });
    }

    constructor(name: string, args: FirewallsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dns-rr-ha:firewall:Firewalls", name, args, opts);
        Firewalls.validateArgs(args);
        const ids: Partial<Record<Role, pulumi.Output<string>>> = {};
        for (const policy of firewallMatrix((r) => args.roleTags[r], args.adminCidrs)) {
            const fw = new digitalocean.Firewall(`${name}-${policy.role}`, {
                tags: [args.roleTags[policy.role]],
                inboundRules: policy.inbound.map((r) => ({
                    protocol: r.protocol,
                    portRange: r.portRange,
                    sourceAddresses: r.sourceAddresses ? [...r.sourceAddresses] : undefined,
                    sourceTags: r.sourceTags ? [...r.sourceTags] : undefined,
                })),
                outboundRules: policy.outbound.map((r) => ({
                    protocol: r.protocol,
                    portRange: r.portRange,
                    destinationAddresses: [...r.destinationAddresses],
                })),
            }, { parent: this });
            ids[policy.role] = fw.id;
        }
        this.firewallIds = ids as Record<Role, pulumi.Output<string>>;
        this.registerOutputs({ firewallIds: this.firewallIds });
    }
}

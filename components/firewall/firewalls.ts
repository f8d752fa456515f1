import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import { Role, ROLES } from "../droplet/roleDroplet";
import { assertTagName } from "../droplet/tier";
import { assertArgs, assertCidrList, assertRecord, show } from "../validation/assert";
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
        const { roleTags, adminCidrs } = assertArgs("FirewallsArgs", args);
        assertRecord("FirewallsArgs.roleTags", roleTags, `must map each role (${ROLES.join(", ")}) to the tag its droplets carry`);
        for (const role of ROLES) {
            assertTagName(`FirewallsArgs.roleTags.${role}`, roleTags[role]);
        }
        assertCidrList("FirewallsArgs.adminCidrs", adminCidrs, "must list at least one CIDR: SSH would be unreachable", false);
        adminCidrs.forEach((c, i) => {
            if (parseCidr(c)?.prefix === 0) throw new Error(`FirewallsArgs.adminCidrs[${i}] ${show(c)} opens SSH to the whole internet; give a narrower range`);
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

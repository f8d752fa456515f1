import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import { ipv4Overlaps, parseCidr } from "../config/cidr";
import { validateRegionList } from "../droplet/tier";
import { assertArgs, assertString, show } from "../validation/assert";

export interface NetworkArgs {
    /** One VPC per entry, in this order. At least one; two or more are peered pairwise. */
    readonly regions: readonly {
        /** DigitalOcean region slug. */
        readonly region: string;
        /** The VPC's private IPv4 range; ranges must not overlap, or peering is refused. */
        readonly ipRange: string;
    }[];
}

/**
 * A VPC per region, every pair peered (`VpcPeering`), so the tiers reach each other on private
 * addresses across regions: replication and session traffic never crosses the public internet.
 */
export class Network extends pulumi.ComponentResource {
    /** VPC id by region slug. */
    public readonly vpcIds: Record<string, pulumi.Output<string>>;
    /** VPC IPv4 range by region slug. */
    public readonly ipRanges: Record<string, string>;
    public readonly vpcs: Record<string, digitalocean.Vpc>;

    /** Throws an error naming the field when the args cannot describe a valid peered network. */
    public static validateArgs(args: NetworkArgs): void {
        const { regions } = assertArgs("NetworkArgs", args);
        validateRegionList("NetworkArgs.regions", regions, {
            shape: "{ region, ipRange }", min: 1, tooFew: () => "must list at least one region", once: "one VPC per region",
            item: (field, r) => assertString(`${field}.ipRange`, r.ipRange, "must be an IPv4 CIDR from /16 to /28", (c) => {
                const cidr = parseCidr(c);
                return cidr !== undefined && cidr.family === 4 && cidr.prefix >= 16 && cidr.prefix <= 28;
            }),
        });
        const ranges = regions.map((r) => r.ipRange as string);
        ranges.forEach((r, i) => ranges.slice(0, i).forEach((o, j) => {
            if (ipv4Overlaps(o, r)) throw new Error(`NetworkArgs.regions[${j}].ipRange ${show(o)} and regions[${i}].ipRange ${show(r)} overlap; peered VPCs need distinct ranges`);
        }));
    }

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dns-rr-ha:network:Network", name, args, opts);
        Network.validateArgs(args);
        this.vpcs = {};
        this.vpcIds = {};
        this.ipRanges = {};
        for (const { region, ipRange } of args.regions) {
            const vpc = new digitalocean.Vpc(`${name}-${region}`, {
                region,
                ipRange,
                description: `dns-rr-ha ${name}: private network of ${region}`,
            }, { parent: this });
            this.vpcs[region] = vpc;
            this.vpcIds[region] = vpc.id;
            this.ipRanges[region] = ipRange;
        }
        const regions = args.regions.map((r) => r.region);
        regions.forEach((a, i) => regions.slice(i + 1).forEach((b) => {
            new digitalocean.VpcPeering(`${name}-${a}-${b}`, {
                vpcIds: [this.vpcs[a]!.id, this.vpcs[b]!.id],
            }, { parent: this });
        }));
        this.registerOutputs({ vpcIds: this.vpcIds, ipRanges: this.ipRanges });
    }
}

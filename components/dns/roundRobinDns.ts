import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";

/** One address clients may connect to: a region's reserved IP. */
export interface EntryPoint {
    readonly region: string;
    readonly ipv4: pulumi.Input<string>;
    /** Published as AAAA when set. */
    readonly ipv6?: pulumi.Input<string>;
}

export interface RoundRobinDnsArgs {
    /** The DigitalOcean domain, e.g. "example.com". */
    readonly domain: string;
    /** Create the domain, or add records to one already in the account. */
    readonly createDomain: boolean;
    /** "@" for the apex or a label such as "www"; every entry point gets a record of this name. */
    readonly recordName: string;
    /** Seconds; DigitalOcean's minimum is 30. Short, because clients only move to another entry point after their cache expires. */
    readonly ttl: number;
    readonly entryPoints: readonly EntryPoint[];
}

/** The round-robin name: one A (and AAAA) record per entry point, all with the same name and TTL. */
export class RoundRobinDns extends pulumi.ComponentResource {
    /** The fully qualified site name. */
    public readonly fqdn: string;
    public readonly records: digitalocean.DnsRecord[];
    /** The domain's URN when this component created it (for the project), else undefined. */
    public readonly domainUrn: pulumi.Output<string> | undefined;

    public static validateArgs(args: RoundRobinDnsArgs): void {
        if (!Number.isInteger(args.ttl) || args.ttl < 30) throw new Error(`RoundRobinDnsArgs.ttl ${args.ttl} must be a whole number of seconds, at least 30 (DigitalOcean's minimum)`);
        if (args.entryPoints.length < 2) throw new Error(`RoundRobinDnsArgs.entryPoints has ${args.entryPoints.length} entry; round-robin needs at least 2`);
        const regions = args.entryPoints.map((e) => e.region);
        const dup = regions.find((r, i) => regions.indexOf(r) !== i);
        if (dup) throw new Error(`RoundRobinDnsArgs.entryPoints lists region "${dup}" twice; one entry point per region`);
        if (!/^(@|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/.test(args.recordName)) {
            throw new Error(`RoundRobinDnsArgs.recordName "${args.recordName}" must be "@" or a lowercase host label such as "www"`);
        }
    }

    constructor(name: string, args: RoundRobinDnsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dns-rr-ha:dns:RoundRobinDns", name, args, opts);
        RoundRobinDns.validateArgs(args);
        this.fqdn = args.recordName === "@" ? args.domain : `${args.recordName}.${args.domain}`;
        const created = args.createDomain ? new digitalocean.Domain(`${name}-domain`, { name: args.domain }, { parent: this }) : undefined;
        this.domainUrn = created?.domainUrn;
        const domainName: pulumi.Input<string> = created
            ? created.name
            : digitalocean.getDomainOutput({ name: args.domain }, { parent: this }).name;
        this.records = args.entryPoints.flatMap((e) => {
            const a = new digitalocean.DnsRecord(`${name}-a-${e.region}`, {
                domain: domainName, type: "A", name: args.recordName, value: e.ipv4, ttl: args.ttl,
            }, { parent: this });
            if (e.ipv6 === undefined) return [a];
            const aaaa = new digitalocean.DnsRecord(`${name}-aaaa-${e.region}`, {
                domain: domainName, type: "AAAA", name: args.recordName, value: e.ipv6, ttl: args.ttl,
            }, { parent: this });
            return [a, aaaa];
        });
        this.registerOutputs({ fqdn: this.fqdn });
    }
}

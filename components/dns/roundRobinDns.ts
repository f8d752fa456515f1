import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import { isIPv4, isIPv6 } from "node:net";
import { validateRegionList } from "../droplet/tier";
import { assertArgs, assertBoolean, assertInput, assertInt, assertString, isHostName } from "../validation/assert";

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

/** The record the round-robin publishes: domain, name and TTL (checked alike for the failover agents). */
export function validateRecordArgs(where: string, args: Readonly<Record<string, unknown>>): void {
    assertString(`${where}.domain`, args.domain, "must be a domain name such as \"example.com\"", (d) => d.includes(".") && isHostName(d));
    assertString(`${where}.recordName`, args.recordName, "must be \"@\" or a lowercase host label such as \"www\"", /^(@|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/);
    assertInt(`${where}.ttl`, args.ttl, 30, 86400, "must be a whole number of seconds, at least 30 (DigitalOcean's minimum) and at most 86400");
}

/**
 * Entry points: at least two, one per region, addresses as text or Outputs; `needs` says why two,
 * `item` checks what else an element carries.
 */
export function validateEntryPoints(field: string, value: unknown, needs: string, item?: (field: string, value: Readonly<Record<string, unknown>>) => void): void {
    validateRegionList(field, value, {
        shape: "{ region, ipv4, ipv6? }", min: 2, tooFew: (n) => `has ${n} entry point(s); ${needs}`, once: "one entry point per region",
        item: (f, e) => {
            assertInput(`${f}.ipv4`, e.ipv4, (v) => typeof v === "string" && isIPv4(v), "must be an IPv4 address (or an Output of one)");
            if (e.ipv6 !== undefined) assertInput(`${f}.ipv6`, e.ipv6, (v) => typeof v === "string" && isIPv6(v), "must be an IPv6 address (or an Output of one), or left out");
            item?.(f, e);
        },
    });
}

/** The round-robin name: one A (and AAAA) record per entry point, all with the same name and TTL. */
export class RoundRobinDns extends pulumi.ComponentResource {
    /** The fully qualified site name. */
    public readonly fqdn: string;
    public readonly records: digitalocean.DnsRecord[];
    /** The domain's URN when this component created it (for the project), else undefined. */
    public readonly domainUrn: pulumi.Output<string> | undefined;

    public static validateArgs(args: RoundRobinDnsArgs): void {
        const a = assertArgs("RoundRobinDnsArgs", args);
        validateRecordArgs("RoundRobinDnsArgs", a);
        assertBoolean("RoundRobinDnsArgs.createDomain", a.createDomain, "must be true (create the domain) or false (use one already in the account)");
        validateEntryPoints("RoundRobinDnsArgs.entryPoints", a.entryPoints, "round-robin needs at least 2");
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

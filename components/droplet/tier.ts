import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import { WiringConnection } from "../wiring/hostWiring";
import { HostAddresses, hostAddresses, Role, roleDroplet } from "./roleDroplet";
import {
    assertArgs, assertBoolean, assertInput, assertInputList, assertInt, assertList, assertRecord, assertString, firstRepeat, isNonEmptyString, show,
} from "../validation/assert";

/** Where a tier's droplets go, one entry per region. */
export interface TierRegion {
    /** DigitalOcean region slug. */
    readonly region: string;
    /** The region's VPC id. */
    readonly vpcUuid: pulumi.Input<string>;
}

/** Args every multi-region tier component shares. */
export interface TierArgs {
    readonly regions: readonly TierRegion[];
    /** Droplets of the tier in each region. */
    readonly perRegion: number;
    /** DigitalOcean size slug. */
    readonly size: string;
    /** Image slug, e.g. "debian-12-x64". */
    readonly image: string;
    /** SSH key fingerprints installed for root; must include the deploy key. */
    readonly sshKeys: pulumi.Input<pulumi.Input<string>[]>;
    /** Private half of the deploy key (a secret); the wiring step logs in with it. */
    readonly deployPrivateKey: pulumi.Input<string>;
    /** Public keys allowed to log in as root, the deploy key's among them. */
    readonly authorizedKeys: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Tags every droplet of the tier carries besides its plain role and region tags: the tags the
     * firewalls select (pass `digitalocean.Tag` names so droplets wait for the tags to exist).
     */
    readonly tags: readonly pulumi.Input<string>[];
    readonly ipv6?: boolean;
}

/** A droplet of a tier, with its place. */
export interface TierHost extends HostAddresses {
    readonly index: number;
    readonly droplet: digitalocean.Droplet;
}

const REGION_SLUG = /^[a-z0-9]+$/;
const SIZE_SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const IMAGE = /^[a-z0-9][a-z0-9.-]*$/;
/** DigitalOcean tag names: letters, digits, ":", "-", "_", at most 255. */
const TAG_NAME = /^[A-Za-z0-9:_-]{1,255}$/;
const TAG_ALLOWED = "must be a DigitalOcean tag name (letters, digits, \":\", \"-\", \"_\")";

export function assertTagName(field: string, value: unknown): asserts value is string {
    assertString(field, value, TAG_ALLOWED, TAG_NAME);
}

/** A DigitalOcean region slug such as "nyc3". */
export function assertRegionSlug(field: string, value: unknown): asserts value is string {
    assertString(field, value, "must be a DigitalOcean region slug such as \"nyc3\"", REGION_SLUG);
}

/** One {@link TierRegion}: `field` names it, e.g. "LoadBalancerTierArgs.region". */
export function validateTierRegion(field: string, value: unknown): asserts value is TierRegion {
    assertRecord(field, value, "must be { region, vpcUuid }: a region slug and its VPC's id");
    assertRegionSlug(`${field}.region`, value.region);
    assertInput(`${field}.vpcUuid`, value.vpcUuid, isNonEmptyString, "must be the region's VPC id (a string or an Output of one)");
}

/** How {@link validateRegionList} checks a list of per-region records. */
export interface RegionListRule {
    /** What an element is, e.g. "{ region, vpcUuid }". */
    readonly shape: string;
    readonly min: number;
    /** Why fewer than `min` will not do, e.g. "must list at least one region". */
    readonly tooFew: (count: number) => string;
    /** Why a region must not come twice, e.g. "one VPC per region". */
    readonly once: string;
    /** Checks the rest of an element (its region is checked already). */
    readonly item?: (field: string, value: Readonly<Record<string, unknown>>) => void;
}

/** A list of records each naming its region, at least `rule.min` of them, no region twice. */
export function validateRegionList(field: string, value: unknown, rule: RegionListRule): asserts value is readonly (Readonly<Record<string, unknown>> & { readonly region: string })[] {
    assertList(field, value, `must be a list of ${rule.shape}, one per region`);
    if (value.length < rule.min) throw new Error(`${field} ${rule.tooFew(value.length)}`);
    const regions = value.map((r, i) => {
        assertRecord(`${field}[${i}]`, r, `must be ${rule.shape}`);
        assertRegionSlug(`${field}[${i}].region`, r.region);
        rule.item?.(`${field}[${i}]`, r);
        return r.region;
    });
    const dup = firstRepeat(regions);
    if (dup !== undefined) throw new Error(`${field} lists region ${show(regions[dup])} twice; ${rule.once}`);
}

/** The regions of a tier: at least one, none twice. */
export function validateTierRegions(field: string, value: unknown): asserts value is readonly TierRegion[] {
    validateRegionList(field, value, {
        shape: "{ region, vpcUuid }", min: 1, tooFew: () => "must list at least one region", once: "one group of droplets per region",
        item: (f, r) => validateTierRegion(f, r),
    });
}

/** How the droplets of a tier are made: size, image, keys, tags, IPv6 (`component` names the Args type). */
export function validateDropletArgs(component: string, args: Readonly<Record<string, unknown>>): void {
    assertString(`${component}.size`, args.size, "must be a DigitalOcean size slug such as \"s-1vcpu-1gb\"", SIZE_SLUG);
    assertString(`${component}.image`, args.image, "must be an image slug such as \"debian-12-x64\"", IMAGE);
    assertInputList(`${component}.sshKeys`, args.sshKeys, isNonEmptyString, "must be a list of SSH key fingerprints or ids (strings or Outputs)");
    assertInput(`${component}.deployPrivateKey`, args.deployPrivateKey, isNonEmptyString, "must be the deploy key's private half (a string or an Output of one)");
    assertInputList(`${component}.authorizedKeys`, args.authorizedKeys, isNonEmptyString, "must be a list of OpenSSH public keys (strings or Outputs)");
    assertList(`${component}.tags`, args.tags, "must be a list of tag names (strings or Outputs)");
    args.tags.forEach((t, i) => assertInput(`${component}.tags[${i}]`, t, (v) => typeof v === "string" && TAG_NAME.test(v), `${TAG_ALLOWED} or an Output of one`));
    if (args.ipv6 !== undefined) assertBoolean(`${component}.ipv6`, args.ipv6);
}

/** Checks the shared args; `component` names the Args type in messages. Returns the args as a record to check the rest. */
export function validateTierArgs(component: string, args: TierArgs, maxPerRegion: number): Readonly<Record<string, unknown>> {
    const a = assertArgs(component, args);
    validateTierRegions(`${component}.regions`, a.regions);
    assertInt(`${component}.perRegion`, a.perRegion, 1, maxPerRegion);
    validateDropletArgs(component, a);
    return a;
}

/**
 * Creates `perRegion` droplets of `role` in every region, named `${name}-${region}-${n}` unless
 * `hostName` says otherwise.
 * `userData(region)` must not depend on peers, so adding a region or a droplet never
 * replaces existing ones.
 */
export function tierDroplets(
    parent: pulumi.Resource,
    name: string,
    role: Role,
    args: TierArgs,
    userData: (region: string) => string,
    hostName: (region: string, n: number) => string = (region, n) => `${name}-${region}-${n}`,
): TierHost[] {
    return args.regions.flatMap(({ region, vpcUuid }) =>
        Array.from({ length: args.perRegion }, (_, i) => {
            const dropletName = hostName(region, i + 1);
            const droplet = roleDroplet(dropletName, {
                region, vpcUuid, size: args.size, image: args.image, sshKeys: args.sshKeys, ipv6: args.ipv6 ?? false,
            }, [role, region, ...args.tags], userData(region), { parent });
            return { ...hostAddresses(dropletName, region, droplet), index: i, droplet };
        }),
    );
}

/** How the wiring step reaches a host of the tier. */
export function tierConnection(args: Pick<TierArgs, "deployPrivateKey" | "authorizedKeys">, host: HostAddresses): WiringConnection {
    return { host: host.publicIpv4, privateKey: args.deployPrivateKey, authorizedKeys: args.authorizedKeys };
}

/** The plain record of a host for outputs. */
export function describeHost(h: HostAddresses): pulumi.Output<{ name: string; region: string; publicIpv4: string; privateIpv4: string }> {
    return pulumi.all([h.publicIpv4, h.privateIpv4]).apply(([publicIpv4, privateIpv4]) => ({ name: h.name, region: h.region, publicIpv4, privateIpv4 }));
}

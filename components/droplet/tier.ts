import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import { WiringConnection } from "../wiring/hostWiring";
import { HostAddresses, hostAddresses, Role, roleDroplet } from "./roleDroplet";

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

/** Checks the shared args; `component` names the Args type in messages. */
export function validateTierArgs(component: string, args: TierArgs, maxPerRegion: number): void {
    if (args.regions.length === 0) throw new Error(`${component}.regions must list at least one region`);
    const dup = args.regions.map((r) => r.region).find((r, i, all) => all.indexOf(r) !== i);
    if (dup) throw new Error(`${component}.regions lists "${dup}" twice`);
    if (!Number.isInteger(args.perRegion) || args.perRegion < 1 || args.perRegion > maxPerRegion) {
        throw new Error(`${component}.perRegion ${args.perRegion} must be a whole number from 1 to ${maxPerRegion}`);
    }
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(args.size)) throw new Error(`${component}.size "${args.size}" must be a DigitalOcean size slug such as "s-1vcpu-1gb"`);
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

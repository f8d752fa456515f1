import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";

/**
 * The droplet roles of the stack; each is also a DigitalOcean tag on its droplets. The witness is
 * a small droplet in a third region whose only job is to vote in DNS failover decisions.
 */
export type Role = "lb" | "app" | "db" | "cache" | "witness";

/** Every role, in the order outputs list them. */
export const ROLES: readonly Role[] = ["lb", "app", "db", "cache", "witness"];

/** Settings shared by every droplet a component creates. */
export interface DropletPlacement {
    /** DigitalOcean region slug. */
    readonly region: pulumi.Input<string>;
    /** The region's VPC; every droplet gets a private address in it. */
    readonly vpcUuid: pulumi.Input<string>;
    readonly size: pulumi.Input<string>;
    readonly image: pulumi.Input<string>;
    /** Fingerprints or ids of the SSH keys installed for root (the deploy key among them). */
    readonly sshKeys: pulumi.Input<pulumi.Input<string>[]>;
    readonly ipv6?: pulumi.Input<boolean>;
}

/** Creates one role droplet: monitoring agent on, in its VPC, tagged, with user-data that holds no secret. */
export function roleDroplet(
    name: string,
    placement: DropletPlacement,
    tags: pulumi.Input<pulumi.Input<string>[]>,
    userData: string,
    opts: pulumi.CustomResourceOptions,
): digitalocean.Droplet {
    return new digitalocean.Droplet(name, {
        region: placement.region,
        vpcUuid: placement.vpcUuid,
        size: placement.size,
        image: placement.image,
        sshKeys: placement.sshKeys,
        ipv6: placement.ipv6 ?? false,
        monitoring: true,
        gracefulShutdown: true,
        tags,
        userData,
    }, opts);
}

/** A droplet as the rest of the stack sees it. */
export interface HostAddresses {
    readonly name: string;
    readonly region: string;
    readonly publicIpv4: pulumi.Output<string>;
    readonly privateIpv4: pulumi.Output<string>;
    readonly id: pulumi.Output<string>;
    readonly urn: pulumi.Output<string>;
}

export function hostAddresses(name: string, region: string, droplet: digitalocean.Droplet): HostAddresses {
    return {
        name,
        region,
        publicIpv4: droplet.ipv4Address,
        privateIpv4: droplet.ipv4AddressPrivate,
        id: droplet.id,
        urn: droplet.urn,
    };
}

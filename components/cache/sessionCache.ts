import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";
import { renderCloudConfig } from "../cloudinit/cloudConfig";
import { TierArgs, TierHost, tierDroplets, validateTierArgs, describeHost, tierConnection } from "../droplet/tier";
import { PORTS } from "../firewall/firewallMatrix";
import { wireHost } from "../wiring/hostWiring";
import { renderMemcachedConfig } from "./memcachedConfig";
import { assertInt } from "../validation/assert";

export interface SessionCacheArgs extends TierArgs {
    /** Item memory of each memcached node, MiB. */
    readonly memoryMb: number;
}

/** A memcached node as the app tier needs it. */
export interface CacheServer {
    readonly name: string;
    readonly region: string;
    readonly address: string;
    readonly port: number;
}

/**
 * memcached droplets in every region holding the PHP sessions of all app servers. Each node
 * listens only on its private address with UDP off; the app spreads sessions with consistent
 * hashing and a replica so one node's loss loses no session.
 */
export class SessionCache extends pulumi.ComponentResource {
    public readonly hosts: TierHost[];
    /** The wiring command of each host, in host order (e.g. to make your own steps wait for them). */
    public readonly wiring: command.remote.Command[];
    /** Every node's private endpoint, for the app tier's session.save_path. */
    public readonly servers: pulumi.Output<CacheServer[]>;

    public static validateArgs(args: SessionCacheArgs): void {
        const a = validateTierArgs("SessionCacheArgs", args, 10);
        assertInt("SessionCacheArgs.memoryMb", a.memoryMb, 64, 65536, "must be a whole number of MiB from 64 to 65536");
    }

    constructor(name: string, args: SessionCacheArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dns-rr-ha:cache:SessionCache", name, args, opts);
        SessionCache.validateArgs(args);
        this.hosts = tierDroplets(this, name, "cache", args, (region) => renderCloudConfig({
            role: "cache", region, packages: ["memcached"], files: [], runcmd: [],
        }));
        this.wiring = this.hosts.map((host) => {
            return wireHost(`${host.name}-wiring`, {
                connection: tierConnection(args, host),
                description: `memcached ${host.name}`,
                files: host.privateIpv4.apply((address) => [{
                    path: "/etc/memcached.conf",
                    mode: "0644",
                    content: renderMemcachedConfig({ listenAddress: address, port: PORTS.memcached, memoryMb: args.memoryMb, maxConnections: 4096 }),
                }]),
                commands: [
                    { run: "systemctl enable memcached" },
                    { run: "systemctl restart memcached", when: ["/etc/memcached.conf"] },
                ],
            }, { parent: this, dependsOn: [host.droplet] });
        });
        this.servers = pulumi.all(this.hosts.map(describeHost)).apply((hs) =>
            hs.map((h) => ({ name: h.name, region: h.region, address: h.privateIpv4, port: PORTS.memcached })));
        this.registerOutputs({ servers: this.servers });
    }
}

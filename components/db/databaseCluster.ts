import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";
import * as digitalocean from "@pulumi/digitalocean";
import * as random from "@pulumi/random";
import { renderCloudConfig } from "../cloudinit/cloudConfig";
import { TierArgs, TierHost, tierConnection, tierDroplets, validateDropletArgs, validateTierRegions } from "../droplet/tier";
import { assertArgs, assertCidrList, assertInt, assertString, fail } from "../validation/assert";
import { sizeMemoryMb } from "../droplet/sizes";
import { PORTS } from "../firewall/firewallMatrix";
import { wireHost } from "../wiring/hostWiring";
import { cidrToMariaDbHost } from "./mariaDbHost";
import { DB_DURABILITIES, type DbDurability, dbNodeMyCnfSettings, renderMyCnf, SEMISYNC_TIMEOUT_MS } from "./myCnf";
import { renderReplicationSql, renderUsersSql } from "./replicationSql";
import { dbScripts } from "./dbScripts";
import { DB_WIRE_COMMAND, dbDatadir, dbWiringFiles, renderDbEnv } from "./wiringFiles";
import { createDbTls, DB_TLS_PATHS, dbTlsFiles } from "./dbTls";
import { DIGITALOCEAN_REGIONS } from "../config/regions";

export interface DatabaseClusterArgs extends Omit<TierArgs, "perRegion"> {
    /** Size of each node's data volume, GiB. */
    readonly volumeSizeGb: number;
    /** CIDRs app servers and peer nodes connect from (the peered VPC ranges); accounts accept only these. */
    readonly clientCidrs: readonly string[];
    /** Database the app owns (default "app"). */
    readonly databaseName?: string;
    /** Account the app connects as (default "app"). */
    readonly appUser?: string;
    /** Replication durability (default "semisync": a commit returns once a peer has it; see DURABILITY.md). */
    readonly durability?: DbDurability;
    /** ms a semisync commit waits for a peer's ack before the node degrades to async (default 1000). */
    readonly semisyncTimeoutMs?: number;
}

/** What an app server needs to reach the database. */
export interface DatabaseConnection {
    readonly database: string;
    readonly user: string;
    /** Secret. */
    readonly password: string;
    readonly port: number;
    /** Node private addresses by region. */
    readonly hostsByRegion: Record<string, string>;
    /**
     * PEM of the CA the nodes' certificates are signed by: clients connect over TLS and verify the
     * node's certificate (issued for its private address) with it. Without it they connect in
     * plain text, which a DatabaseCluster refuses.
     */
    readonly caCertPem?: string;
}

/**
 * Every node of every cluster uses the same increment, larger than the number of DigitalOcean
 * regions, so a node's offset can be its region's fixed slot (see {@link regionSlot}).
 */
export const DB_AUTO_INCREMENT_INCREMENT = 16;

/**
 * A node's stable slot: the region's position in DigitalOcean's region list, not in the stack's
 * config. Adding, removing or reordering regions never renumbers the server_id, GTID domain or
 * auto-increment offset of a node that already holds data.
 */
export function regionSlot(region: string): number {
    const slot = (DIGITALOCEAN_REGIONS as readonly string[]).indexOf(region);
    if (slot < 0) throw new Error(`DatabaseClusterArgs.regions: "${region}" is not a DigitalOcean region slug`);
    return slot;
}

/**
 * MariaDB, one node per region, every node a master: two nodes replicate from each other,
 * three or more through named connections from every peer (multi-source). GTID with a
 * domain per node, auto-increment offsets, ROW binlogs, durable commits, data on a volume.
 */
export class DatabaseCluster extends pulumi.ComponentResource {
    public readonly hosts: TierHost[];
    /** The wiring command of each host, in host order (e.g. to make your own steps wait for them). */
    public readonly wiring: command.remote.Command[];
    public readonly volumeUrns: pulumi.Output<string>[];
    /** Private endpoint of each node. */
    public readonly endpoints: pulumi.Output<{ region: string; host: string; port: number }[]>;
    /** Credentials and addresses for the app tier (the password is a secret). */
    public readonly connection: pulumi.Output<DatabaseConnection>;

    public static validateArgs(args: DatabaseClusterArgs): void {
        const a = assertArgs("DatabaseClusterArgs", args);
        // One node per region: the tier's count is fixed.
        validateTierRegions("DatabaseClusterArgs.regions", a.regions);
        a.regions.forEach((r, i) => {
            if (!(DIGITALOCEAN_REGIONS as readonly string[]).includes(r.region)) {
                fail(`DatabaseClusterArgs.regions[${i}].region`, r.region, "must be a DigitalOcean region: the node's server_id and auto-increment offset derive from it");
            }
        });
        validateDropletArgs("DatabaseClusterArgs", a);
        assertInt("DatabaseClusterArgs.volumeSizeGb", a.volumeSizeGb, 1, 16384, "must be a whole number of GiB from 1 to 16384");
        assertCidrList("DatabaseClusterArgs.clientCidrs", a.clientCidrs, "must list the VPC ranges the app and peers connect from", true);
        for (const key of ["databaseName", "appUser"] as const) {
            if (a[key] !== undefined) assertString(`DatabaseClusterArgs.${key}`, a[key], "must be 1-32 lowercase letters, digits or _ starting with a letter", /^[a-z][a-z0-9_]{0,31}$/);
        }
        if (a.durability !== undefined && !(DB_DURABILITIES as readonly unknown[]).includes(a.durability)) {
            fail("DatabaseClusterArgs.durability", a.durability, `must be one of ${DB_DURABILITIES.join(", ")}`);
        }
        if (a.semisyncTimeoutMs !== undefined) {
            const { min, max } = SEMISYNC_TIMEOUT_MS;
            assertInt("DatabaseClusterArgs.semisyncTimeoutMs", a.semisyncTimeoutMs, min, max, `must be a whole number of milliseconds from ${min} to ${max}`);
        }
    }

    constructor(name: string, args: DatabaseClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dns-rr-ha:db:DatabaseCluster", name, args, opts);
        DatabaseCluster.validateArgs(args);
        const database = args.databaseName ?? "app";
        const appUser = args.appUser ?? "app";
        const replicationUser = "replicator";
        // pulumi.secret although the provider marks `result` secret: what is derived from it must stay secret everywhere.
        const password = (suffix: string) => pulumi.secret(new random.RandomPassword(`${name}-${suffix}`, { length: 32, special: false }, { parent: this }).result);
        const appPassword = password("app-password");
        const replicationPassword = password("replication-password");

        this.hosts = tierDroplets(this, name, "db", { ...args, perRegion: 1 }, (region) => renderCloudConfig({
            role: "db",
            region,
            packages: ["mariadb-server", "mariadb-client"],
            files: dbScripts().map((f) => ({ path: f.path, content: f.content, permissions: f.mode })),
            // The volume is attached after boot: keep MariaDB off the root disk until the wiring moves it.
            runcmd: [["systemctl", "disable", "--now", "mariadb"]],
        }));

        const volumes = this.hosts.map((host) => {
            const volume = new digitalocean.Volume(`${host.name}-data`, {
                region: host.region,
                size: args.volumeSizeGb,
                initialFilesystemType: "ext4",
                description: `MariaDB data of ${host.name}`,
            }, { parent: this });
            const attachment = new digitalocean.VolumeAttachment(`${host.name}-data`, {
                dropletId: host.id.apply(Number),
                volumeId: volume.id,
            }, { parent: this });
            return { volume, attachment };
        });
        this.volumeUrns = volumes.map((v) => v.volume.volumeUrn);

        const privateIps = pulumi.all(this.hosts.map((h) => h.privateIpv4));
        // Replication and app connections use TLS, verified against this cluster's own CA.
        const tls = createDbTls(this, name, this.hosts.map((h) => ({ name: h.name, privateIpv4: h.privateIpv4 })));
        const patterns = args.clientCidrs.map(cidrToMariaDbHost);
        this.wiring = this.hosts.map((host, index) => {
            const { volume, attachment } = volumes[index]!;
            const nodeTls = tls.nodes[index]!;
            const files = pulumi.all([privateIps, volume.name, appPassword, replicationPassword, tls.caCertPem, nodeTls.certPem, nodeTls.privateKeyPem]).apply(([ips, volumeName, appPw, replPw, caPem, certPem, keyPem]) => [...dbTlsFiles({ caCertPem: caPem, certPem, privateKeyPem: keyPem }), ...dbWiringFiles({
                dbEnv: renderDbEnv({ volumeName }),
                myCnf: renderMyCnf(dbNodeMyCnfSettings({
                    nodeIndex: regionSlot(host.region),
                    nodeCount: this.hosts.length,
                    autoIncrementIncrement: DB_AUTO_INCREMENT_INCREMENT,
                    bindAddress: ips[index]!,
                    datadir: dbDatadir(volumeName),
                    memoryMb: sizeMemoryMb(args.size),
                    durability: args.durability,
                    semisyncTimeoutMs: args.semisyncTimeoutMs,
                    tls: DB_TLS_PATHS,
                })),
                usersSql: renderUsersSql({
                    replicationUser, replicationPassword: replPw, appUser, appPassword: appPw, appDatabase: database,
                    appHostPattern: patterns, replicationHostPattern: patterns, requireSsl: true,
                }),
                replicationSql: renderReplicationSql({
                    self: host.region,
                    peers: this.hosts.flatMap((peer, j) => (j === index ? [] : [{ name: peer.region, host: ips[j]!, port: PORTS.mysql }])),
                    user: replicationUser,
                    password: replPw,
                    tls: { caPath: DB_TLS_PATHS.ca },
                }),
            })]);
            return wireHost(`${host.name}-wiring`, {
                connection: tierConnection(args, host),
                description: `MariaDB ${host.name}`,
                files,
                commands: [{ run: DB_WIRE_COMMAND }],
            }, { parent: this, dependsOn: [host.droplet, attachment] });
        });

        this.endpoints = privateIps.apply((ips) => this.hosts.map((h, i) => ({ region: h.region, host: ips[i]!, port: PORTS.mysql })));
        this.connection = pulumi.all([privateIps, appPassword, tls.caCertPem]).apply(([ips, pw, caCertPem]) => ({
            database,
            user: appUser,
            password: pw,
            port: PORTS.mysql,
            hostsByRegion: Object.fromEntries(this.hosts.map((h, i) => [h.region, ips[i]!])),
            caCertPem,
        }));
        this.registerOutputs({ endpoints: this.endpoints });
    }
}

import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";
import * as digitalocean from "@pulumi/digitalocean";
import * as random from "@pulumi/random";
import { renderCloudConfig } from "../cloudinit/cloudConfig";
import { TierArgs, TierHost, tierConnection, tierDroplets, validateDropletArgs, validateTierRegions } from "../droplet/tier";
import { assertArgs, assertCidrList, assertInt, assertList, assertRecord, assertString, fail } from "../validation/assert";
import { sizeMemoryMb } from "../droplet/sizes";
import { PORTS } from "../firewall/firewallMatrix";
import { wireHost } from "../wiring/hostWiring";
import { cidrToMariaDbHost } from "./mariaDbHost";
import { dbNodeMyCnfSettings, GALERA_PORTS, GALERA_TIMING, galeraTimingProblems, type GaleraTiming, renderMyCnf } from "./myCnf";
import { renderUsersSql } from "./usersSql";
import { dbScripts } from "./dbScripts";
import { DB_BOOTSTRAP_COMMAND, DB_WIRE_COMMAND, dbDatadir, dbWiringFiles, renderDbEnv } from "./wiringFiles";
import { createDbTls, DB_TLS_PATHS, dbTlsFiles } from "./dbTls";
import { GARBD_PATHS, GARBD_SERVICE, renderGarbdUnit } from "./arbitrator";
import { DIGITALOCEAN_REGIONS } from "../config/regions";

/** The Debian packages of a database node: the server, Galera, and what a state transfer runs. */
export const DB_PACKAGES = ["mariadb-server", "mariadb-client", "galera-4", "mariadb-backup", "socat"] as const;

/** The Debian package of the arbitrator (on the witness droplet). */
export const ARBITRATOR_PACKAGE = "galera-arbitrator-4";

/** The droplet that votes in the database cluster without holding data (the stack's witness). */
export interface DatabaseArbitrator {
    /** The droplet; it must run {@link ARBITRATOR_PACKAGE} (cloud-init packages). */
    readonly host: TierHost;
    /** Resources its wiring waits for (e.g. the witness's own wiring). */
    readonly after?: readonly pulumi.Resource[];
}

export interface DatabaseClusterArgs extends Omit<TierArgs, "perRegion"> {
    /** Size of each node's data volume, GiB. */
    readonly volumeSizeGb: number;
    /** CIDRs app servers and peer nodes connect from (the peered VPC ranges); accounts accept only these. */
    readonly clientCidrs: readonly string[];
    /** Database the app owns (default "app"). */
    readonly databaseName?: string;
    /** Account the app connects as (default "app"). */
    readonly appUser?: string;
    /**
     * The tie-breaking vote: required when the number of nodes is even (two regions: without a
     * third vote a partition leaves neither side with a majority, so neither may write). It runs
     * garbd, stores no data and is wired by this component.
     */
    readonly arbitrator?: DatabaseArbitrator;
    /** Group-communication timing (default {@link GALERA_TIMING}.default; see DURABILITY.md). */
    readonly timing?: GaleraTiming;
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
    /** Members of the cluster, the arbitrator included: a node seeing fewer is degraded. */
    readonly clusterSize: number;
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
 * MariaDB, one node per region, as one Galera 4 cluster (components/db/DURABILITY.md): every node
 * takes writes, a commit returns once every member has it and it passed certification (a
 * conflicting one fails with 1213 instead of diverging later), the side of a partition without
 * a majority of votes stops taking writes, and a new or rebuilt node seeds itself from a running
 * one (mariabackup SST). With an even number of nodes the arbitrator (garbd on the witness) is the
 * tie-breaking vote. The cluster is formed once per stack from the first node; every later wiring
 * joins, one node after the other, each waiting until the node is Synced. Data on a volume.
 */
export class DatabaseCluster extends pulumi.ComponentResource {
    public readonly hosts: TierHost[];
    /** The wiring command of each host, in host order (e.g. to make your own steps wait for them). */
    public readonly wiring: command.remote.Command[];
    /** The arbitrator's wiring on the witness, when there is one. */
    public readonly arbitratorWiring: command.remote.Command | undefined;
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
        const votes = a.regions.length + (a.arbitrator !== undefined ? 1 : 0);
        if (a.arbitrator === undefined && a.regions.length % 2 === 0) {
            fail("DatabaseClusterArgs.arbitrator", undefined, `is required with ${a.regions.length} nodes: an even number of votes lets a partition split them in halves, and then no side may write. Give the witness droplet as { host }`);
        }
        if (a.arbitrator !== undefined) {
            assertRecord("DatabaseClusterArgs.arbitrator", a.arbitrator, "must be { host, after? } with the witness droplet as host, or left out");
            const region = (a.arbitrator.host as Partial<TierHost> | undefined)?.region;
            if (typeof region !== "string" || !(DIGITALOCEAN_REGIONS as readonly string[]).includes(region)) {
                fail("DatabaseClusterArgs.arbitrator.host", region, "must be a TierHost (the witness droplet) in a DigitalOcean region");
            }
            if (a.regions.some((r) => r.region === region)) {
                fail("DatabaseClusterArgs.arbitrator.host.region", region, "must not be one of the nodes' regions: the tie-breaking vote must fail separately");
            }
            if (votes % 2 === 0) {
                const n = a.regions.length;
                fail("DatabaseClusterArgs.arbitrator", region, `makes the votes even (${n} node${n === 1 ? "" : "s"} of DatabaseClusterArgs.regions + 1): leave it out with an odd number of nodes`);
            }
            if (a.arbitrator.after !== undefined) assertList("DatabaseClusterArgs.arbitrator.after", a.arbitrator.after, "must be a list of resources, or left out");
        }
        if (a.timing !== undefined) {
            assertRecord("DatabaseClusterArgs.timing", a.timing, "must be { keepaliveMs, suspectMs, inactiveMs, installMs }, or left out");
            // Numbers first: the range checks below print the value, which a symbol or null-prototype object would make throw.
            for (const key of ["keepaliveMs", "suspectMs", "inactiveMs", "installMs"] as const) {
                if (typeof a.timing[key] !== "number") fail(`DatabaseClusterArgs.timing.${key}`, a.timing[key], "must be a whole number of milliseconds");
            }
            const problems = galeraTimingProblems("DatabaseClusterArgs.timing", a.timing as unknown as GaleraTiming);
            if (problems.length > 0) fail("DatabaseClusterArgs.timing", a.timing, problems.join("; "));
        }
    }

    constructor(name: string, args: DatabaseClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dns-rr-ha:db:DatabaseCluster", name, args, opts);
        DatabaseCluster.validateArgs(args);
        const database = args.databaseName ?? "app";
        const appUser = args.appUser ?? "app";
        // pulumi.secret although the provider marks `result` secret: what is derived from it must stay secret everywhere.
        const appPassword = pulumi.secret(new random.RandomPassword(`${name}-app-password`, { length: 32, special: false }, { parent: this }).result);
        const timing = args.timing ?? GALERA_TIMING.default;
        const arbitrator = args.arbitrator;
        const clusterSize = args.regions.length + (arbitrator ? 1 : 0);

        this.hosts = tierDroplets(this, name, "db", { ...args, perRegion: 1 }, (region) => renderCloudConfig({
            role: "db",
            region,
            packages: [...DB_PACKAGES],
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
        const arbitratorIp = arbitrator ? pulumi.output(arbitrator.host.privateIpv4) : pulumi.output(undefined);
        // Group traffic, state transfers and app connections use TLS, verified against this cluster's own CA.
        const tls = createDbTls(this, name, [...this.hosts, ...(arbitrator ? [arbitrator.host] : [])].map((h) => ({ name: h.name, privateIpv4: h.privateIpv4 })));
        const members = pulumi.all([privateIps, arbitratorIp]).apply(([ips, arb]) => [...ips, ...(arb ? [arb] : [])].map((ip) => `${ip}:${GALERA_PORTS.group}`));
        const patterns = args.clientCidrs.map(cidrToMariaDbHost);
        const filesOf = (index: number) => {
            const host = this.hosts[index]!;
            const { volume } = volumes[index]!;
            const nodeTls = tls.nodes[index]!;
            return pulumi.all([privateIps, members, volume.name, appPassword, tls.caCertPem, nodeTls.certPem, nodeTls.privateKeyPem]).apply(([ips, clusterMembers, volumeName, appPw, caPem, certPem, keyPem]) => [...dbTlsFiles({ caCertPem: caPem, certPem, privateKeyPem: keyPem }), ...dbWiringFiles({
                dbEnv: renderDbEnv({ volumeName, clusterSize }),
                myCnf: renderMyCnf(dbNodeMyCnfSettings({
                    nodeIndex: regionSlot(host.region),
                    nodeCount: this.hosts.length,
                    autoIncrementIncrement: DB_AUTO_INCREMENT_INCREMENT,
                    bindAddress: ips[index]!,
                    datadir: dbDatadir(volumeName),
                    memoryMb: sizeMemoryMb(args.size),
                    clusterName: name,
                    nodeName: host.name,
                    clusterMembers,
                    timing,
                    tls: DB_TLS_PATHS,
                })),
                usersSql: renderUsersSql({ appUser, appPassword: appPw, appDatabase: database, appHostPattern: patterns, requireSsl: true, dropUsers: ["replicator"] }),
            })]);
        };
        const wiringOf = (index: number, resourceName: string, run: string, opts: pulumi.CustomResourceOptions) => wireHost(resourceName, {
            connection: tierConnection(args, this.hosts[index]!),
            description: `MariaDB ${this.hosts[index]!.name}`,
            files: filesOf(index),
            commands: [{ run }],
        }, { parent: this, ...opts });

        // The cluster is formed once in the stack's life, from its first node, when this resource
        // is created; it is never updated or replaced afterwards (whatever changes), so a later
        // `pulumi up` can never form a second, empty cluster beside the one holding the data.
        const seed = this.hosts[0]!;
        const bootstrap = wiringOf(0, `${name}-bootstrap`, DB_BOOTSTRAP_COMMAND, {
            dependsOn: [seed.droplet, volumes[0]!.attachment],
            ignoreChanges: ["connection", "stdin", "create"],
        });
        // Then every node, one after the other: each wiring returns once its node is Synced, so a
        // change that restarts MariaDB rolls through the regions and never takes two down at once.
        this.wiring = [];
        this.hosts.forEach((host, index) => {
            const previous = index === 0 ? bootstrap : this.wiring[index - 1]!;
            this.wiring.push(wiringOf(index, `${host.name}-wiring`, DB_WIRE_COMMAND, { dependsOn: [host.droplet, volumes[index]!.attachment, previous] }));
        });

        if (arbitrator) {
            const arbTls = tls.nodes[this.hosts.length]!;
            const unit = pulumi.all([privateIps, arbitratorIp]).apply(([ips, ip]) => renderGarbdUnit({
                clusterName: name,
                nodeName: arbitrator.host.name,
                listenAddress: ip!,
                segment: regionSlot(arbitrator.host.region),
                dataNodes: ips.map((n) => `${n}:${GALERA_PORTS.group}`),
                timing,
                tls: { ca: GARBD_PATHS.ca, cert: GARBD_PATHS.cert, key: GARBD_PATHS.key },
            }));
            const files = pulumi.all([unit, tls.caCertPem, arbTls.certPem, arbTls.privateKeyPem]).apply(([u, ca, cert, key]) => [
                { path: GARBD_PATHS.unit, content: u, mode: "0644" },
                { path: GARBD_PATHS.ca, content: ca, mode: "0644" },
                { path: GARBD_PATHS.cert, content: cert, mode: "0644" },
                { path: GARBD_PATHS.key, content: key, mode: "0600" },
            ]);
            const changed = [GARBD_PATHS.unit, GARBD_PATHS.ca, GARBD_PATHS.cert, GARBD_PATHS.key];
            this.arbitratorWiring = wireHost(`${name}-arbitrator-wiring`, {
                connection: tierConnection(args, arbitrator.host),
                description: `Galera arbitrator on ${arbitrator.host.name}`,
                files,
                commands: [
                    { run: `command -v garbd >/dev/null || { echo '${ARBITRATOR_PACKAGE} is missing: install it (cloud-init packages)' >&2; exit 1; }` },
                    { run: `systemctl daemon-reload && systemctl enable --quiet ${GARBD_SERVICE} && systemctl restart ${GARBD_SERVICE}`, when: changed },
                    { run: `systemctl start ${GARBD_SERVICE}` },
                ],
            }, { parent: this, dependsOn: [arbitrator.host.droplet, this.wiring[0]!, ...(arbitrator.after ?? [])] });
        }

        this.endpoints = privateIps.apply((ips) => this.hosts.map((h, i) => ({ region: h.region, host: ips[i]!, port: PORTS.mysql })));
        this.connection = pulumi.all([privateIps, appPassword, tls.caCertPem]).apply(([ips, pw, caCertPem]) => ({
            database,
            user: appUser,
            password: pw,
            port: PORTS.mysql,
            hostsByRegion: Object.fromEntries(this.hosts.map((h, i) => [h.region, ips[i]!])),
            clusterSize,
            caCertPem,
        }));
        this.registerOutputs({ endpoints: this.endpoints });
    }
}

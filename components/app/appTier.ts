import * as fs from "fs";
import * as path from "path";
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";
import * as tls from "@pulumi/tls";
import { AppSource } from "../config/settings";
import { renderCloudConfig } from "../cloudinit/cloudConfig";
import { TierArgs, TierHost, tierConnection, tierDroplets, validateTierArgs } from "../droplet/tier";
import { sizeMemoryMb } from "../droplet/sizes";
import { wireHost } from "../wiring/hostWiring";
import { WiredFile } from "../wiring/wiringScript";
import type { CacheServer } from "../cache/sessionCache";
import type { DatabaseConnection } from "../db/databaseCluster";
import type { Backend } from "../lb/loadBalancerTier";
import { renderNginxSite } from "./nginxSite";
import { renderPhpFpmPool } from "./phpFpmPool";
import { renderPhpSessionIni } from "./phpSessionIni";
import { renderAppEnv } from "./appEnv";
import { renderLsyncdConfig, renderLsyncdUnit, renderSyncAuthorizedKey, syncSshCommand } from "./lsyncdConfig";
import { appHealthFiles, demoAppFiles, AppFile } from "./demoApp";
import { appBootstrapScript } from "./scripts";
import {
    assertCidrList, assertHealthPath, assertHostName, assertInput, assertInputList, assertInt, assertRecord, assertString, fail, isRecord,
} from "../validation/assert";
import { APP_BASE_DIR, APP_CONFIG_PATHS, APP_HEALTH_DIR, APP_UPLOADS_DIR, SYNC_USER } from "./paths";

export interface AppTierArgs extends TierArgs {
    /** The bundled demo app, or a directory of your own PHP/static files. */
    readonly source: AppSource;
    /** Path HAProxy health-checks; must answer 200 while PHP runs. */
    readonly healthPath: string;
    /** The site's name (for logs and the demo page). */
    readonly siteName: string;
    /** Ranges the load balancers connect from; nginx trusts X-Forwarded-For only from these. */
    readonly lbCidrs: readonly string[];
    /** Largest accepted upload, MiB (default 20). */
    readonly uploadMaxMb?: number;
    /**
     * The site is served over HTTPS (the LBs terminate TLS): session cookies get `Secure`, so a
     * browser never sends the session id over plain HTTP. Default false.
     */
    readonly httpsOnly?: boolean;
    readonly database: pulumi.Input<DatabaseConnection>;
    readonly cacheServers: pulumi.Input<CacheServer[]>;
}

/** Where cloud-init installs the bootstrap that the wiring runs after writing the configs. */
export const APP_BOOTSTRAP_PATH = "/usr/local/sbin/dns-rr-ha-app-bootstrap";
/** The app's code travels in the wiring script; keep it small (assets belong in a CDN or the image). */
export const MAX_APP_SOURCE_BYTES = 4 * 1024 * 1024;

/** Reads the app's files: the demo, or every regular file under the user's directory. */
export function appSourceFiles(source: AppSource): AppFile[] {
    if (source.kind === "demo") return demoAppFiles();
    const files: AppFile[] = [];
    let total = 0;
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            const full = path.join(dir, entry.name);
            if (entry.name.startsWith(".")) continue;
            if (entry.isDirectory()) walk(full);
            else if (entry.isFile()) {
                const rel = path.relative(source.path, full);
                if (!/^[A-Za-z0-9._\/-]+$/.test(rel)) throw new Error(`app.source file "${rel}" has characters the deploy does not carry; use letters, digits, ".", "_", "-"`);
                const content = fs.readFileSync(full, "utf8");
                total += Buffer.byteLength(content);
                files.push({ path: rel, content });
            }
        }
    };
    walk(source.path);
    if (total > MAX_APP_SOURCE_BYTES) throw new Error(`app.source ${source.path} holds ${total} bytes; at most ${MAX_APP_SOURCE_BYTES} are shipped with each deploy`);
    if (!files.some((f) => f.path === "index.php")) throw new Error(`app.source ${source.path} has no index.php at its top`);
    return files;
}

/**
 * Stateless app servers in every region: nginx + PHP-FPM serving the app from a release
 * directory, sessions in memcached (consistent hashing, a replica), uploads pushed to every
 * other app server by lsyncd, database reached on the local region's node first.
 */
export class AppTier extends pulumi.ComponentResource {
    public readonly hosts: TierHost[];
    /** The wiring command of each host, in host order (e.g. to make your own steps wait for them). */
    public readonly wiring: command.remote.Command[];
    /** Every app server's private endpoint, for the load balancers. */
    public readonly servers: pulumi.Output<Backend[]>;

    public static validateArgs(args: AppTierArgs): void {
        const a = validateTierArgs("AppTierArgs", args, 20);
        assertRecord("AppTierArgs.source", a.source, "must be { kind: \"demo\" } or { kind: \"directory\", path }");
        if (a.source.kind === "directory") {
            assertString("AppTierArgs.source.path", a.source.path, "must be the path of a directory holding your app", (p) => p.length > 0);
            if (!fs.existsSync(a.source.path)) fail("AppTierArgs.source.path", a.source.path, "does not exist; give the directory holding your app");
        } else if (a.source.kind !== "demo") {
            fail("AppTierArgs.source.kind", a.source.kind, "must be \"demo\" (the bundled demo app) or \"directory\" (your own, at source.path)");
        }
        assertHealthPath("AppTierArgs.healthPath", a.healthPath);
        assertHostName("AppTierArgs.siteName", a.siteName);
        assertCidrList("AppTierArgs.lbCidrs", a.lbCidrs, "must list the ranges the load balancers connect from", true);
        if (a.uploadMaxMb !== undefined) assertInt("AppTierArgs.uploadMaxMb", a.uploadMaxMb, 1, 1024, "must be 1-1024 (MiB)");
        assertInput("AppTierArgs.database", a.database, isRecord, "must be the DatabaseCluster's connection (an Output of it, or { database, user, password, port, hostsByRegion })");
        assertInputList("AppTierArgs.cacheServers", a.cacheServers, isRecord, "must be the SessionCache's servers (an Output of them, or a list of { name, region, address, port })");
    }

    constructor(name: string, args: AppTierArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dns-rr-ha:app:AppTier", name, args, opts);
        AppTier.validateArgs(args);
        const uploadMaxMb = args.uploadMaxMb ?? 20;
        const appFiles = appSourceFiles(args.source);
        const release = crypto.createHash("sha256").update(JSON.stringify(appFiles)).digest("hex").slice(0, 12);
        const releaseDir = `${APP_BASE_DIR}/releases/${release}`;

        this.hosts = tierDroplets(this, name, "app", args, (region) => renderCloudConfig({
            role: "app",
            region,
            packages: ["nginx", "php-fpm", "php-memcached", "php-mysql", "lsyncd", "rsync", "openssh-client"],
            files: [{ path: APP_BOOTSTRAP_PATH, content: appBootstrapScript(), permissions: "0755" }],
            // Debian's default site would answer on every address; the wiring installs ours.
            runcmd: [["rm", "-f", "/etc/nginx/sites-enabled/default"]],
        }));

        const syncKey = new tls.PrivateKey(`${name}-sync-key`, { algorithm: "ED25519" }, { parent: this });
        const privateIps = pulumi.all(this.hosts.map((h) => h.privateIpv4));
        this.wiring = this.hosts.map((host, index) => {
            const peers = privateIps.apply((ips) => this.hosts.flatMap((p, j) => (j === index ? [] : [{ name: p.name, address: ips[j]! }])));
            const files = pulumi.all([privateIps, peers, args.database, args.cacheServers, syncKey.publicKeyOpenssh, pulumi.secret(syncKey.privateKeyOpenssh)])
                .apply(([ips, peerList, db, caches, syncPub, syncPriv]): WiredFile[] => {
                    const localFirst = [db.hostsByRegion[host.region], ...Object.entries(db.hostsByRegion).filter(([r]) => r !== host.region).map(([, h]) => h)]
                        .filter((h): h is string => h !== undefined);
                    return [
                        { path: APP_CONFIG_PATHS.nginxSite, mode: "0644", content: renderNginxSite({ listenAddress: ips[index]!, trustedProxyCidrs: [...args.lbCidrs], clientMaxBodySizeMb: uploadMaxMb }) },
                        { path: APP_CONFIG_PATHS.phpFpmPool, mode: "0644", content: renderPhpFpmPool({ memoryMb: sizeMemoryMb(args.size), uploadMaxMb }) },
                        { path: APP_CONFIG_PATHS.phpSessionIni, mode: "0644", content: renderPhpSessionIni({ memcachedServers: caches.map((c) => ({ address: c.address, port: c.port })), cookieSecure: args.httpsOnly === true }) },
                        {
                            path: APP_CONFIG_PATHS.appEnv,
                            mode: "0640",
                            owner: "root:www-data",
                            content: renderAppEnv({
                                region: host.region, dbHosts: localFirst, dbName: db.database, dbUser: db.user, dbPassword: db.password, dbPort: db.port,
                                ...(db.caCertPem !== undefined ? { dbSslCa: APP_CONFIG_PATHS.dbCaCert } : {}),
                                ...(db.clusterSize !== undefined ? { dbClusterSize: db.clusterSize } : {}),
                            }),
                        },
                        ...(db.caCertPem !== undefined ? [{ path: APP_CONFIG_PATHS.dbCaCert, mode: "0644", content: `${db.caCertPem.trim()}\n` }] : []),
                        { path: APP_CONFIG_PATHS.lsyncdConfig, mode: "0644", content: renderLsyncdConfig({ sourceDir: APP_UPLOADS_DIR, peers: peerList, sshKeyPath: APP_CONFIG_PATHS.syncPrivateKey, user: SYNC_USER }) },
                        { path: APP_CONFIG_PATHS.lsyncdUnit, mode: "0644", content: renderLsyncdUnit() },
                        { path: APP_CONFIG_PATHS.syncAuthorizedKeys, mode: "0600", content: renderSyncAuthorizedKey({ publicKey: syncPub, fromCidrs: [...args.lbCidrs] }) },
                        { path: APP_CONFIG_PATHS.syncPrivateKey, mode: "0600", content: syncPriv },
                        ...appFiles.map((f) => ({ path: `${releaseDir}/${f.path}`, mode: "0644", content: f.content })),
                        ...appHealthFiles().map((f) => ({ path: `${APP_HEALTH_DIR}/${f.path}`, mode: "0644", content: f.content })),
                    ];
                });
            const env = peers.apply((ps) => [
                `RELEASE_DIR=${releaseDir}`,
                `SYNC_PEERS='${ps.map((p) => p.address).join(" ")}'`,
                `SYNC_SSH='${syncSshCommand({ sshKeyPath: APP_CONFIG_PATHS.syncPrivateKey })}'`,
            ].join(" "));
            return wireHost(`${host.name}-wiring`, {
                connection: tierConnection(args, host),
                description: `app server ${host.name}`,
                files,
                commands: env.apply((e) => [{ run: `${e} ${APP_BOOTSTRAP_PATH}` }]),
            }, { parent: this, dependsOn: [host.droplet] });
        });
        this.servers = privateIps.apply((ips) => this.hosts.map((h, i) => ({ name: h.name, region: h.region, address: ips[i]! })));
        this.registerOutputs({ servers: this.servers });
    }
}

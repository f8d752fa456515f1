import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";
import * as digitalocean from "@pulumi/digitalocean";
import { renderCloudConfig } from "../cloudinit/cloudConfig";
import { TierArgs, TierHost, TierRegion, tierConnection, tierDroplets, validateDropletArgs, validateTierRegion } from "../droplet/tier";
import {
    assertApiUrl, assertArgs, assertHealthPath, assertHostName, assertInput, assertInputList, assertInt, assertList, assertRecord, assertSecretInput, assertString, fail, isNonEmptyString, isRecord,
} from "../validation/assert";
import { PORTS } from "../firewall/firewallMatrix";
import { wireHost } from "../wiring/hostWiring";
import { WiredCommand, WiredFile } from "../wiring/wiringScript";
import { appServersForRegion, LB_HEALTH_URI, renderHaproxyConfig } from "./haproxyConfig";
import { FFDHE2048_PEM } from "./haproxyTls";
import { renderKeepalivedConfig } from "./keepalivedConfig";
import { lbScripts } from "./lbScripts";
import { lbConfigFiles } from "./scriptPaths";
import { renderKeepalivedDropIn, renderVrrpLinkUnit, VRRP_LINK_INTERFACE, VRRP_LINK_UNIT, vrrpLinkAddress } from "./vrrpLink";

/** An app server HAProxy may send requests to. */
export interface Backend {
    readonly name: string;
    readonly region: string;
    /** Private IPv4 of the app server. */
    readonly address: string;
}

export interface LoadBalancerTierArgs extends Omit<TierArgs, "regions" | "perRegion"> {
    /** The region this tier serves as an entry point. */
    readonly region: TierRegion;
    /** 1, or 2 for keepalived failover of the reserved IP inside the region. */
    readonly count: 1 | 2;
    /** The site's name (Host header of health checks). */
    readonly siteName: string;
    /** Health path of the app servers. */
    readonly healthPath: string;
    /** App servers of every region; those of this region take traffic, the others are backups. */
    readonly backends: pulumi.Input<Backend[]>;
    /**
     * With 2 LBs: what the new keepalived MASTER needs to move the reserved IP to itself through
     * the DigitalOcean API. Without it the pair still elects a MASTER, but the IP does not move.
     */
    readonly failover?: {
        /** API token scoped to reserved IPs (a secret: written 0600 on the LBs, never in user-data). */
        readonly apiToken: pulumi.Input<string>;
        /** API base URL (default https://api.digitalocean.com). */
        readonly apiUrl?: string;
    };
    /**
     * HTTPS: the site's certificate, its issuer chain and its key as one PEM (a secret, e.g.
     * `SiteCertificate.pem`). The wiring writes it to /etc/haproxy/tls/site.pem (0640
     * root:haproxy), never to user-data; HAProxy serves 443 with it, redirects plain HTTP there
     * (but the health URI) and sends HSTS, and reloads when it changes. Without it: plain HTTP.
     */
    readonly tls?: {
        readonly pem: pulumi.Input<string>;
    };
    /** More Debian packages for the LBs' first boot (e.g. "nodejs" for the DNS failover agent). */
    readonly packages?: readonly string[];
    /** VRRP router id of the pair, unique per VPC (default 51). */
    readonly virtualRouterId?: number;
}

/** A restart that, when it fails, shows the unit's journal in the `pulumi up` error. */
function restartOrExplain(unit: string, verb = "restart"): string {
    return `systemctl ${verb} ${unit} || { journalctl -u ${unit} -n 30 --no-pager >&2; exit 1; }`;
}

const HAPROXY_CFG = "/etc/haproxy/haproxy.cfg";
/** Where the LBs keep the site's certificate bundle and the DHE group (read by HAProxy). */
export const LB_TLS_PATHS = { pem: "/etc/haproxy/tls/site.pem", dhParams: "/etc/haproxy/tls/ffdhe2048.pem" } as const;
const RESERVED_IPV6_UNIT = "dns-rr-ha-reserved-ipv6.service";
const IPV6_UNIT = `/etc/systemd/system/${RESERVED_IPV6_UNIT}`;

/** Puts the reserved IPv6 on lo (as a /128), so HAProxy's IPv6 listener receives what DigitalOcean routes here. */
export function renderReservedIpv6Unit(address: string): string {
    if (!/^[0-9a-f:]+$/i.test(address) || !address.includes(":")) throw new Error(`reserved IPv6 "${address}" is not an IPv6 address`);
    return [
        "[Unit]",
        "Description=dns-rr-ha reserved IPv6 on lo",
        "After=network-online.target",
        "Wants=network-online.target",
        "Before=haproxy.service",
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        `ExecStart=/usr/sbin/ip -6 addr replace ${address}/128 dev lo`,
        `ExecStop=/usr/sbin/ip -6 addr del ${address}/128 dev lo`,
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
}
const KEEPALIVED_CONF = "/etc/keepalived/keepalived.conf";
const LINK_UNIT = `/etc/systemd/system/${VRRP_LINK_UNIT}`;
const KEEPALIVED_DROPIN = "/etc/systemd/system/keepalived.service.d/50-dns-rr-ha.conf";

/**
 * The entry point of one region: 1 or 2 HAProxy droplets and the region's reserved IP.
 * With 2, keepalived (VRRP over a VXLAN link on the VPC) elects the holder, and the new
 * MASTER's notify script moves the reserved IP to itself through the DigitalOcean API.
 */
export class LoadBalancerTier extends pulumi.ComponentResource {
    public readonly region: string;
    /** The reserved IP: the address the round-robin record publishes. */
    public readonly reservedIp: pulumi.Output<string>;
    public readonly reservedIpUrn: pulumi.Output<string>;
    /** The reserved IPv6 published as AAAA, when `ipv6` is on. */
    public readonly reservedIpv6: pulumi.Output<string> | undefined;
    /** URL answering 200 while this entry point can reach at least one app server. */
    public readonly healthUrl: pulumi.Output<string>;
    public readonly hosts: TierHost[];
    /** The wiring command of each host, in host order (e.g. to make your own steps wait for them). */
    public readonly wiring: command.remote.Command[];

    public static validateArgs(args: LoadBalancerTierArgs): void {
        const where = "LoadBalancerTierArgs";
        const a = assertArgs(where, args);
        validateTierRegion(`${where}.region`, a.region);
        if (a.count !== 1 && a.count !== 2) fail(`${where}.count`, a.count, "must be 1 or 2 (2 for keepalived failover of the reserved IP)");
        validateDropletArgs(where, a);
        assertHostName(`${where}.siteName`, a.siteName);
        assertHealthPath(`${where}.healthPath`, a.healthPath);
        assertInputList(`${where}.backends`, a.backends, isRecord, "must be a list of { name, region, address } (or an Output of one)");
        if (a.failover !== undefined) {
            assertRecord(`${where}.failover`, a.failover, "must be { apiToken, apiUrl? } to move the reserved IP, or left out");
            assertInput(`${where}.failover.apiToken`, a.failover.apiToken, isNonEmptyString, "must be a DigitalOcean API token (a string or an Output of one)");
            if (a.failover.apiUrl !== undefined) assertApiUrl(`${where}.failover.apiUrl`, a.failover.apiUrl);
        }
        if (a.tls !== undefined) {
            assertRecord(`${where}.tls`, a.tls, "must be { pem } (the certificate, its chain and its key as one PEM) to serve HTTPS, or left out");
            // It holds the site's private key: a rejection must not print it.
            assertSecretInput(`${where}.tls.pem`, a.tls.pem, (v) => typeof v === "string" && v.includes("-----BEGIN CERTIFICATE-----") && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(v),
                "must be a PEM holding the certificate, its chain and its private key (a string or an Output of one)");
        }
        if (a.packages !== undefined) {
            assertList(`${where}.packages`, a.packages, "must be a list of Debian package names");
            a.packages.forEach((p, i) => assertString(`${where}.packages[${i}]`, p, "must be a Debian package name such as \"nodejs\"", /^[a-z0-9][a-z0-9+.-]+$/));
        }
        if (a.virtualRouterId !== undefined) assertInt(`${where}.virtualRouterId`, a.virtualRouterId, 1, 255, "must be 1-255 (unique per VPC)");
    }

    constructor(name: string, args: LoadBalancerTierArgs, opts?: pulumi.ComponentResourceOptions) {
        // The component's recorded inputs leave out the certificate bundle: the SDK resolves a
        // component's inputs before its children register, and the certificate may itself wait on
        // this tier's reserved IP (its DNS-01 order waits for the domain holding the round-robin records).
        const { tls: _bundle, ...recorded } = args;
        super("dns-rr-ha:lb:LoadBalancerTier", name, recorded, opts);
        LoadBalancerTier.validateArgs(args);
        this.region = args.region.region;
        const pair = args.count === 2;
        const packages = [...(pair ? ["haproxy", "keepalived"] : ["haproxy"]), ...(args.packages ?? [])];
        this.hosts = tierDroplets(this, name, "lb", { ...args, regions: [args.region], perRegion: args.count }, (region) => renderCloudConfig({
            role: "lb",
            region,
            packages,
            files: lbScripts().map((f) => ({ path: f.path, content: f.content, permissions: f.mode })),
            runcmd: [["systemctl", "enable", "haproxy"]],
        }), (_region, n) => `${name}-${n}`);

        const ip = new digitalocean.ReservedIp(`${name}-ip`, { region: this.region }, { parent: this });
        const assignment = new digitalocean.ReservedIpAssignment(`${name}-ip-assignment`, {
            ipAddress: ip.ipAddress,
            dropletId: this.hosts[0]!.id.apply(Number),
        }, {
            parent: this,
            // With a pair, keepalived moves the IP; a later `pulumi up` must not move it back to a dead LB.
            ignoreChanges: pair ? ["dropletId"] : [],
        });
        this.reservedIp = ip.ipAddress;
        const ip6 = args.ipv6 ? new digitalocean.ReservedIpv6(`${name}-ipv6`, { regionSlug: this.region }, { parent: this }) : undefined;
        if (ip6) {
            new digitalocean.ReservedIpv6Assignment(`${name}-ipv6-assignment`, {
                ip: ip6.ip,
                dropletId: this.hosts[0]!.id.apply(Number),
            }, { parent: this, ignoreChanges: pair ? ["dropletId"] : [] });
        }
        this.reservedIpv6 = ip6?.ip;
        this.reservedIpUrn = ip.reservedIpUrn;
        this.healthUrl = pulumi.interpolate`http://${ip.ipAddress}${LB_HEALTH_URI}`;

        const privateIps = pulumi.all(this.hosts.map((h) => h.privateIpv4));
        this.wiring = this.hosts.map((host, side) => {
            const token = pair && args.failover ? pulumi.secret(args.failover.apiToken) : undefined;
            const sitePem = args.tls ? pulumi.secret(args.tls.pem) : undefined;
            const files = pulumi.all([args.backends, privateIps, ip.ipAddress, ip6?.ip, token, sitePem]).apply(([backends, ips, reservedIp, reservedIpv6, apiToken, pem]): WiredFile[] => {
                const self = ips[side]!;
                const haproxy: WiredFile = {
                    path: HAPROXY_CFG,
                    mode: "0644",
                    content: renderHaproxyConfig({
                        siteName: args.siteName,
                        privateAddress: self,
                        healthPath: args.healthPath,
                        servers: appServersForRegion(this.region, backends.map((b) => ({ ...b, port: PORTS.http }))),
                        ipv6: reservedIpv6 !== undefined,
                        ...(pem !== undefined ? { tls: { certificatePath: LB_TLS_PATHS.pem, dhParamPath: LB_TLS_PATHS.dhParams } } : {}),
                    }),
                };
                // The key is HAProxy's: readable by its group, never by the world.
                const tlsFiles: WiredFile[] = pem === undefined ? [] : [
                    { path: LB_TLS_PATHS.pem, mode: "0640", owner: "root:haproxy", content: pem },
                    { path: LB_TLS_PATHS.dhParams, mode: "0644", content: FFDHE2048_PEM },
                ];
                // DigitalOcean routes a reserved IPv6 to its droplet but configures nothing inside it.
                const v6: WiredFile[] = reservedIpv6 === undefined ? [] : [{ path: IPV6_UNIT, mode: "0644", content: renderReservedIpv6Unit(reservedIpv6) }];
                if (!pair) return [...tlsFiles, haproxy, ...v6];
                const peer = ips[1 - side]!;
                const s = side as 0 | 1;
                const takeover: WiredFile[] = apiToken === undefined ? [] : [
                    { path: lbConfigFiles.doToken, mode: "0600", content: `${apiToken}\n` },
                    { path: lbConfigFiles.env, mode: "0644", content: `DO_API_URL=${args.failover?.apiUrl ?? "https://api.digitalocean.com"}\n` },
                ];
                return [
                    ...tlsFiles,
                    haproxy,
                    ...v6,
                    ...takeover,
                    { path: LINK_UNIT, mode: "0644", content: renderVrrpLinkUnit({ privateAddress: self, peerAddress: peer, side: s }) },
                    { path: KEEPALIVED_DROPIN, mode: "0644", content: renderKeepalivedDropIn() },
                    {
                        path: KEEPALIVED_CONF,
                        mode: "0640",
                        content: renderKeepalivedConfig({
                            routerId: host.name,
                            virtualRouterId: args.virtualRouterId ?? 51,
                            priority: 150 - side * 50,
                            interface: VRRP_LINK_INTERFACE,
                            privateAddress: vrrpLinkAddress(s),
                            peerAddress: vrrpLinkAddress((1 - side) as 0 | 1),
                            reservedIp,
                        }),
                    },
                ];
            });
            const commands: WiredCommand[] = [
                ...(args.ipv6 ? [
                    { run: "systemctl daemon-reload", when: [IPV6_UNIT] },
                    { run: `systemctl enable ${RESERVED_IPV6_UNIT}` },
                    { run: restartOrExplain(RESERVED_IPV6_UNIT), when: [IPV6_UNIT] },
                ] : []),
                { run: `haproxy -c -q -f ${HAPROXY_CFG}` },
                { run: "systemctl enable haproxy" },
                // A reload keeps established connections: the old workers finish them.
                { run: restartOrExplain("haproxy", "reload-or-restart"), when: [HAPROXY_CFG, ...(args.tls ? [LB_TLS_PATHS.pem, LB_TLS_PATHS.dhParams] : [])] },
                // HTTPS turned off: the running HAProxy no longer reads the key, so it leaves the disk.
                ...(args.tls ? [] : [{ run: `rm -f ${LB_TLS_PATHS.pem} ${LB_TLS_PATHS.dhParams}` }]),
                ...(pair ? [
                    { run: "systemctl daemon-reload", when: [LINK_UNIT, KEEPALIVED_DROPIN] },
                    { run: `systemctl enable ${VRRP_LINK_UNIT} keepalived` },
                    { run: restartOrExplain(VRRP_LINK_UNIT), when: [LINK_UNIT] },
                    { run: restartOrExplain("keepalived"), when: [LINK_UNIT, KEEPALIVED_DROPIN, KEEPALIVED_CONF] },
                    { run: "systemctl start keepalived" },
                ] : []),
            ];
            return wireHost(`${host.name}-wiring`, {
                connection: tierConnection(args, host),
                description: `load balancer ${host.name}`,
                files,
                commands,
            // keepalived starts during the wiring; its first MASTER must not race the initial assignment.
            }, { parent: this, dependsOn: [host.droplet, assignment] });
        });
        this.registerOutputs({ reservedIp: this.reservedIp, reservedIpv6: this.reservedIpv6, healthUrl: this.healthUrl });
    }
}

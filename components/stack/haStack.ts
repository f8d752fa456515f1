import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import * as tls from "@pulumi/tls";
import { StackSettings, siteName } from "../config/settings";
import { validateStackSettings } from "./validateStackSettings";
import { Network } from "../network/network";
import { Firewalls } from "../firewall/firewalls";
import { Role, ROLES } from "../droplet/roleDroplet";
import { describeHost, TierHost } from "../droplet/tier";
import { SessionCache } from "../cache/sessionCache";
import { ARBITRATOR_PACKAGE, DatabaseCluster } from "../db/databaseCluster";
import { galeraTimingFor } from "../db/myCnf";
import { AppTier } from "../app/appTier";
import { LoadBalancerTier } from "../lb/loadBalancerTier";
import { LB_HEALTH_URI } from "../lb/haproxyConfig";
import { DB_HEALTH_PATH } from "../app/paths";
import { SiteCertificate } from "../lb/siteCertificate";
import { RoundRobinDns } from "../dns/roundRobinDns";
import { Monitoring } from "../monitoring/monitoring";
import { createWitness, DnsFailover } from "../failover/dnsFailover";

/** A host as the stack outputs describe it. */
export interface HostSummary {
    readonly name: string;
    readonly region: string;
    readonly publicIpv4: string;
    readonly privateIpv4: string;
}

/**
 * The whole highly available stack from one settings object: VPCs (peered), firewalls by tag,
 * memcached, a MariaDB Galera cluster (the witness its tie-breaking vote), app servers, load balancers holding a reserved IP per
 * region, the round-robin DNS name, monitoring, and a DigitalOcean project grouping it all.
 */
export class HaStack extends pulumi.ComponentResource {
    /** The site's fully qualified name. */
    public readonly siteName: string;
    /** https://<siteName>/ (http:// with `https: false`). */
    public readonly siteUrl: string;
    /** The site's certificate, unless `https` is false. */
    public readonly certificate: SiteCertificate | undefined;
    /** Reserved IP of each region: the addresses the round-robin name resolves to. */
    public readonly entryPoints: pulumi.Output<{ region: string; ipv4: string }[]>;
    /** Every droplet by role. */
    public readonly hosts: pulumi.Output<Record<Role, HostSummary[]>>;
    /** MariaDB private endpoints, one per region. */
    public readonly databaseEndpoints: pulumi.Output<{ region: string; host: string; port: number }[]>;
    /** The deploy key's public half (its private half stays a secret in the state). */
    public readonly deployPublicKey: pulumi.Output<string>;
    public readonly network: Network;
    public readonly cache: SessionCache;
    public readonly database: DatabaseCluster;
    public readonly app: AppTier;
    public readonly loadBalancers: LoadBalancerTier[];
    public readonly dns: RoundRobinDns;
    /** The health-checked DNS agents, unless `dnsFailover.enabled` is false. */
    public readonly dnsFailover: DnsFailover | undefined;

    constructor(name: string, settings: StackSettings, opts?: pulumi.ComponentResourceOptions) {
        super("dns-rr-ha:stack:HaStack", name, {}, opts);
        validateStackSettings(settings);
        this.siteName = siteName(settings);
        const https = settings.https;
        this.siteUrl = `${https ? "https" : "http"}://${this.siteName}/`;
        // The DNS-01 challenge writes a TXT record into the domain, which RoundRobinDns creates; it is
        // declared below (it needs the LBs' reserved IPs, and the LBs need the certificate), so the
        // certificate waits on a promise of it.
        let dnsDeclared: (dns: RoundRobinDns) => void = () => undefined;
        const dnsReady = new Promise<pulumi.Resource[]>((resolve) => { dnsDeclared = (dns) => resolve([dns]); });
        // The DNS-01 token is used here, by `pulumi up`: the certificate reaches the LBs, the token does not.
        this.certificate = https ? new SiteCertificate(`${name}-cert`, {
            domain: this.siteName,
            serverUrl: https.acme.serverUrl,
            email: https.acme.email,
            dnsToken: pulumi.secret(settings.dnsToken!),
            minDaysRemaining: https.acme.minDaysRemaining,
        }, { parent: this, dependsOn: dnsReady }) : undefined;

        // The wiring step's own key: generated, so no operator key has to be shared with the program.
        const deployKey = new tls.PrivateKey(`${name}-deploy-key`, { algorithm: "ED25519" }, { parent: this });
        const deploySshKey = new digitalocean.SshKey(`${name}-deploy`, { publicKey: deployKey.publicKeyOpenssh }, { parent: this });
        this.deployPublicKey = deployKey.publicKeyOpenssh;
        const authorizedKeys = pulumi.all([deployKey.publicKeyOpenssh, ...settings.sshPublicKeys]);

        const tagOf = (suffix: string) => new digitalocean.Tag(`${name}-tag-${suffix}`, { name: `${name}-${suffix}` }, { parent: this });
        const stackTag = new digitalocean.Tag(`${name}-tag`, { name }, { parent: this });
        const roleTag = Object.fromEntries(ROLES.map((r) => [r, tagOf(r)])) as Record<Role, digitalocean.Tag>;
        const failover = settings.dnsFailover;

        this.network = new Network(`${name}-net`, {
            regions: [
                ...settings.regions.map((region, i) => ({ region, ipRange: settings.vpcCidrs[i]! })),
                ...(failover.witness ? [{ region: failover.witness.region, ipRange: failover.witness.vpcCidr }] : []),
            ],
        }, { parent: this });
        new Firewalls(`${name}-fw`, {
            roleTags: Object.fromEntries(ROLES.map((r) => [r, `${name}-${r}`])) as Record<Role, string>,
            adminCidrs: settings.adminCidrs,
        }, { parent: this, dependsOn: Object.values(roleTag) });

        const regions = settings.regions.map((region) => ({ region, vpcUuid: this.network.vpcIds[region]! }));
        const common = (role: Role, size: string) => ({
            regions,
            size,
            image: settings.image,
            sshKeys: [deploySshKey.fingerprint],
            deployPrivateKey: pulumi.secret(deployKey.privateKeyOpenssh),
            authorizedKeys,
            tags: [stackTag.name, roleTag[role].name],
            ipv6: settings.ipv6,
        });

        this.cache = new SessionCache(`${name}-cache`, {
            ...common("cache", settings.cache.size), perRegion: settings.cache.perRegion, memoryMb: settings.cache.memoryMb,
        }, { parent: this });
        // The witness votes in DNS failover and, with an even number of regions, is the database
        // cluster's tie-breaking vote too (garbd): its droplet is declared here, before both.
        const dbNeedsArbitrator = settings.regions.length % 2 === 0;
        const witnessSpec = failover.enabled && failover.witness ? {
            region: { region: failover.witness.region, vpcUuid: this.network.vpcIds[failover.witness.region]! },
            ...common("witness", failover.witness.size),
            ...(dbNeedsArbitrator ? { packages: [ARBITRATOR_PACKAGE] } : {}),
        } : undefined;
        const witnessHost = witnessSpec ? createWitness(this, `${name}-dnsfo`, { ...witnessSpec, deployPrivateKey: pulumi.secret(deployKey.privateKeyOpenssh), authorizedKeys }) : undefined;
        this.database = new DatabaseCluster(`${name}-db`, {
            ...common("db", settings.db.size),
            volumeSizeGb: settings.db.volumeSizeGb,
            timing: galeraTimingFor(settings.db.suspectTimeoutMs),
            // The app servers' VPCs only: nothing on the witness logs in (garbd speaks only the group protocol).
            clientCidrs: [...settings.vpcCidrs],
            ...(dbNeedsArbitrator && witnessHost ? { arbitrator: { host: witnessHost } } : {}),
        }, { parent: this });
        this.app = new AppTier(`${name}-app`, {
            ...common("app", settings.app.size),
            perRegion: settings.app.perRegion,
            source: settings.app.source,
            healthPath: settings.app.healthPath,
            siteName: this.siteName,
            lbCidrs: [...settings.vpcCidrs],
            database: this.database.connection,
            cacheServers: this.cache.servers,
            httpsOnly: Boolean(https),
        }, { parent: this });
        this.loadBalancers = regions.map((r) => new LoadBalancerTier(`${name}-lb-${r.region}`, {
            ...common("lb", settings.lb.size),
            region: r,
            count: settings.lb.perRegion,
            siteName: this.siteName,
            healthPath: settings.app.healthPath,
            backends: this.app.servers,
            ...(this.certificate ? { tls: { pem: this.certificate.pem } } : {}),
            ...(failover.enabled ? { packages: ["nodejs"] } : {}),
            ...(settings.reservedIpToken !== undefined ? {
                failover: { apiToken: pulumi.secret(settings.reservedIpToken), ...(settings.digitaloceanApiUrl ? { apiUrl: settings.digitaloceanApiUrl } : {}) },
            } : {}),
        }, { parent: this }));
        if (settings.lb.perRegion === 2 && settings.reservedIpToken === undefined) {
            pulumi.log.warn("dns-rr-ha:reservedIpToken is not set: each region's LB pair elects a keepalived MASTER, but cannot move the reserved IP to it. Set a token scoped to reserved IPs: pulumi config set --secret dns-rr-ha:reservedIpToken <token>", this);
        }

        this.dns = new RoundRobinDns(`${name}-dns`, {
            domain: settings.domain,
            createDomain: settings.createDomain,
            recordName: settings.recordName,
            ttl: settings.ttl,
            entryPoints: this.loadBalancers.map((lb) => ({ region: lb.region, ipv4: lb.reservedIp, ...(lb.reservedIpv6 ? { ipv6: lb.reservedIpv6 } : {}) })),
        }, { parent: this });
        dnsDeclared(this.dns);

        if (failover.enabled) {
            this.dnsFailover = new DnsFailover(`${name}-dnsfo`, {
                domain: settings.domain,
                recordName: settings.recordName,
                ttl: settings.ttl,
                siteName: this.siteName,
                entryPoints: this.loadBalancers.map((lb) => ({ region: lb.region, ipv4: lb.reservedIp, healthUrl: lb.healthUrl, ...(lb.reservedIpv6 ? { ipv6: lb.reservedIpv6 } : {}) })),
                observers: this.loadBalancers.flatMap((lb) => lb.hosts.map((host, i) => ({ host, after: [lb.wiring[i]!] }))),
                ...(witnessSpec && witnessHost ? { witness: { ...witnessSpec, host: witnessHost } } : {}),
                deployPrivateKey: pulumi.secret(deployKey.privateKeyOpenssh),
                authorizedKeys,
                ...(settings.dnsToken !== undefined ? { apiToken: pulumi.secret(settings.dnsToken) } : {}),
                ...(settings.digitaloceanApiUrl ? { apiUrl: settings.digitaloceanApiUrl } : {}),
                timing: failover.timing,
                waitFor: this.dns.records,
            }, { parent: this });
            if (settings.dnsToken === undefined) {
                pulumi.log.warn("dns-rr-ha:dnsToken is not set: the DNS failover agents watch the entry points and log what they would withdraw, but change no record. Set a token with the domain scopes: pulumi config set --secret dns-rr-ha:dnsToken <token>", this);
            }
        }

        new Monitoring(`${name}-mon`, {
            alertEmail: settings.alertEmail,
            dropletTag: name,
            entryPoints: this.loadBalancers.map((lb) => ({ region: lb.region, url: lb.healthUrl })),
            // The database as each region's app servers see it, through the region's entry point (plain HTTP, like /lb-health).
            dbHealth: this.loadBalancers.map((lb) => ({ region: lb.region, url: pulumi.interpolate`http://${lb.reservedIp}${DB_HEALTH_PATH}` })),
            // Alert at half of minDaysRemaining: renewal has been due that long and no `pulumi up` did it.
            ...(https ? { site: { url: `https://${this.siteName}${LB_HEALTH_URI}`, sslExpiryDays: Math.max(1, Math.floor(https.acme.minDaysRemaining / 2)) } } : {}),
        }, { parent: this, dependsOn: [stackTag] });

        const witness = this.dnsFailover?.witness ? [this.dnsFailover.witness] : [];
        const allHosts: TierHost[] = [...this.cache.hosts, ...this.database.hosts, ...this.app.hosts, ...this.loadBalancers.flatMap((lb) => lb.hosts), ...witness];
        new digitalocean.Project(`${name}-project`, {
            name: settings.projectName,
            description: `dns-rr-ha stack ${name}: ${this.siteName}`,
            purpose: "Web Application",
            environment: "Production",
            resources: [
                ...allHosts.map((h) => h.droplet.dropletUrn),
                ...this.loadBalancers.map((lb) => lb.reservedIpUrn),
                ...this.database.volumeUrns,
                ...(this.dns.domainUrn ? [this.dns.domainUrn] : []),
            ],
        }, { parent: this });

        this.entryPoints = pulumi.all(this.loadBalancers.map((lb) => lb.reservedIp.apply((ipv4) => ({ region: lb.region, ipv4 }))));
        const summarize = (hosts: TierHost[]) => pulumi.all(hosts.map(describeHost));
        this.hosts = pulumi.all([
            summarize(this.loadBalancers.flatMap((lb) => lb.hosts)),
            summarize(this.app.hosts),
            summarize(this.database.hosts),
            summarize(this.cache.hosts),
            summarize(witness),
        ]).apply(([lb, app, db, cache, w]) => ({ lb, app, db, cache, witness: w }));
        this.databaseEndpoints = this.database.endpoints;
        this.registerOutputs({
            siteUrl: this.siteUrl,
            certificateNotAfter: this.certificate?.notAfter,
            entryPoints: this.entryPoints,
            hosts: this.hosts,
            databaseEndpoints: this.databaseEndpoints,
        });
    }
}

/**
 * The component name for a stack: lowercase letters, digits and hyphens, because it prefixes
 * DigitalOcean tag names (which firewalls select) and droplet host names.
 */
export function stackResourceName(stack: string): string {
    const name = stack.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40);
    if (name === "") throw new Error(`stack name "${stack}" has no letter or digit to name resources after; rename the stack`);
    return name;
}

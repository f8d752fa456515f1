/** Each component's static validateArgs: bad args fail early with a message naming the field. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Network } from "./network/network";
import { RoundRobinDns } from "./dns/roundRobinDns";
import { Firewalls } from "./firewall/firewalls";
import { Monitoring } from "./monitoring/monitoring";
import { SessionCache } from "./cache/sessionCache";
import { LoadBalancerTier } from "./lb/loadBalancerTier";
import { DatabaseCluster, regionSlot } from "./db/databaseCluster";
import { GALERA_TIMING, galeraTimingFor } from "./db/myCnf";
import { AppTier } from "./app/appTier";
import { DnsFailover } from "./failover/dnsFailover";
import { stackResourceName } from "./stack/haStack";

const tier = { regions: [{ region: "nyc3", vpcUuid: "v1" }, { region: "ams3", vpcUuid: "v2" }], perRegion: 1, size: "s-1vcpu-1gb", image: "debian-12-x64", sshKeys: ["fp"], deployPrivateKey: "k", authorizedKeys: ["ssh-ed25519 x"], tags: ["t"] };

describe("component args", () => {
    test("Network: overlapping ranges, bad prefixes, duplicate regions", () => {
        assert.throws(() => Network.validateArgs({ regions: [{ region: "nyc3", ipRange: "10.1.0.0/16" }, { region: "ams3", ipRange: "10.1.4.0/24" }] }), /regions\[0\]\.ipRange "10\.1\.0\.0\/16" and regions\[1\]\.ipRange "10\.1\.4\.0\/24" overlap/);
        assert.throws(() => Network.validateArgs({ regions: [{ region: "nyc3", ipRange: "10.1.0.0/8" }] }), /regions\[0\]\.ipRange .* \/16 to \/28/);
        assert.throws(() => Network.validateArgs({ regions: [{ region: "nyc3", ipRange: "10.1.0.0/20" }, { region: "nyc3", ipRange: "10.2.0.0/20" }] }), /NetworkArgs\.regions lists region "nyc3" twice; one VPC per region$/);
        Network.validateArgs({ regions: [{ region: "nyc3", ipRange: "10.1.0.0/20" }, { region: "ams3", ipRange: "10.2.0.0/20" }] });
    });

    test("RoundRobinDns: TTL, one entry point, duplicate regions, record names", () => {
        const ok = { domain: "example.com", createDomain: true, recordName: "www", ttl: 30, entryPoints: [{ region: "nyc3", ipv4: "1.1.1.1" }, { region: "ams3", ipv4: "2.2.2.2" }] };
        RoundRobinDns.validateArgs(ok);
        assert.throws(() => RoundRobinDns.validateArgs({ ...ok, ttl: 20 }), /RoundRobinDnsArgs\.ttl 20: must be a whole number of seconds, at least 30/);
        assert.throws(() => RoundRobinDns.validateArgs({ ...ok, entryPoints: ok.entryPoints.slice(0, 1) }), /entryPoints has 1 entry/);
        assert.throws(() => RoundRobinDns.validateArgs({ ...ok, entryPoints: [ok.entryPoints[0]!, ok.entryPoints[0]!] }), /region "nyc3" twice/);
        assert.throws(() => RoundRobinDns.validateArgs({ ...ok, recordName: "WWW!" }), /recordName "WWW!"/);
    });

    test("Firewalls and Monitoring", () => {
        const tags = { lb: "a", app: "b", db: "c", cache: "d", witness: "e" };
        assert.throws(() => Firewalls.validateArgs({ roleTags: tags, adminCidrs: [] }), /adminCidrs must list/);
        assert.throws(() => Firewalls.validateArgs({ roleTags: tags, adminCidrs: ["0.0.0.0/0"] }), /adminCidrs\[0\] "0\.0\.0\.0\/0" opens SSH/);
        assert.throws(() => Monitoring.validateArgs({ alertEmail: "nope", dropletTag: "t", entryPoints: [] }), /alertEmail "nope"/);
        assert.throws(() => Monitoring.validateArgs({ alertEmail: "a@b.io", dropletTag: "t", entryPoints: [], thresholds: { cpu: 150 } }), /thresholds\.cpu 150/);
        assert.throws(() => Monitoring.validateArgs({ alertEmail: "a@b.io", dropletTag: "t", entryPoints: [], site: { url: "http://www.example.com/", sslExpiryDays: 15 } }), /MonitoringArgs\.site\.url "http:\/\/www\.example\.com\/": must be an https URL/);
        assert.throws(() => Monitoring.validateArgs({ alertEmail: "a@b.io", dropletTag: "t", entryPoints: [], site: { url: "https://www.example.com/", sslExpiryDays: 0 } }), /MonitoringArgs\.site\.sslExpiryDays 0: must be a whole number of days from 1 to 89/);
    });

    test("tiers", () => {
        assert.throws(() => SessionCache.validateArgs({ ...tier, perRegion: 0, memoryMb: 64 }), /SessionCacheArgs\.perRegion 0/);
        assert.throws(() => SessionCache.validateArgs({ ...tier, memoryMb: 8 }), /SessionCacheArgs\.memoryMb 8/);
        assert.throws(() => SessionCache.validateArgs({ ...tier, size: "Huge", memoryMb: 64 }), /SessionCacheArgs\.size "Huge"/);
        assert.throws(() => SessionCache.validateArgs({ ...tier, regions: [tier.regions[0]!, tier.regions[0]!], memoryMb: 64 }), /SessionCacheArgs\.regions lists region "nyc3" twice/);
        const lb = { ...tier, region: tier.regions[0]!, count: 2 as const, siteName: "www.example.com", healthPath: "/healthz", backends: [] };
        LoadBalancerTier.validateArgs(lb);
        assert.throws(() => LoadBalancerTier.validateArgs({ ...lb, count: 3 as unknown as 2 }), /LoadBalancerTierArgs\.count 3: must be 1 or 2/);
        assert.throws(() => LoadBalancerTier.validateArgs({ ...lb, healthPath: "healthz" }), /healthPath "healthz"/);
        assert.throws(() => LoadBalancerTier.validateArgs({ ...lb, virtualRouterId: 300 }), /virtualRouterId 300/);
        LoadBalancerTier.validateArgs({ ...lb, tls: { pem: "-----BEGIN CERTIFICATE-----\nc\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nk\n-----END PRIVATE KEY-----\n" } });
        const keyOnly = "-----BEGIN PRIVATE KEY-----\nsecret-key-material\n-----END PRIVATE KEY-----\n";
        assert.throws(() => LoadBalancerTier.validateArgs({ ...lb, tls: { pem: keyOnly } }), (e: unknown) => e instanceof Error
            && e.message === `LoadBalancerTierArgs.tls.pem (secret, ${keyOnly.length} characters): must be a PEM holding the certificate, its chain and its private key (a string or an Output of one)`);
        assert.throws(() => DatabaseCluster.validateArgs({ ...tier, volumeSizeGb: 0, clientCidrs: ["10.0.0.0/8"] }), /volumeSizeGb 0/);
        assert.throws(() => DatabaseCluster.validateArgs({ ...tier, volumeSizeGb: 10, clientCidrs: [] }), /clientCidrs must list/);
        assert.throws(() => DatabaseCluster.validateArgs({ ...tier, volumeSizeGb: 10, clientCidrs: ["10.0.0.0/8"], appUser: "App User" }), /appUser "App User"/);
        const app = { ...tier, source: { kind: "demo" as const }, healthPath: "/healthz", siteName: "s", lbCidrs: ["10.0.0.0/8"], database: { database: "d", user: "u", password: "p", port: 3306, hostsByRegion: {}, clusterSize: 3 }, cacheServers: [] };
        AppTier.validateArgs(app);
        assert.throws(() => AppTier.validateArgs({ ...app, uploadMaxMb: 0 }), /uploadMaxMb 0/);
        assert.throws(() => AppTier.validateArgs({ ...app, source: { kind: "directory", path: "/no/such/dir" } }), /source\.path "\/no\/such\/dir"/);
    });

    // Plain JavaScript callers can pass anything: a value of the wrong type is named with the field, shown, and what is allowed said.
    test("values of the wrong type are refused naming the field, the value and what is allowed", () => {
        const net = (v: unknown) => () => Network.validateArgs({ regions: v } as never);
        assert.throws(net({}), { message: "NetworkArgs.regions {}: must be a list of { region, ipRange }, one per region" });
        assert.throws(net(null), { message: "NetworkArgs.regions null: must be a list of { region, ipRange }, one per region" });
        assert.throws(net([{ region: "nyc3", ipRange: 10 }]), { message: "NetworkArgs.regions[0].ipRange 10: must be an IPv4 CIDR from /16 to /28" });
        assert.throws(() => Network.validateArgs(null as never), { message: "NetworkArgs null: must be an object of NetworkArgs fields" });
        const tags = { lb: "a", app: "b", db: "c", cache: "d", witness: "e" };
        assert.throws(() => Firewalls.validateArgs({ roleTags: tags, adminCidrs: {} as never }), { message: "FirewallsArgs.adminCidrs {}: must be a list of CIDR blocks such as [\"203.0.113.7/32\"]" });
        assert.throws(() => Firewalls.validateArgs({ roleTags: { ...tags, witness: undefined } as never, adminCidrs: ["10.0.0.0/8"] }), /FirewallsArgs\.roleTags\.witness undefined: must be a DigitalOcean tag name/);
        const dns = { domain: "example.com", createDomain: true, recordName: "www", ttl: 30, entryPoints: [{ region: "nyc3", ipv4: "1.1.1.1" }, { region: "ams3", ipv4: "2.2.2.2" }] };
        assert.throws(() => RoundRobinDns.validateArgs({ ...dns, entryPoints: 0 as never }), { message: "RoundRobinDnsArgs.entryPoints 0: must be a list of { region, ipv4, ipv6? }, one per region" });
        assert.throws(() => RoundRobinDns.validateArgs({ ...dns, ttl: 10n as never }), /RoundRobinDnsArgs\.ttl 10n: must be a whole number/);
        assert.throws(() => Monitoring.validateArgs({ alertEmail: Object.create(null) as never, dropletTag: "t", entryPoints: [] }), { message: "MonitoringArgs.alertEmail {}: is not an email address; give one such as \"ops@example.com\"" });
        assert.throws(() => Monitoring.validateArgs({ alertEmail: Symbol("x") as never, dropletTag: "t", entryPoints: [] }), /MonitoringArgs\.alertEmail Symbol\(x\): /);
        assert.throws(() => Monitoring.validateArgs({ alertEmail: "a@b.io", dropletTag: "t", entryPoints: [], thresholds: { cpuu: 50 } as never }), { message: "MonitoringArgs.thresholds.cpuu 50: is not a threshold; known: cpu, memory, disk" });
        assert.throws(() => SessionCache.validateArgs({ ...tier, regions: " " as never, memoryMb: 64 }), { message: "SessionCacheArgs.regions \" \": must be a list of { region, vpcUuid }, one per region" });
        assert.throws(() => DatabaseCluster.validateArgs({ ...tier, regions: null as never, volumeSizeGb: 10, clientCidrs: ["10.0.0.0/8"] }), /DatabaseClusterArgs\.regions null: must be a list/);
        assert.throws(() => DatabaseCluster.validateArgs({ ...tier, regions: [{ region: "mars1", vpcUuid: "v" }], volumeSizeGb: 10, clientCidrs: ["10.0.0.0/8"] }), /DatabaseClusterArgs\.regions\[0\]\.region "mars1": must be a DigitalOcean region/);
        const app = { ...tier, source: { kind: "demo" as const }, healthPath: "/healthz", siteName: "s", lbCidrs: ["10.0.0.0/8"], database: { database: "d", user: "u", password: "p", port: 3306, hostsByRegion: {}, clusterSize: 3 }, cacheServers: [] };
        assert.throws(() => AppTier.validateArgs({ ...app, healthPath: 0 as never }), { message: "AppTierArgs.healthPath 0: must start with \"/\" and hold no spaces or quotes, e.g. \"/healthz\"" });
        const lb = { ...tier, region: tier.regions[0]!, count: 2 as const, siteName: "www.example.com", healthPath: "/healthz", backends: [] };
        assert.throws(() => LoadBalancerTier.validateArgs({ ...lb, healthPath: 0 as never }), /LoadBalancerTierArgs\.healthPath 0: must start with "\/"/);
        assert.throws(() => LoadBalancerTier.validateArgs({ ...lb, region: [] as never }), { message: "LoadBalancerTierArgs.region []: must be { region, vpcUuid }: a region slug and its VPC's id" });
        assert.throws(() => LoadBalancerTier.validateArgs({ ...lb, region: { region: "NYC 3", vpcUuid: "v" } }), /LoadBalancerTierArgs\.region\.region "NYC 3": must be a DigitalOcean region slug/);
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        assert.throws(() => LoadBalancerTier.validateArgs({ ...lb, tags: cyclic as never }), { message: "LoadBalancerTierArgs.tags {\"self\":(circular)}: must be a list of tag names (strings or Outputs)" });
    });

    test("DnsFailover: entry points, observers, witness, timing", () => {
        const ok = {
            domain: "example.com", recordName: "www", ttl: 30, siteName: "www.example.com",
            entryPoints: [{ region: "nyc3", ipv4: "1.1.1.1", healthUrl: "http://1.1.1.1/lb-health" }, { region: "ams3", ipv4: "2.2.2.2", healthUrl: "http://2.2.2.2/lb-health" }],
            observers: [{ host: { name: "lb-nyc3-1", region: "nyc3" } }, { host: { name: "lb-ams3-1", region: "ams3" } }] as never,
            witness: { region: { region: "sfo3", vpcUuid: "v3" }, size: "s-1vcpu-512mb-10gb", image: "debian-12-x64", sshKeys: ["fp"], tags: ["t"] },
            deployPrivateKey: "k", authorizedKeys: ["ssh-ed25519 x"],
        };
        DnsFailover.validateArgs(ok);
        const { witness: _, ...noWitness } = ok;
        assert.throws(() => DnsFailover.validateArgs(noWitness), /DnsFailoverArgs\.observers: 2 observer\(s\) without DnsFailoverArgs\.witness cannot out-vote a dead one/);
        assert.throws(() => DnsFailover.validateArgs({ ...ok, witness: { ...ok.witness, region: { region: "nyc3", vpcUuid: "v" } } }),
            { message: "DnsFailoverArgs.witness.region \"nyc3\" is also the region of DnsFailoverArgs.observers[0]; the witness must fail separately" });
        assert.throws(() => DnsFailover.validateArgs({ ...ok, witness: { ...ok.witness, size: 1 as never } }), /DnsFailoverArgs\.witness\.size 1: must be a DigitalOcean size slug/);
        assert.throws(() => DnsFailover.validateArgs({ ...ok, entryPoints: ok.entryPoints.slice(0, 1) }), /DnsFailoverArgs\.entryPoints has 1 entry point\(s\); failover needs at least 2/);
        assert.throws(() => DnsFailover.validateArgs({ ...ok, entryPoints: [ok.entryPoints[0]!, { ...ok.entryPoints[1]!, healthUrl: "ftp://x" }] }), /DnsFailoverArgs\.entryPoints\[1\]\.healthUrl "ftp:\/\/x": must be an http\(s\) URL/);
        assert.throws(() => DnsFailover.validateArgs({ ...ok, timing: { intervalMs: 1000, timeoutMs: 1000, downAfter: 5, upAfter: 5 } }), /DnsFailoverArgs\.timing\.timeoutMs 1000: must be below timing\.intervalMs 1000/);
        assert.throws(() => DnsFailover.validateArgs({ ...ok, timing: { intervalMs: 1000, timeoutMs: 700, downAfter: 0, upAfter: 5 } }), { message: "DnsFailoverArgs.timing.downAfter 0: must be a whole number from 1 to 100" });
        assert.throws(() => DnsFailover.validateArgs({ ...ok, observers: null as never }), /DnsFailoverArgs\.observers null: must be a list/);
        assert.throws(() => DnsFailover.validateArgs({ ...ok, ttl: 20 }), /DnsFailoverArgs\.ttl 20: must be a whole number of seconds, at least 30/);
    });

    test("DatabaseCluster: an odd number of votes (the arbitrator with an even number of nodes only), apart from the nodes; a sound timing", () => {
        const db = { ...tier, volumeSizeGb: 10, clientCidrs: ["10.0.0.0/8"] };
        const witness = (region: string) => ({ host: { name: "prod-dnsfo-witness", region } as never });
        DatabaseCluster.validateArgs({ ...db, arbitrator: witness("sfo3") });
        assert.throws(() => DatabaseCluster.validateArgs(db), {
            message: "DatabaseClusterArgs.arbitrator undefined: is required with 2 nodes: an even number of votes lets a partition split them in halves, and then no side may write. Give the witness droplet as { host }",
        });
        const three = { ...db, regions: [...tier.regions, { region: "fra1", vpcUuid: "v3" }] };
        DatabaseCluster.validateArgs(three);
        assert.throws(() => DatabaseCluster.validateArgs({ ...three, arbitrator: witness("sfo3") }), {
            message: "DatabaseClusterArgs.arbitrator \"sfo3\": makes the votes even (3 nodes of DatabaseClusterArgs.regions + 1): leave it out with an odd number of nodes",
        });
        assert.throws(() => DatabaseCluster.validateArgs({ ...db, regions: [...three.regions, { region: "sgp1", vpcUuid: "v4" }] }), /DatabaseClusterArgs\.arbitrator undefined: is required with 4 nodes/);
        assert.throws(() => DatabaseCluster.validateArgs({ ...db, arbitrator: witness("ams3") }), {
            message: "DatabaseClusterArgs.arbitrator.host.region \"ams3\": must not be one of the nodes' regions: the tie-breaking vote must fail separately",
        });
        assert.throws(() => DatabaseCluster.validateArgs({ ...db, arbitrator: witness("mars1") }), /DatabaseClusterArgs\.arbitrator\.host "mars1": must be a TierHost \(the witness droplet\) in a DigitalOcean region/);
        assert.throws(() => DatabaseCluster.validateArgs({ ...db, arbitrator: { host: null as never } }), /DatabaseClusterArgs\.arbitrator\.host .*: must be a TierHost/);
        assert.throws(() => DatabaseCluster.validateArgs({ ...db, arbitrator: { ...witness("sfo3"), after: "w" as never } }), /DatabaseClusterArgs\.arbitrator\.after "w": must be a list of resources/);

        const t = GALERA_TIMING.default;
        for (const ok of [t, galeraTimingFor(1000), galeraTimingFor(8000), galeraTimingFor(60_000)]) DatabaseCluster.validateArgs({ ...three, timing: ok });
        const timing = (over: Record<string, unknown>) => () => DatabaseCluster.validateArgs({ ...three, timing: { ...t, ...over } as never });
        assert.throws(timing({ suspectMs: 999 }), /^Error: DatabaseClusterArgs\.timing \{.*\}: DatabaseClusterArgs\.timing\.suspectMs must be an integer in 1000\.\.60000 \(got 999\)$/);
        assert.throws(timing({ keepaliveMs: 3000 }), /DatabaseClusterArgs\.timing\.keepaliveMs \(3000\) must be at most a third of suspectMs \(5000\)/);
        assert.throws(timing({ inactiveMs: 4000 }), /DatabaseClusterArgs\.timing\.suspectMs \(5000\) must not exceed inactiveMs \(4000\)/);
        assert.throws(timing({ installMs: "15s" }), { message: "DatabaseClusterArgs.timing.installMs \"15s\": must be a whole number of milliseconds" });
        assert.throws(timing({ suspectMs: Symbol("s") }), { message: "DatabaseClusterArgs.timing.suspectMs Symbol(s): must be a whole number of milliseconds" });
        assert.throws(() => DatabaseCluster.validateArgs({ ...three, timing: 5000 as never }), /DatabaseClusterArgs\.timing 5000: must be \{ keepaliveMs, suspectMs, inactiveMs, installMs \}/);
    });

    test("database slots are fixed per region, whatever the config order", () => {
        assert.equal(regionSlot("nyc1"), 0);
        assert.notEqual(regionSlot("nyc3"), regionSlot("ams3"));
        assert.throws(() => regionSlot("mars1"), /not a DigitalOcean region/);
    });

    test("stack names become tag-safe component names", () => {
        assert.equal(stackResourceName("Prod.EU"), "prod-eu");
        assert.equal(stackResourceName("lab"), "lab");
        assert.throws(() => stackResourceName("..."), /no letter or digit/);
    });
});

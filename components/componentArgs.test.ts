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
import { AppTier } from "./app/appTier";
import { stackResourceName } from "./stack/haStack";

const tier = { regions: [{ region: "nyc3", vpcUuid: "v1" }, { region: "ams3", vpcUuid: "v2" }], perRegion: 1, size: "s-1vcpu-1gb", image: "debian-12-x64", sshKeys: ["fp"], deployPrivateKey: "k", authorizedKeys: ["ssh-ed25519 x"], tags: ["t"] };

describe("component args", () => {
    test("Network: overlapping ranges, bad prefixes, duplicate regions", () => {
        assert.throws(() => Network.validateArgs({ regions: [{ region: "nyc3", ipRange: "10.1.0.0/16" }, { region: "ams3", ipRange: "10.1.4.0/24" }] }), /regions\[0\]\.ipRange "10\.1\.0\.0\/16" and regions\[1\]\.ipRange "10\.1\.4\.0\/24" overlap/);
        assert.throws(() => Network.validateArgs({ regions: [{ region: "nyc3", ipRange: "10.1.0.0/8" }] }), /regions\[0\]\.ipRange .* \/16 to \/28/);
        assert.throws(() => Network.validateArgs({ regions: [{ region: "nyc3", ipRange: "10.1.0.0/20" }, { region: "nyc3", ipRange: "10.2.0.0/20" }] }), /regions\[1\]\.region "nyc3" appears twice/);
        Network.validateArgs({ regions: [{ region: "nyc3", ipRange: "10.1.0.0/20" }, { region: "ams3", ipRange: "10.2.0.0/20" }] });
    });

    test("RoundRobinDns: TTL, one entry point, duplicate regions, record names", () => {
        const ok = { domain: "example.com", createDomain: true, recordName: "www", ttl: 30, entryPoints: [{ region: "nyc3", ipv4: "1.1.1.1" }, { region: "ams3", ipv4: "2.2.2.2" }] };
        RoundRobinDns.validateArgs(ok);
        assert.throws(() => RoundRobinDns.validateArgs({ ...ok, ttl: 20 }), /ttl 20 .* at least 30/);
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
    });

    test("tiers", () => {
        assert.throws(() => SessionCache.validateArgs({ ...tier, perRegion: 0, memoryMb: 64 }), /SessionCacheArgs\.perRegion 0/);
        assert.throws(() => SessionCache.validateArgs({ ...tier, memoryMb: 8 }), /SessionCacheArgs\.memoryMb 8/);
        assert.throws(() => SessionCache.validateArgs({ ...tier, size: "Huge", memoryMb: 64 }), /SessionCacheArgs\.size "Huge"/);
        assert.throws(() => SessionCache.validateArgs({ ...tier, regions: [tier.regions[0]!, tier.regions[0]!], memoryMb: 64 }), /lists "nyc3" twice/);
        const lb = { ...tier, region: tier.regions[0]!, count: 2 as const, siteName: "www.example.com", healthPath: "/healthz", backends: [] };
        LoadBalancerTier.validateArgs(lb);
        assert.throws(() => LoadBalancerTier.validateArgs({ ...lb, count: 3 as unknown as 2 }), /perRegion 3 .* 1 to 2|count 3/);
        assert.throws(() => LoadBalancerTier.validateArgs({ ...lb, healthPath: "healthz" }), /healthPath "healthz"/);
        assert.throws(() => LoadBalancerTier.validateArgs({ ...lb, virtualRouterId: 300 }), /virtualRouterId 300/);
        assert.throws(() => DatabaseCluster.validateArgs({ ...tier, volumeSizeGb: 0, clientCidrs: ["10.0.0.0/8"] }), /volumeSizeGb 0/);
        assert.throws(() => DatabaseCluster.validateArgs({ ...tier, volumeSizeGb: 10, clientCidrs: [] }), /clientCidrs must list/);
        assert.throws(() => DatabaseCluster.validateArgs({ ...tier, volumeSizeGb: 10, clientCidrs: ["10.0.0.0/8"], appUser: "App User" }), /appUser "App User"/);
        const app = { ...tier, source: { kind: "demo" as const }, healthPath: "/healthz", siteName: "s", lbCidrs: ["10.0.0.0/8"], database: { database: "d", user: "u", password: "p", port: 3306, hostsByRegion: {} }, cacheServers: [] };
        AppTier.validateArgs(app);
        assert.throws(() => AppTier.validateArgs({ ...app, uploadMaxMb: 0 }), /uploadMaxMb 0/);
        assert.throws(() => AppTier.validateArgs({ ...app, source: { kind: "directory", path: "/no/such/dir" } }), /source\.path "\/no\/such\/dir"/);
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

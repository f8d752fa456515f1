import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fc from "fast-check";
import * as os from "os";
import { parseStackConfig, StackConfigError } from "./parse";

const NS = "dns-rr-ha";
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJrk9av7A6t8QWFFRD6TqSBafSQwk0uGVLigT5aDP6mG ops@example.com";
const valid: Record<string, string> = {
    [`${NS}:domain`]: "example.com",
    [`${NS}:regions`]: JSON.stringify(["nyc3", "ams3"]),
    [`${NS}:adminCidrs`]: JSON.stringify(["203.0.113.7/32"]),
    [`${NS}:sshPublicKeys`]: JSON.stringify([KEY]),
    [`${NS}:alertEmail`]: "ops@example.com",
    [`${NS}:dnsFailover`]: JSON.stringify({ witnessRegion: "sfo3" }),
    // HTTPS is on by default; its DNS-01 challenge needs this token.
    [`${NS}:dnsToken`]: "dop_v1_0123456789abcdef0123456789abcdef",
    "digitalocean:token": "ignored-by-the-parser",
};
const opts = { namespace: NS, stack: "prod", baseDir: os.tmpdir() };

function problems(overrides: Record<string, string | undefined>): string[] {
    const raw: Record<string, string> = { ...valid };
    for (const [k, v] of Object.entries(overrides)) {
        if (v === undefined) delete raw[k];
        else raw[k] = v;
    }
    try {
        parseStackConfig(raw, opts);
    } catch (e) {
        assert.ok(e instanceof StackConfigError, `expected StackConfigError, got ${String(e)}`);
        return [...e.problems];
    }
    assert.fail("config was accepted");
}

describe("parseStackConfig", () => {
    test("a minimal config gets the documented defaults", () => {
        const s = parseStackConfig(valid, opts);
        assert.equal(s.ttl, 30);
        assert.equal(s.recordName, "www");
        assert.equal(s.image, "debian-12-x64");
        assert.deepEqual(s.lb, { perRegion: 2, size: "s-1vcpu-1gb" });
        assert.equal(s.app.perRegion, 2);
        assert.deepEqual(s.app.source, { kind: "demo" });
        assert.deepEqual(s.vpcCidrs, ["10.110.0.0/20", "10.111.0.0/20"]);
        assert.equal(s.projectName, "dns-rr-ha-prod");
        assert.deepEqual(s.db, { size: "s-2vcpu-4gb", volumeSizeGb: 20, suspectTimeoutMs: 5000 });
        assert.deepEqual(s.dnsFailover, {
            enabled: true,
            timing: { intervalMs: 1000, timeoutMs: 700, downAfter: 5, upAfter: 5 },
            witness: { region: "sfo3", vpcCidr: "10.112.0.0/20", size: "s-1vcpu-512mb-10gb" },
        });
        assert.deepEqual(s.https, { acme: { serverUrl: "https://acme-v02.api.letsencrypt.org/directory", email: "ops@example.com", minDaysRemaining: 30 } });
    });

    test("HTTPS: acme settings as given; off with https false, which needs no token", () => {
        const acme = { serverUrl: "https://192.0.2.22:14000/dir", email: "certs@example.com", minDaysRemaining: 89 };
        assert.deepEqual(parseStackConfig({ ...valid, [`${NS}:acme`]: JSON.stringify(acme) }, opts).https, { acme });
        const { [`${NS}:dnsToken`]: _token, ...noToken } = valid;
        assert.equal(parseStackConfig({ ...noToken, [`${NS}:https`]: "false" }, opts).https, false);
        assert.equal(parseStackConfig({ ...noToken, [`${NS}:https`]: "false", [`${NS}:acme`]: JSON.stringify(acme) }, opts).https, false);
        assert.deepEqual(parseStackConfig({ ...valid, [`${NS}:https`]: "true" }, opts).https, parseStackConfig(valid, opts).https);
    });

    test("HTTPS without dnsToken is refused, naming the key, what needs it, and both fixes", () => {
        assert.deepEqual(problems({ [`${NS}:dnsToken`]: undefined }), [
            "dns-rr-ha:dnsToken = (not set): is required while https is on (the default): the certificate's ACME DNS-01 challenge writes a TXT record in example.com with it. "
            + "Set a token with the domain scopes: pulumi config set --secret dns-rr-ha:dnsToken <token>; or set dns-rr-ha:https false to serve plain HTTP only",
        ]);
    });

    test("the witness VPC defaults to the first free 10.x.0.0/20 and an explicit one must not overlap", () => {
        const s = parseStackConfig({ ...valid, [`${NS}:vpcCidrs`]: JSON.stringify(["10.110.0.0/20", "10.112.0.0/20"]) }, opts);
        assert.equal(s.dnsFailover.witness?.vpcCidr, "10.111.0.0/20");
        assert.match(problems({ [`${NS}:dnsFailover`]: JSON.stringify({ witnessRegion: "sfo3", witnessVpcCidr: "10.110.8.0/24" }), [`${NS}:vpcCidrs`]: JSON.stringify(["10.110.0.0/20", "10.111.0.0/20"]) }).join("\n"),
            /dns-rr-ha:dnsFailover\.witnessVpcCidr = "10\.110\.8\.0\/24": must not overlap vpcCidrs entry 10\.110\.0\.0\/20/);
    });

    test("a DNS token is never echoed", () => {
        const text = problems({ [`${NS}:dnsToken`]: "short secret" }).join("\n");
        assert.match(text, /dns-rr-ha:dnsToken = \(secret, 12 characters\)/);
        assert.ok(!text.includes("short secret"));
    });

    test("db.suspectTimeoutMs is taken as given within 1000..60000 ms", () => {
        for (const ms of [1000, 8000, 60000]) assert.equal(parseStackConfig({ ...valid, [`${NS}:db`]: JSON.stringify({ suspectTimeoutMs: ms }) }, opts).db.suspectTimeoutMs, ms);
    });

    test("db.durability and db.semisyncTimeoutMs (the master-master design's) are refused, saying they are no longer settings and what to do", () => {
        const why = "is no longer a setting: the database is one Galera cluster across the regions, and every commit is acknowledged by all of them before it returns (components/db/DURABILITY.md). "
            + "Delete the key; db.suspectTimeoutMs sets how long writes wait for a region that vanished";
        assert.deepEqual(problems({ [`${NS}:db`]: '{"durability":"semisync"}' }), [`dns-rr-ha:db.durability = "semisync": ${why}`]);
        assert.deepEqual(problems({ [`${NS}:db`]: '{"durability":"async"}' }), [`dns-rr-ha:db.durability = "async": ${why}`]);
        assert.deepEqual(problems({ [`${NS}:db`]: '{"semisyncTimeoutMs":1000}' }), [`dns-rr-ha:db.semisyncTimeoutMs = 1000: ${why}`]);
        assert.deepEqual(problems({ [`${NS}:db`]: '{"durability":null,"semisyncTimeoutMs":"1s","volumeSizeGb":50}' }), [`dns-rr-ha:db.durability = null: ${why}`, `dns-rr-ha:db.semisyncTimeoutMs = "1s": ${why}`]);
    });

    test("an even number of regions needs the witness, the database cluster's tie-breaking vote; an odd number does not", () => {
        const off = problems({ [`${NS}:dnsFailover`]: JSON.stringify({ enabled: false }) });
        assert.equal(off.length, 1, off.join("\n"));
        assert.match(off[0]!, /^dns-rr-ha:dnsFailover\.enabled = false: must be true with a witnessRegion with 2 regions: the database cluster needs an odd number of votes, or a partition into two halves leaves no side that may write\./);
        // With the witness named but failover off, there is no witness droplet either.
        assert.match(problems({ [`${NS}:dnsFailover`]: JSON.stringify({ enabled: false, witnessRegion: "sfo3" }) }).join("\n"), /^dns-rr-ha:dnsFailover\.enabled = false: .*odd number of votes/);
        // Two regions without a witness: one problem naming both of its uses, and no advice that is refused (turning failover off).
        const none = problems({ [`${NS}:dnsFailover`]: "{}" });
        assert.equal(none.length, 1, none.join("\n"));
        assert.match(none[0]!, /^dns-rr-ha:dnsFailover\.witnessRegion = \(not set\): is required with 2 regions: the database cluster needs an odd number of votes/);
        assert.match(none[0]!, /e\.g\. "nyc1"\) is its tie-breaking vote; DNS failover needs it too: a withdrawal needs a majority of observers/);
        assert.ok(!none[0]!.includes("enabled: false"), none[0]);
        const four = { [`${NS}:regions`]: JSON.stringify(["nyc3", "ams3", "fra1", "sgp1"]) };
        const fourNone = problems({ ...four, [`${NS}:dnsFailover`]: "{}" });
        assert.equal(fourNone.length, 1, fourNone.join("\n"));
        assert.match(fourNone[0]!, /^dns-rr-ha:dnsFailover\.witnessRegion = \(not set\): is required with 4 regions: the database cluster needs an odd number of votes.*; or use an odd number of regions$/);
        assert.equal(parseStackConfig({ ...valid, ...four }, opts).dnsFailover.witness?.region, "sfo3", "four regions with the witness");
        const three = { ...valid, [`${NS}:regions`]: JSON.stringify(["nyc3", "ams3", "fra1"]), [`${NS}:dnsFailover`]: "{}" };
        assert.equal(parseStackConfig(three, opts).dnsFailover.witness, undefined);
        assert.equal(parseStackConfig({ ...three, [`${NS}:dnsFailover`]: JSON.stringify({ enabled: false }) }, opts).dnsFailover.enabled, false);
    });

    // The bad-config table: each case names the key, shows the value, and says what is allowed.
    const table: { what: string; set: Record<string, string | undefined>; expect: RegExp[] }[] = [
        { what: "a wrong region slug", set: { [`${NS}:regions`]: '["nyc3","mars1"]' }, expect: [/dns-rr-ha:regions\[1\] = "mars1"/, /one of: nyc1, nyc3/] },
        { what: "one region only", set: { [`${NS}:regions`]: '["nyc3"]' }, expect: [/dns-rr-ha:regions = \["nyc3"\]/, /at least two regions/] },
        { what: "the same region twice", set: { [`${NS}:regions`]: '["nyc3","nyc3"]' }, expect: [/dns-rr-ha:regions/, /twice/] },
        { what: "an app count of 0", set: { [`${NS}:app`]: '{"perRegion":0}' }, expect: [/dns-rr-ha:app\.perRegion = 0/, /at least 1/] },
        { what: "a cache count of 0", set: { [`${NS}:cache`]: '{"perRegion":0}' }, expect: [/dns-rr-ha:cache\.perRegion = 0/, /at least 1/] },
        { what: "three LBs per region", set: { [`${NS}:lb`]: '{"perRegion":3}' }, expect: [/dns-rr-ha:lb\.perRegion = 3/, /must be 1 or 2/] },
        { what: "a CIDR that is not one", set: { [`${NS}:adminCidrs`]: '["10.0.0.300/24"]' }, expect: [/dns-rr-ha:adminCidrs\[0\] = "10.0.0.300\/24"/, /CIDR block such as/] },
        { what: "SSH open to the world", set: { [`${NS}:adminCidrs`]: '["0.0.0.0/0"]' }, expect: [/dns-rr-ha:adminCidrs\[0\] = "0.0.0.0\/0"/, /whole internet/] },
        { what: "a TTL under 30", set: { [`${NS}:ttl`]: "10" }, expect: [/dns-rr-ha:ttl = 10/, /at least 30 seconds/] },
        { what: "a TTL that is not a number", set: { [`${NS}:ttl`]: "soon" }, expect: [/dns-rr-ha:ttl = "soon"/, /whole number of seconds/] },
        { what: "a misspelled top-level key", set: { [`${NS}:regoins`]: '["nyc3"]' }, expect: [/dns-rr-ha:regoins is not a setting/, /did you mean dns-rr-ha:regions\?/] },
        { what: "a misspelled nested key", set: { [`${NS}:lb`]: '{"sise":"s-1vcpu-1gb"}' }, expect: [/dns-rr-ha:lb\.sise is not a setting/, /did you mean dns-rr-ha:lb\.size\?/] },
        { what: "a missing domain", set: { [`${NS}:domain`]: undefined }, expect: [/dns-rr-ha:domain = \(not set\)/] },
        { what: "a domain without a dot", set: { [`${NS}:domain`]: "localhost" }, expect: [/dns-rr-ha:domain = "localhost"/, /domain name such as/] },
        { what: "a key that is not an SSH key", set: { [`${NS}:sshPublicKeys`]: '["AAAA hello"]' }, expect: [/dns-rr-ha:sshPublicKeys\[0\]/, /OpenSSH public key/] },
        { what: "no admin CIDR", set: { [`${NS}:adminCidrs`]: "[]" }, expect: [/dns-rr-ha:adminCidrs = \[\]/, /at least one CIDR/] },
        { what: "a bad alert email", set: { [`${NS}:alertEmail`]: "ops" }, expect: [/dns-rr-ha:alertEmail = "ops"/, /email address/] },
        { what: "overlapping VPC ranges", set: { [`${NS}:vpcCidrs`]: '["10.110.0.0/20","10.110.8.0/24"]' }, expect: [/dns-rr-ha:vpcCidrs/, /must not overlap/] },
        { what: "a public VPC range", set: { [`${NS}:vpcCidrs`]: '["8.8.0.0/20","10.111.0.0/20"]' }, expect: [/dns-rr-ha:vpcCidrs\[0\] = "8.8.0.0\/20"/, /private IPv4 CIDR/] },
        { what: "VPC ranges not matching the regions", set: { [`${NS}:vpcCidrs`]: '["10.110.0.0/20"]' }, expect: [/dns-rr-ha:vpcCidrs/, /one CIDR per region \(2/] },
        { what: "a suspect timeout under a second", set: { [`${NS}:db`]: '{"suspectTimeoutMs":999}' }, expect: [/^dns-rr-ha:db\.suspectTimeoutMs = 999: must be at least 1000 ms: a shorter hiccup of the inter-region link would already evict a healthy region; e.g. 5000$/m] },
        { what: "a suspect timeout over a minute", set: { [`${NS}:db`]: '{"suspectTimeoutMs":60001}' }, expect: [/^dns-rr-ha:db\.suspectTimeoutMs = 60001: must be at most 60000 ms: when a region vanishes, writes everywhere stall this long/m] },
        { what: "a suspect timeout that is not a number of ms", set: { [`${NS}:db`]: '{"suspectTimeoutMs":"5s"}' }, expect: [/^dns-rr-ha:db\.suspectTimeoutMs = "5s": must be a whole number of milliseconds from 1000 to 60000$/m] },
        { what: "a bad size slug", set: { [`${NS}:db`]: '{"size":"Big Box"}' }, expect: [/dns-rr-ha:db\.size = "Big Box"/, /size slug/] },
        { what: "https that is not a boolean", set: { [`${NS}:https`]: '"yes"' }, expect: [/dns-rr-ha:https = "yes"/, /must be true \(HTTPS .*\) or false \(plain HTTP only\)/] },
        { what: "an ACME directory over plain http", set: { [`${NS}:acme`]: '{"serverUrl":"http://acme.example.com/dir"}' }, expect: [/dns-rr-ha:acme\.serverUrl = "http:\/\/acme\.example\.com\/dir"/, /ACME directory URL over https/, /acme-staging-v02/] },
        { what: "a bad ACME email", set: { [`${NS}:acme`]: '{"email":"ops"}' }, expect: [/dns-rr-ha:acme\.email = "ops"/, /email address for the ACME account/] },
        { what: "minDaysRemaining of 0", set: { [`${NS}:acme`]: '{"minDaysRemaining":0}' }, expect: [/dns-rr-ha:acme\.minDaysRemaining = 0/, /at least 1 day/] },
        { what: "minDaysRemaining of 90", set: { [`${NS}:acme`]: '{"minDaysRemaining":90}' }, expect: [/dns-rr-ha:acme\.minDaysRemaining = 90/, /at most 89: Let's Encrypt certificates last 90 days/] },
        { what: "minDaysRemaining that is not whole", set: { [`${NS}:acme`]: '{"minDaysRemaining":"30d"}' }, expect: [/dns-rr-ha:acme\.minDaysRemaining = "30d"/, /whole number of days from 1 to 89/] },
        { what: "a misspelled acme key", set: { [`${NS}:acme`]: '{"minDaysRemainig":30}' }, expect: [/dns-rr-ha:acme\.minDaysRemainig is not a setting/, /did you mean dns-rr-ha:acme\.minDaysRemaining\?/] },
        { what: "an app source that does not exist", set: { [`${NS}:app`]: '{"source":"./no-such-app-dir"}' }, expect: [/dns-rr-ha:app\.source = "\.\/no-such-app-dir"/, /existing directory/] },
    ];
    for (const c of table) {
        test(`rejects ${c.what}, naming key, value and fix`, () => {
            const text = problems(c.set).join("\n");
            for (const re of c.expect) assert.match(text, re);
        });
    }

    test("a __proto__ key is an unknown key like any other, at the top and nested, and sets nothing", () => {
        assert.deepEqual(problems({ [`${NS}:__proto__`]: '{"ttl":3600}' }), [
            "dns-rr-ha:__proto__ is not a setting of this stack; remove it (pulumi config rm 'dns-rr-ha:__proto__') Known keys here: " +
            "domain, createDomain, recordName, ttl, regions, vpcCidrs, image, ipv6, lb, app, db, cache, adminCidrs, sshPublicKeys, alertEmail, reservedIpToken, dnsToken, https, acme, dnsFailover, digitaloceanApiUrl, projectName",
        ]);
        // Its value's keys are not read as settings: only the key the user set is named.
        assert.deepEqual(problems({ [`${NS}:__proto__`]: '{"ttl":3600,"bogus":1}' }).map((p) => p.split(" ")[0]), ["dns-rr-ha:__proto__"]);
        assert.match(problems({ [`${NS}:lb`]: '{"__proto__":{"perRegion":1}}' }).join("\n"), /^dns-rr-ha:lb\.__proto__ is not a setting of this stack/);
        assert.match(problems({ [`${NS}:dnsFailover`]: '{"witnessRegion":"sfo3","__proto__":{"enabled":false}}' }).join("\n"), /^dns-rr-ha:dnsFailover\.__proto__ is not a setting/);
        assert.match(problems({ [`${NS}:constructor`]: '{"ttl":3600}' }).join("\n"), /^dns-rr-ha:constructor is not a setting/);
    });

    test("reports every bad key at once", () => {
        const p = problems({ [`${NS}:ttl`]: "5", [`${NS}:regions`]: '["nyc3"]' });
        assert.equal(p.length, 2);
    });

    test("property: any config is either accepted whole or rejected with messages that name a dns-rr-ha key", () => {
        const keys = ["domain", "regions", "ttl", "lb", "app", "db", "cache", "adminCidrs", "sshPublicKeys", "alertEmail", "recordName", "ipv6", "bogus"];
        const anyJson = fc.oneof(fc.string(), fc.integer({ min: -5, max: 100000 }), fc.boolean(), fc.constant(null),
            fc.array(fc.oneof(fc.string(), fc.constantFrom("nyc3", "ams3", "10.0.0.0/8", KEY))),
            fc.dictionary(fc.constantFrom("perRegion", "size", "memoryMb", "sise"), fc.oneof(fc.integer({ min: -1, max: 30 }), fc.string())));
        fc.assert(fc.property(fc.dictionary(fc.constantFrom(...keys), anyJson), (overrides) => {
            const raw: Record<string, string> = { ...valid };
            for (const [k, v] of Object.entries(overrides)) raw[`${NS}:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
            try {
                const s = parseStackConfig(raw, opts);
                assert.ok(s.regions.length >= 2 && s.ttl >= 30);
            } catch (e) {
                if (!(e instanceof StackConfigError)) throw e;
                assert.ok(e.problems.length > 0);
                for (const p of e.problems) assert.match(p, /^dns-rr-ha:[A-Za-z]/);
            }
        }), { numRuns: 300 });
    });
});

/**
 * Property: every component's static validateArgs, fed args with one field replaced by a malformed
 * value, either accepts them or throws a plain Error naming "<Component>Args.<field>"; never a
 * TypeError, a RangeError or another unexplained failure. Malformed values are of the field's own
 * type (what TypeScript callers can pass: empty or duplicated lists, bad CIDRs, unicode, NaN, huge
 * or negative numbers, nested fields broken the same way) or of the WRONG type (what plain
 * JavaScript callers can pass: null, undefined, numbers, strings, booleans, objects, lists, sparse
 * lists, null-prototype objects, symbols, BigInt, cyclic objects), at the top and nested.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fc from "fast-check";
import { Network } from "./network/network";
import { RoundRobinDns } from "./dns/roundRobinDns";
import { Firewalls } from "./firewall/firewalls";
import { Monitoring } from "./monitoring/monitoring";
import { SessionCache } from "./cache/sessionCache";
import { LoadBalancerTier } from "./lb/loadBalancerTier";
import { DatabaseCluster } from "./db/databaseCluster";
import { AppTier } from "./app/appTier";
import { DnsFailover } from "./failover/dnsFailover";
import { SiteCertificate } from "./lb/siteCertificate";

type Args = Record<string, unknown>;

function withoutKeys(args: Args, keys: readonly string[]): Args {
    return Object.fromEntries(Object.entries(args).filter(([k]) => !keys.includes(k)));
}

const tier: Args = { regions: [{ region: "nyc3", vpcUuid: "v1" }, { region: "ams3", vpcUuid: "v2" }], perRegion: 1, size: "s-1vcpu-1gb", image: "debian-12-x64", sshKeys: ["fp"], deployPrivateKey: "k", authorizedKeys: ["ssh-ed25519 x"], tags: ["t"] };

interface Subject {
    readonly component: string;
    readonly validate: (args: Args) => void;
    readonly valid: Args;
}

// The casts hand each validator deliberately ill-typed args: the point is what plain JS callers can pass.
const subjects: Subject[] = [
    { component: "Network", validate: (a) => Network.validateArgs(a as never), valid: { regions: [{ region: "nyc3", ipRange: "10.1.0.0/20" }, { region: "ams3", ipRange: "10.2.0.0/20" }] } },
    { component: "Firewalls", validate: (a) => Firewalls.validateArgs(a as never), valid: { roleTags: { lb: "a", app: "b", db: "c", cache: "d", witness: "e" }, adminCidrs: ["203.0.113.7/32"] } },
    { component: "RoundRobinDns", validate: (a) => RoundRobinDns.validateArgs(a as never), valid: { domain: "example.com", createDomain: true, recordName: "www", ttl: 30, entryPoints: [{ region: "nyc3", ipv4: "1.1.1.1" }, { region: "ams3", ipv4: "2.2.2.2", ipv6: "2001:db8::1" }] } },
    { component: "Monitoring", validate: (a) => Monitoring.validateArgs(a as never), valid: { alertEmail: "ops@example.com", dropletTag: "t", entryPoints: [{ region: "nyc3", url: "http://1.1.1.1/healthz" }], site: { url: "https://www.example.com/lb-health", sslExpiryDays: 15 }, thresholds: { cpu: 90 } } },
    { component: "SessionCache", validate: (a) => SessionCache.validateArgs(a as never), valid: { ...tier, memoryMb: 64, ipv6: false } },
    {
        // Two regions: the witness (in a third) is the arbitrator, the tie-breaking vote.
        component: "DatabaseCluster", validate: (a) => DatabaseCluster.validateArgs(a as never),
        valid: {
            ...withoutKeys(tier, ["perRegion"]), volumeSizeGb: 10, clientCidrs: ["10.110.0.0/20"], databaseName: "app", appUser: "app",
            arbitrator: { host: { name: "w", region: "sfo3", index: 0 }, after: [] }, timing: { keepaliveMs: 1000, suspectMs: 5000, inactiveMs: 15000, installMs: 15000 },
        },
    },
    {
        component: "AppTier", validate: (a) => AppTier.validateArgs(a as never),
        valid: { ...tier, source: { kind: "demo" }, healthPath: "/healthz", siteName: "www.example.com", lbCidrs: ["10.110.0.0/20"], uploadMaxMb: 20, database: { database: "d", user: "u", password: "p", port: 3306, hostsByRegion: {}, clusterSize: 3 }, cacheServers: [] },
    },
    {
        component: "LoadBalancerTier", validate: (a) => LoadBalancerTier.validateArgs(a as never),
        valid: { ...withoutKeys(tier, ["regions", "perRegion"]), region: { region: "nyc3", vpcUuid: "v1" }, count: 2, siteName: "www.example.com", healthPath: "/healthz", backends: [], failover: { apiToken: "t", apiUrl: "https://api.digitalocean.com" }, tls: { pem: "-----BEGIN CERTIFICATE-----\nc\n-----END CERTIFICATE-----\n-----BEGIN EC PRIVATE KEY-----\nk\n-----END EC PRIVATE KEY-----\n" }, packages: ["nodejs"], virtualRouterId: 51 },
    },
    {
        component: "SiteCertificate", validate: (a) => SiteCertificate.validateArgs(a as never),
        valid: { domain: "www.example.com", serverUrl: "https://acme-v02.api.letsencrypt.org/directory", email: "ops@example.com", dnsToken: "t", minDaysRemaining: 30 },
    },
    {
        component: "DnsFailover", validate: (a) => DnsFailover.validateArgs(a as never),
        valid: {
            domain: "example.com", recordName: "www", ttl: 30, siteName: "www.example.com",
            entryPoints: [{ region: "nyc3", ipv4: "1.1.1.1", healthUrl: "http://1.1.1.1/lb-health" }, { region: "ams3", ipv4: "2.2.2.2", healthUrl: "http://2.2.2.2/lb-health" }],
            observers: [{ host: { name: "lb-nyc3-1", region: "nyc3" }, after: [] }, { host: { name: "lb-ams3-1", region: "ams3" } }],
            witness: { ...withoutKeys(tier, ["regions", "perRegion", "deployPrivateKey", "authorizedKeys"]), region: { region: "sfo3", vpcUuid: "v3" } },
            deployPrivateKey: "k", authorizedKeys: ["ssh-ed25519 x"], apiToken: "t", apiUrl: "https://api.digitalocean.com",
            timing: { intervalMs: 1000, timeoutMs: 700, downAfter: 5, upAfter: 5 }, waitFor: [],
        },
    },
];

const badStrings = fc.oneof(
    fc.constantFrom("", " ", "\n", "0.0.0.0/0", "::/0", "10.0.0.0/8", "10.0.0.300/24", "nyc3", "NYC3", "/", "..", "é", "A".repeat(300), "ops@", "@"),
    fc.string({ unit: "grapheme", maxLength: 20 }),
);
const badNumbers = fc.oneof(fc.constantFrom(0, -1, 0.5, -0, NaN, Infinity, -Infinity, 1e308, 2 ** 53, 255, 256, 65535, 65536), fc.integer(), fc.double());

function cyclic(): unknown {
    const o: Record<string, unknown> = { region: "nyc3" };
    o.self = o;
    return o;
}
function nullPrototype(fields: Args): unknown {
    return Object.assign(Object.create(null) as object, fields);
}
// eslint-disable-next-line no-sparse-arrays
const sparse = (): unknown[] => [, "x"];

/** Values of any type but the field's (built afresh per run: validators must not depend on identity). */
const wrongType: fc.Arbitrary<unknown> = fc.oneof(
    fc.constantFrom<() => unknown>(
        () => null, () => undefined, () => 0, () => NaN, () => -1, () => "", () => " ", () => "nyc3", () => true, () => false,
        () => ({}), () => [], () => [null], () => [0], () => [{}], () => ({ length: 2 }), () => Object.create(null), () => nullPrototype({ region: "nyc3", ipRange: "10.1.0.0/20" }),
        () => [Object.create(null)], sparse, () => Symbol("x"), () => 10n, () => [10n], cyclic, () => [cyclic()], () => () => "f", () => new Date(0),
    ).map((make) => make()),
    fc.jsonValue({ maxDepth: 2 }),
);

/** Malformed values for a field: of its own JS type (recursively, nested fields broken too) or of any other type. */
function garbage(valid: unknown): fc.Arbitrary<unknown> {
    return fc.oneof({ arbitrary: sameTypeGarbage(valid), weight: 2 }, { arbitrary: wrongType, weight: 1 });
}

/** Malformed values of the same JS type as `valid`, recursively (lists: empty, duplicated, broken elements). */
function sameTypeGarbage(valid: unknown): fc.Arbitrary<unknown> {
    if (typeof valid === "string") return badStrings;
    if (typeof valid === "number") return badNumbers;
    if (typeof valid === "boolean") return fc.boolean();
    if (Array.isArray(valid)) {
        if (valid.length === 0) return fc.constant([]);
        const element = valid[0] as unknown;
        return fc.oneof(fc.constant([]), fc.constant([element, element]), fc.array(fc.oneof(fc.constant(element), garbage(element)), { minLength: 1, maxLength: 4 }));
    }
    if (valid !== null && typeof valid === "object") {
        const fields = Object.entries(valid as Args).map(([k, v]) => [k, fc.oneof(fc.constant(v), garbage(v))] as const);
        return fc.record(Object.fromEntries(fields));
    }
    return fc.constant(valid);
}

/** A rejection must be a plain Error that names the component's args type and the field. */
function assertExplained(subject: Subject, field: string, run: () => void): void {
    try {
        run();
    } catch (e) {
        assert.ok(e instanceof Error, `threw a non-Error: ${typeof e}`);
        assert.equal(e.constructor, Error, `unexplained ${e.name}: ${e.message}`);
        const name = field === "" ? `${subject.component}Args` : `${subject.component}Args.${field}`;
        assert.ok(e.message.includes(name), `the message does not name ${name}: ${e.message}`);
        // The field's own name, not a longer one that starts with it (e.g. "regions" for "region").
        assert.ok(new RegExp(`${name.replace(/\./g, "\\.")}(?![A-Za-z0-9])`).test(e.message), `the message names a longer field than ${name}: ${e.message}`);
    }
}

describe("component args, property-based", () => {
    for (const subject of subjects) {
        test(`${subject.component}.validateArgs: the valid args pass, and any one field malformed is accepted or rejected naming the field`, () => {
            subject.validate(subject.valid);
            const field = fc.constantFrom(...Object.keys(subject.valid)).chain((k) => garbage(subject.valid[k]).map((v) => [k, v] as const));
            fc.assert(fc.property(field, ([k, value]) => {
                assertExplained(subject, k, () => subject.validate({ ...subject.valid, [k]: value }));
            }), { numRuns: 700 });
        });

        test(`${subject.component}.validateArgs: args that are not an object are rejected naming ${subject.component}Args`, () => {
            fc.assert(fc.property(wrongType.filter((v) => v === null || typeof v !== "object" || Array.isArray(v)), (value) => {
                assert.throws(() => subject.validate(value as Args), (e: unknown) => e instanceof Error && e.constructor === Error && e.message.startsWith(`${subject.component}Args `));
            }), { numRuns: 50 });
        });

        test(`${subject.component}.validateArgs: each field left out is accepted or rejected naming the field`, () => {
            for (const k of Object.keys(subject.valid)) assertExplained(subject, k, () => subject.validate(withoutKeys(subject.valid, [k])));
        });

        test(`${subject.component}.validateArgs: unknown extra keys are ignored`, () => {
            fc.assert(fc.property(fc.dictionary(fc.string({ unit: "grapheme", maxLength: 10 }).filter((k) => !(k in subject.valid) && k !== "__proto__"), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), (extra) => {
                subject.validate({ ...subject.valid, ...extra });
            }), { numRuns: 100 });
        });
    }
});

/**
 * Property: every component's static validateArgs, fed args with one field replaced by a malformed
 * value of the field's own type (what TypeScript callers can pass: empty or duplicated lists, bad
 * CIDRs, unicode, NaN, huge or negative numbers, nested fields broken the same way), either accepts
 * them or throws a plain Error naming "<Component>Args.<field>"; never a TypeError or another
 * unexplained failure. (Values of the wrong type, e.g. null for a list, crash most validators:
 * see the report of issue 6, item 5.)
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

type Args = Record<string, unknown>;

function withoutKeys(args: Args, keys: readonly string[]): Args {
    return Object.fromEntries(Object.entries(args).filter(([k]) => !keys.includes(k)));
}

const tier: Args = { regions: [{ region: "nyc3", vpcUuid: "v1" }, { region: "ams3", vpcUuid: "v2" }], perRegion: 1, size: "s-1vcpu-1gb", image: "debian-12-x64", sshKeys: ["fp"], deployPrivateKey: "k", authorizedKeys: ["ssh-ed25519 x"], tags: ["t"] };

interface Subject {
    readonly component: string;
    readonly validate: (args: Args) => void;
    readonly valid: Args;
    /**
     * Field name that a message may use for a field, when it differs. LoadBalancerTier checks its
     * `region` and `count` through the shared tier check, which names them `regions` and `perRegion`.
     */
    readonly aliases?: Readonly<Record<string, string>>;
}

// The casts hand each validator deliberately ill-typed args: the point is what plain JS callers can pass.
const subjects: Subject[] = [
    { component: "Network", validate: (a) => Network.validateArgs(a as never), valid: { regions: [{ region: "nyc3", ipRange: "10.1.0.0/20" }, { region: "ams3", ipRange: "10.2.0.0/20" }] } },
    { component: "Firewalls", validate: (a) => Firewalls.validateArgs(a as never), valid: { roleTags: { lb: "a", app: "b", db: "c", cache: "d" }, adminCidrs: ["203.0.113.7/32"] } },
    { component: "RoundRobinDns", validate: (a) => RoundRobinDns.validateArgs(a as never), valid: { domain: "example.com", createDomain: true, recordName: "www", ttl: 30, entryPoints: [{ region: "nyc3", ipv4: "1.1.1.1" }, { region: "ams3", ipv4: "2.2.2.2" }] } },
    { component: "Monitoring", validate: (a) => Monitoring.validateArgs(a as never), valid: { alertEmail: "ops@example.com", dropletTag: "t", entryPoints: [{ region: "nyc3", url: "http://1.1.1.1/healthz" }], thresholds: { cpu: 90 } } },
    { component: "SessionCache", validate: (a) => SessionCache.validateArgs(a as never), valid: { ...tier, memoryMb: 64 } },
    { component: "DatabaseCluster", validate: (a) => DatabaseCluster.validateArgs(a as never), valid: { ...tier, volumeSizeGb: 10, clientCidrs: ["10.110.0.0/20"], databaseName: "app", appUser: "app" } },
    {
        component: "AppTier", validate: (a) => AppTier.validateArgs(a as never),
        valid: { ...tier, source: { kind: "demo" }, healthPath: "/healthz", siteName: "www.example.com", lbCidrs: ["10.110.0.0/20"], uploadMaxMb: 20, database: { database: "d", user: "u", password: "p", port: 3306, hostsByRegion: {} }, cacheServers: [] },
    },
    {
        component: "LoadBalancerTier", validate: (a) => LoadBalancerTier.validateArgs(a as never),
        valid: { ...withoutKeys(tier, ["regions", "perRegion"]), region: { region: "nyc3", vpcUuid: "v1" }, count: 2, siteName: "www.example.com", healthPath: "/healthz", backends: [], failover: { apiToken: "t", apiUrl: "https://api.digitalocean.com" }, virtualRouterId: 51 },
        aliases: { region: "regions", count: "perRegion" },
    },
];

const badStrings = fc.oneof(
    fc.constantFrom("", " ", "\n", "0.0.0.0/0", "::/0", "10.0.0.0/8", "10.0.0.300/24", "nyc3", "NYC3", "/", "..", "é", "A".repeat(300), "ops@", "@"),
    fc.string({ unit: "grapheme", maxLength: 20 }),
);
const badNumbers = fc.oneof(fc.constantFrom(0, -1, 0.5, -0, NaN, Infinity, -Infinity, 1e308, 2 ** 53, 255, 256, 65535, 65536), fc.integer(), fc.double());

/** Malformed values of the same JS type as `valid`, recursively (lists: empty, duplicated, broken elements). */
function sameTypeGarbage(valid: unknown): fc.Arbitrary<unknown> {
    if (typeof valid === "string") return badStrings;
    if (typeof valid === "number") return badNumbers;
    if (typeof valid === "boolean") return fc.boolean();
    if (Array.isArray(valid)) {
        if (valid.length === 0) return fc.constant([]);
        const element = valid[0] as unknown;
        return fc.oneof(fc.constant([]), fc.constant([element, element]), fc.array(fc.oneof(fc.constant(element), sameTypeGarbage(element)), { minLength: 1, maxLength: 4 }));
    }
    if (valid !== null && typeof valid === "object") {
        const fields = Object.entries(valid as Args).map(([k, v]) => [k, fc.oneof(fc.constant(v), sameTypeGarbage(v))] as const);
        return fc.record(Object.fromEntries(fields));
    }
    return fc.constant(valid);
}

/** A rejection must be a plain Error that names the component's args type and the field (or its alias). */
function assertExplained(subject: Subject, field: string, run: () => void): void {
    try {
        run();
    } catch (e) {
        assert.ok(e instanceof Error, `threw a non-Error: ${String(e)}`);
        assert.equal(e.constructor, Error, `unexplained ${e.name}: ${e.message}`);
        const names = [field, subject.aliases?.[field]].filter((n): n is string => n !== undefined).map((n) => `${subject.component}Args.${n}`);
        assert.ok(names.some((n) => e.message.includes(n)), `the message names none of ${names.join(", ")}: ${e.message}`);
    }
}

describe("component args, property-based", () => {
    for (const subject of subjects) {
        test(`${subject.component}.validateArgs: the valid args pass, and any one field malformed is accepted or rejected naming the field`, () => {
            subject.validate(subject.valid);
            const field = fc.constantFrom(...Object.keys(subject.valid)).chain((k) => sameTypeGarbage(subject.valid[k]).map((v) => [k, v] as const));
            fc.assert(fc.property(field, ([k, value]) => {
                assertExplained(subject, k, () => subject.validate({ ...subject.valid, [k]: value }));
            }), { numRuns: 500 });
        });

        test(`${subject.component}.validateArgs: unknown extra keys are ignored`, () => {
            fc.assert(fc.property(fc.dictionary(fc.string({ unit: "grapheme", maxLength: 10 }).filter((k) => !(k in subject.valid) && k !== "__proto__"), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), (extra) => {
                subject.validate({ ...subject.valid, ...extra });
            }), { numRuns: 100 });
        });
    }
});

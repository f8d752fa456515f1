/**
 * Property-based bad input for the stack config parser: well-formed but varied configs (counts at
 * and around their limits) are accepted exactly when every value is in range, rejected naming
 * exactly the keys out of range, and, when accepted, the real program builds its graph under
 * mocks; garbage (wrong types, nulls, unknown keys such as "__proto__", huge numbers, empty lists,
 * unicode, text that is not JSON) is accepted, with no unknown key and no setting changed that was
 * not given, or rejected with a StackConfigError whose every line names a key given.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fc from "fast-check";
import * as os from "os";
import { parseStackConfig, StackConfigError } from "./parse";
import { DIGITALOCEAN_REGIONS } from "./regions";
import { runIndex } from "../../test/support/program";

const NS = "dns-rr-ha";
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJrk9av7A6t8QWFFRD6TqSBafSQwk0uGVLigT5aDP6mG ops@example.com";
const opts = { namespace: NS, stack: "prop", baseDir: os.tmpdir() };
// dnsToken: HTTPS is on by default, and its DNS-01 challenge needs it.
const REQUIRED: Record<string, unknown> = { domain: "example.com", regions: ["nyc3", "ams3", "fra1"], adminCidrs: ["203.0.113.7/32"], sshPublicKeys: [KEY], alertEmail: "ops@example.com", dnsToken: "dop_v1_0123456789abcdef0123456789abcdef" };

/** Stack config as Pulumi hands it to the program: "namespace:key" -> text, structured values as JSON. */
function raw(cfg: Record<string, unknown>): Record<string, string> {
    return Object.fromEntries(Object.entries(cfg).map(([k, v]) => [`${NS}:${k}`, typeof v === "string" ? v : JSON.stringify(v)]));
}

/** The top-level keys a rejection names ("dns-rr-ha:app.perRegion = 0: ..." names "app"). */
function namedKeys(e: StackConfigError): Set<string> {
    return new Set(e.problems.map((p) => {
        const m = /^dns-rr-ha:([^.[\s]+)/.exec(p);
        assert.ok(m, `a problem that names no dns-rr-ha key: ${p}`);
        return m[1]!;
    }));
}

/** Parses; returns the settings, or the StackConfigError; anything else thrown fails the property. */
function parse(cfg: Record<string, unknown>): ReturnType<typeof parseStackConfig> | StackConfigError {
    try {
        return parseStackConfig(raw(cfg), opts);
    } catch (e) {
        if (e instanceof StackConfigError) return e;
        throw new Error(`unexplained ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} for ${JSON.stringify(cfg)}`);
    }
}

/** A value with whether it is in range for its key. */
const around = <T>(valid: readonly T[], invalid: readonly T[]) => fc.oneof(
    fc.constantFrom(...valid).map((v) => ({ v, ok: true })),
    fc.constantFrom(...invalid).map((v) => ({ v, ok: false })),
);

/** Well-formed configs: valid slugs and CIDRs, counts at and just past their limits. */
const variedConfig = fc.record({
    // Two to four: an even number needs the witness (the database's tie-breaking vote), given below.
    regions: fc.oneof(
        fc.uniqueArray(fc.constantFrom(...DIGITALOCEAN_REGIONS), { minLength: 2, maxLength: 4 }).map((v): { v: string[]; ok: boolean } => ({ v, ok: true })),
        fc.constantFrom(["nyc3"], ["nyc3", "nyc3", "ams3"], ["nyc3", "mars1", "ams3"]).map((v): { v: string[]; ok: boolean } => ({ v: [...v], ok: false })),
    ),
    vpcPrefix: fc.option(fc.constantFrom(16, 20, 24, 28), { nil: undefined }),
    ttl: around([30, 31, 60, 86400], [29, 0, 86401]),
    recordName: around(["www", "@", "api.v2"], ["-www", "a..b", "WWW!"]),
    lb: around([1, 2], [0, 3]),
    app: around([1, 2, 20], [0, 21]),
    cache: around([1, 10], [0, 11]),
    memoryMb: around([64, 256, 65536], [63, 65537]),
    volumeSizeGb: around([1, 20, 16384], [0, 16385]),
    adminCidrs: around([["203.0.113.7/32"], ["198.51.100.0/24", "2001:db8::/32"]], [[], ["0.0.0.0/0"], ["::/0"], ["203.0.113.300/32"]]),
    ipv6: fc.boolean(),
    https: fc.boolean(),
    minDaysRemaining: around([1, 30, 89], [0, 90, 3.5]),
}).map((g) => {
    const cfg: Record<string, unknown> = {
        ...REQUIRED,
        regions: g.regions.v,
        ...(g.vpcPrefix !== undefined ? { vpcCidrs: g.regions.v.map((_, i) => `10.${120 + i}.0.0/${g.vpcPrefix}`) } : {}),
        ttl: g.ttl.v,
        recordName: g.recordName.v,
        lb: { perRegion: g.lb.v },
        app: { perRegion: g.app.v },
        cache: { perRegion: g.cache.v, memoryMb: g.memoryMb.v },
        db: { volumeSizeGb: g.volumeSizeGb.v },
        adminCidrs: g.adminCidrs.v,
        ipv6: g.ipv6,
        https: g.https,
        acme: { minDaysRemaining: g.minDaysRemaining.v },
        // The witness in the first region not among them (its VPC takes the first free range).
        ...(g.regions.v.length % 2 === 0 ? { dnsFailover: { witnessRegion: DIGITALOCEAN_REGIONS.find((r) => !g.regions.v.includes(r)) } } : {}),
    };
    const bad = new Set<string>();
    // With the regions wrong, the check of vpcCidrs against them does not run (zod skips refinements of a failed object).
    for (const [key, ok] of [["regions", g.regions.ok], ["ttl", g.ttl.ok], ["recordName", g.recordName.ok], ["lb", g.lb.ok], ["app", g.app.ok], ["cache", g.cache.ok && g.memoryMb.ok], ["db", g.volumeSizeGb.ok], ["adminCidrs", g.adminCidrs.ok], ["acme", g.minDaysRemaining.ok]] as const) {
        if (!ok) bad.add(key);
    }
    return { cfg, bad };
});

const KNOWN = ["domain", "createDomain", "recordName", "ttl", "regions", "vpcCidrs", "image", "ipv6", "lb", "app", "db", "cache", "adminCidrs", "sshPublicKeys", "alertEmail", "reservedIpToken", "dnsToken", "https", "acme", "digitaloceanApiUrl", "projectName"];
const NESTED = ["perRegion", "size", "memoryMb", "volumeSizeGb", "source", "healthPath", "serverUrl", "email", "minDaysRemaining", "sise"];

/** Garbage for one key: JSON of any shape, or text that is not JSON at all. */
const garbageValue = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom(null, [], {}, [null], "", " ", 1e308, -1e308, 2 ** 53 + 1, -0, 0.5, "1e400", "[", "{\"perRegion\":", "NaN", "Infinity", "\u0000", "nyc3\u200b", "😀", "ａｍｓ３"),
    fc.string({ unit: "grapheme", maxLength: 30 }),
    fc.array(fc.oneof(fc.string({ unit: "grapheme", maxLength: 12 }), fc.constantFrom("nyc3", "ams3", "10.0.0.0/8", KEY), fc.integer()), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...NESTED, "__proto__", "constructor"), fc.oneof(fc.integer({ min: -2, max: 100000 }), fc.string({ unit: "grapheme", maxLength: 10 }), fc.constant(null)), { maxKeys: 3 }),
    // Objects of top-level settings (in range or not), e.g. {"ttl":3600} under a "__proto__" key.
    fc.dictionary(fc.constantFrom("ttl", "recordName", "ipv6", "https", "bogus", "__proto__"), fc.constantFrom<unknown>(3600, 31, "api", true, false, 1, { ttl: 3600 }), { maxKeys: 3 }),
);
const garbageKey = fc.oneof(fc.constantFrom(...KNOWN), fc.constantFrom("bogus", "TTL", "Regions", "__proto__", "constructor", "toString", "hasOwnProperty", "régions", "💥"));
/** Keys checked against others: a rejection may name them when what they depend on was changed. */
const DEPENDENTS = new Map<string, readonly string[]>([["regions", ["vpcCidrs", "dnsFailover"]], ["vpcCidrs", ["dnsFailover"]]]);

const garbageConfig = fc.record({
    set: fc.dictionary(garbageKey, garbageValue, { maxKeys: 4 }),
    unset: fc.subarray(Object.keys(REQUIRED), { maxLength: 2 }),
});

describe("parseStackConfig, property-based", () => {
    test("well-formed configs are accepted exactly when in range, and rejected naming exactly the keys out of range", () => {
        fc.assert(fc.property(variedConfig, ({ cfg, bad }) => {
            const result = parse(cfg);
            if (result instanceof StackConfigError) {
                assert.deepEqual([...namedKeys(result)].sort(), [...bad].sort(), result.message);
            } else {
                assert.deepEqual([...bad], [], `accepted although out of range: ${[...bad].join(", ")}`);
                assert.deepEqual(result.regions, cfg.regions);
                assert.equal(result.vpcCidrs.length, result.regions.length);
                assert.equal(result.ttl, cfg.ttl);
                assert.deepEqual(result.adminCidrs, cfg.adminCidrs);
                assert.deepEqual(result.https, cfg.https ? { acme: { serverUrl: "https://acme-v02.api.letsencrypt.org/directory", email: "ops@example.com", minDaysRemaining: (cfg.acme as { minDaysRemaining: number }).minDaysRemaining } } : false);
            }
        }), { numRuns: 400 });
    });

    test("garbage is accepted or rejected with every line naming a key that was given or left out", () => {
        fc.assert(fc.property(garbageConfig, ({ set, unset }) => {
            const cfg: Record<string, unknown> = { ...REQUIRED };
            for (const k of unset) delete cfg[k];
            // Object.assign would let a "__proto__" key replace the prototype; define it as data.
            for (const [k, v] of Object.entries(set)) Object.defineProperty(cfg, k, { value: v, enumerable: true, writable: true, configurable: true });
            const result = parse(cfg);
            if (result instanceof StackConfigError) {
                const touched = new Set([...Object.keys(set), ...unset].flatMap((k) => [k, ...(DEPENDENTS.get(k) ?? [])]));
                for (const k of namedKeys(result)) assert.ok(touched.has(k), `names ${k}, which was neither set nor left out: ${result.message}`);
            } else {
                assert.ok(result.regions.length >= 2 && result.ttl >= 30 && result.adminCidrs.length >= 1);
                // Only settings take effect: an unknown key is never accepted, nor does it change a setting it was not.
                for (const k of Object.keys(set)) assert.ok(KNOWN.includes(k), `accepted the unknown key ${k}`);
                if (!Object.hasOwn(set, "ttl")) assert.equal(result.ttl, 30, "ttl changed without being set");
                if (!Object.hasOwn(set, "recordName")) assert.equal(result.recordName, "www", "recordName changed without being set");
                if (!Object.hasOwn(set, "ipv6")) assert.equal(result.ipv6, false, "ipv6 changed without being set");
                if (!Object.hasOwn(set, "https")) assert.notEqual(result.https, false, "https turned off without being set");
            }
        }), { numRuns: 600 });
    });

    test("every accepted well-formed config builds the program's graph under mocks", async () => {
        const accepted = variedConfig.filter(({ bad }) => bad.size === 0);
        await fc.assert(fc.asyncProperty(accepted, async ({ cfg }) => {
            const { model } = await runIndex(raw(cfg), "prop");
            const regions = cfg.regions as string[];
            const per = (role: string) => (role === "db" ? 1 : (cfg[role] as { perRegion: number }).perRegion);
            for (const role of ["lb", "app", "db", "cache"]) {
                const droplets = model.ofKind("Droplet").filter((d) => (d.inputs.tags as string[]).includes(role));
                assert.equal(droplets.length, regions.length * per(role), `${role} droplets`);
            }
            assert.equal(model.ofKind("DnsRecord").length, regions.length * (cfg.ipv6 ? 2 : 1));
            // An even number of regions: the witness, and garbd wired onto it as the database's tie-breaking vote.
            const even = regions.length % 2 === 0;
            assert.equal(model.ofKind("Droplet").filter((d) => (d.inputs.tags as string[]).includes("witness")).length, even ? 1 : 0, "witness droplets");
            assert.equal(model.ofKind("Command").filter((c) => c.name.endsWith("-db-arbitrator-wiring")).length, even ? 1 : 0, "arbitrator wirings");
        }), { numRuns: 6 });
    });
});

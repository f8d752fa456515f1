import { z } from "zod";
import { DIGITALOCEAN_REGIONS, isDigitalOceanRegion } from "./regions";
import { ipv4Overlaps, parseCidr } from "./cidr";
import { GALERA_TIMING } from "../db/myCnf";
import { isAcmeDirectoryUrl, LETS_ENCRYPT_DIRECTORY, MIN_DAYS_REMAINING } from "../lb/siteCertificate";

/**
 * The stack config schema. Every message says what is allowed, because the
 * formatter in parse.ts prefixes it with the key and the value the user gave.
 */

const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const SSH_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\n]*)?$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[a-z]{2,}$/i;

/** The key blob must decode and name the same algorithm as the line: catches truncated or pasted-wrong keys. */
function sshKeyBlobMatches(line: string): boolean {
    const [type, b64] = line.trim().split(/\s+/);
    const blob = Buffer.from(b64 ?? "", "base64");
    if (blob.length < 4) return false;
    const len = blob.readUInt32BE(0);
    return blob.subarray(4, 4 + len).toString() === type;
}

const sizeSlug = z.string().regex(SLUG, { error: "must be a DigitalOcean size slug such as \"s-1vcpu-1gb\" (see `doctl compute size list`)" });

const count = (max: number) =>
    z.int({ error: `must be a whole number from 1 to ${max}` }).min(1, { error: `must be at least 1 (a region needs at least one of each role); allowed: 1 to ${max}` }).max(max, { error: `must be at most ${max}` });

const domainName = z.string().toLowerCase().refine((d) => d.length <= 253 && d.includes(".") && d.split(".").every((l) => DNS_LABEL.test(l)), {
    error: "must be a domain name such as \"example.com\" (letters, digits, hyphens, at least one dot)",
});

const privateVpcCidr = z.string().refine((c) => {
    const p = parseCidr(c);
    if (!p || p.family !== 4 || p.prefix < 16 || p.prefix > 28) return false;
    return ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].some((r) => ipv4Overlaps(r, c));
}, { error: "must be a private IPv4 CIDR (10/8, 172.16/12 or 192.168/16) with a prefix from /16 to /28, e.g. \"10.110.0.0/20\"" });

const API_TOKEN = /^\S{16,}$/;

const ms = (min: number, max: number, dflt: number) =>
    z.int({ error: `must be a whole number of milliseconds from ${min} to ${max}` }).min(min, { error: `must be at least ${min} ms` }).max(max, { error: `must be at most ${max} ms` }).default(dflt);
const probes = (dflt: number) =>
    z.int({ error: "must be a whole number of consecutive probes from 1 to 100" }).min(1, { error: "must be at least 1" }).max(100, { error: "must be at most 100" }).default(dflt);

export const stackConfigSchema = z.strictObject({
    domain: domainName,
    createDomain: z.boolean({ error: "must be true (create the domain) or false (use one already in the account)" }).default(true),
    recordName: z.string().refine((n) => n === "@" || n.split(".").every((l) => DNS_LABEL.test(l)), {
        error: "must be \"@\" (the apex) or a host label such as \"www\"",
    }).default("www"),
    ttl: z.int({ error: "must be a whole number of seconds from 30 to 86400" })
        .min(30, { error: "must be at least 30 seconds: DigitalOcean's minimum TTL; allowed: 30 to 86400 (30 recommended for fast failover)" })
        .max(86400, { error: "must be at most 86400 seconds; short TTLs are what make failover work" }).default(30),
    regions: z.array(z.string().refine(isDigitalOceanRegion, { error: `must be a DigitalOcean region slug, one of: ${DIGITALOCEAN_REGIONS.join(", ")}` }), {
        error: "must be a list of region slugs, e.g. [\"nyc3\", \"ams3\"]",
    }).min(2, { error: "needs at least two regions: the stack's whole point is surviving the loss of one; e.g. [\"nyc3\", \"ams3\"]" })
        .refine((rs) => new Set(rs).size === rs.length, { error: "must not list a region twice" }),
    vpcCidrs: z.array(privateVpcCidr).optional(),
    image: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, { error: "must be an image slug such as \"debian-12-x64\"" }).default("debian-12-x64"),
    ipv6: z.boolean({ error: "must be true or false" }).default(false),
    lb: z.strictObject({
        perRegion: z.union([z.literal(1), z.literal(2)], { error: "must be 1 or 2 (2 gives in-region failover of the reserved IP)" }).default(2),
        size: sizeSlug.default("s-1vcpu-1gb"),
    }).prefault({}),
    app: z.strictObject({
        perRegion: count(20).default(2),
        size: sizeSlug.default("s-1vcpu-1gb"),
        source: z.string().min(1, { error: "must be \"demo\" or the path of a directory holding your app" }).default("demo"),
        healthPath: z.string().regex(/^\/[A-Za-z0-9._~\/-]*$/, { error: "must be a URL path starting with \"/\", e.g. \"/healthz\"" }).default("/healthz"),
    }).prefault({}),
    db: z.strictObject({
        size: sizeSlug.default("s-2vcpu-4gb"),
        volumeSizeGb: z.int({ error: "must be a whole number of GiB from 1 to 16384" }).min(1, { error: "must be at least 1 GiB" }).max(16384, { error: "must be at most 16384 GiB (DigitalOcean's volume limit)" }).default(20),
        suspectTimeoutMs: z.int({ error: `must be a whole number of milliseconds from ${GALERA_TIMING.suspectMs.min} to ${GALERA_TIMING.suspectMs.max}` })
            .min(GALERA_TIMING.suspectMs.min, { error: `must be at least ${GALERA_TIMING.suspectMs.min} ms: a shorter hiccup of the inter-region link would already evict a healthy region; e.g. ${GALERA_TIMING.default.suspectMs}` })
            .max(GALERA_TIMING.suspectMs.max, { error: `must be at most ${GALERA_TIMING.suspectMs.max} ms: when a region vanishes, writes everywhere stall this long before the others go on without it; e.g. ${GALERA_TIMING.default.suspectMs}` })
            .default(GALERA_TIMING.default.suspectMs),
        // Settings of the master-master design, refused with the reason below (superRefine).
        durability: z.unknown().optional(),
        semisyncTimeoutMs: z.unknown().optional(),
    }).prefault({}),
    cache: z.strictObject({
        perRegion: count(10).default(1),
        size: sizeSlug.default("s-1vcpu-1gb"),
        memoryMb: z.int({ error: "must be a whole number of MiB" }).min(64, { error: "must be at least 64 MiB" }).max(65536, { error: "must be at most 65536 MiB" }).default(256),
    }).prefault({}),
    adminCidrs: z.array(z.string().refine((c) => parseCidr(c) !== undefined, { error: "must be a CIDR block such as \"203.0.113.7/32\"" })
        .refine((c) => parseCidr(c)?.prefix !== 0, { error: "must not be the whole internet: SSH would be open to everyone; give your office or VPN range, e.g. \"203.0.113.7/32\"" }), {
        error: "must be a list of CIDR blocks allowed to SSH, e.g. [\"203.0.113.7/32\"]",
    }).min(1, { error: "needs at least one CIDR: the wiring step connects over SSH from there, e.g. [\"203.0.113.7/32\"]" }),
    sshPublicKeys: z.array(z.string().trim().regex(SSH_KEY, { error: "must be an OpenSSH public key line such as \"ssh-ed25519 AAAAC3... you@host\"" })
        .refine(sshKeyBlobMatches, { error: "is not a valid key: its base64 part does not decode to the key type it names (truncated or mangled when pasted?); copy the whole line of your .pub file" }), {
        error: "must be a list of OpenSSH public keys",
    }).min(1, { error: "needs at least one public key so an operator can reach the droplets" }),
    alertEmail: z.string().regex(EMAIL, { error: "must be an email address for alerts, e.g. \"ops@example.com\"" }),
    reservedIpToken: z.string().regex(API_TOKEN, { error: "must be a DigitalOcean API token (set it as a secret: pulumi config set --secret dns-rr-ha:reservedIpToken <token>); give it only the reserved-IP scope" }).optional(),
    dnsToken: z.string().regex(API_TOKEN, { error: "must be a DigitalOcean API token (set it as a secret: pulumi config set --secret dns-rr-ha:dnsToken <token>); give it only the domain scopes (read, create, delete records)" }).optional(),
    https: z.boolean({ error: "must be true (HTTPS with a certificate from an ACME CA, HTTP redirected to it; the default) or false (plain HTTP only)" }).default(true),
    acme: z.strictObject({
        serverUrl: z.string().refine(isAcmeDirectoryUrl, {
            error: `must be an ACME directory URL over https: "${LETS_ENCRYPT_DIRECTORY}" (Let's Encrypt, the default) or "https://acme-staging-v02.api.letsencrypt.org/directory" (its staging CA, for trials)`,
        }).default(LETS_ENCRYPT_DIRECTORY),
        email: z.string().regex(EMAIL, { error: "must be an email address for the ACME account, e.g. \"ops@example.com\" (default: alertEmail)" }).optional(),
        minDaysRemaining: z.int({ error: `must be a whole number of days from ${MIN_DAYS_REMAINING.min} to ${MIN_DAYS_REMAINING.max}` })
            .min(MIN_DAYS_REMAINING.min, { error: `must be at least ${MIN_DAYS_REMAINING.min} day; e.g. ${MIN_DAYS_REMAINING.default}` })
            .max(MIN_DAYS_REMAINING.max, { error: `must be at most ${MIN_DAYS_REMAINING.max}: Let's Encrypt certificates last 90 days, so more would renew on every pulumi up; e.g. ${MIN_DAYS_REMAINING.default}` })
            .default(MIN_DAYS_REMAINING.default),
    }).prefault({}),
    dnsFailover: z.strictObject({
        enabled: z.boolean({ error: "must be true (agents withdraw the record of a dead entry point) or false" }).default(true),
        witnessRegion: z.string().refine(isDigitalOceanRegion, { error: `must be a DigitalOcean region slug not among the stack's regions, one of: ${DIGITALOCEAN_REGIONS.join(", ")}` }).optional(),
        witnessVpcCidr: privateVpcCidr.optional(),
        witnessSize: sizeSlug.default("s-1vcpu-512mb-10gb"),
        intervalMs: ms(200, 60000, 1000),
        timeoutMs: ms(100, 59000, 700),
        downAfter: probes(5),
        upAfter: probes(5),
    }).prefault({}),
    digitaloceanApiUrl: z.string().regex(/^https?:\/\/[A-Za-z0-9.:\[\]-]+\/?$/, { error: "must be the API's base URL, e.g. \"https://api.digitalocean.com\"" }).optional(),
    projectName: z.string().min(1).max(175, { error: "must be 1 to 175 characters (DigitalOcean's limit)" }).optional(),
}).superRefine((cfg, ctx) => {
    if (cfg.https && cfg.dnsToken === undefined) {
        ctx.addIssue({
            code: "custom", path: ["dnsToken"], input: undefined,
            message: `is required while https is on (the default): the certificate's ACME DNS-01 challenge writes a TXT record in ${cfg.domain} with it. Set a token with the domain scopes: pulumi config set --secret dns-rr-ha:dnsToken <token>; or set dns-rr-ha:https false to serve plain HTTP only`,
        });
    }
    for (const key of ["durability", "semisyncTimeoutMs"] as const) {
        if (cfg.db[key] !== undefined) {
            ctx.addIssue({ code: "custom", path: ["db", key], input: cfg.db[key], message: "is no longer a setting: the database is one Galera cluster across the regions, and every commit is acknowledged by all of them before it returns (components/db/DURABILITY.md). Delete the key; db.suspectTimeoutMs sets how long writes wait for a region that vanished" });
        }
    }
    const f = cfg.dnsFailover;
    const issue = (key: string, message: string, input: unknown) => ctx.addIssue({ code: "custom", path: ["dnsFailover", key], message, input });
    const witnessed = f.enabled && f.witnessRegion !== undefined;
    if (cfg.regions.length % 2 === 0 && !witnessed) {
        // One issue for both needs of the witness: with two regions DNS failover needs it as well.
        const key = f.enabled ? "witnessRegion" : "enabled";
        const example = DIGITALOCEAN_REGIONS.find((r) => !cfg.regions.includes(r));
        const dnsToo = f.enabled && cfg.regions.length === 2 ? `; DNS failover needs it too: a withdrawal needs a majority of observers, and with ${cfg.regions.join(" and ")} alone the survivors of a dead region are only half` : "";
        issue(key, `${f.enabled ? "is required" : "must be true with a witnessRegion"} with ${cfg.regions.length} regions: the database cluster needs an odd number of votes, or a partition into two halves leaves no side that may write. The witness droplet (dnsFailover.witnessRegion, a region not among ${cfg.regions.join(", ")}, e.g. "${example}") is its tie-breaking vote${dnsToo}; or use an odd number of regions`, f.enabled ? undefined : false);
    }
    if (f.witnessRegion !== undefined && cfg.regions.includes(f.witnessRegion)) {
        issue("witnessRegion", `must not be one of the stack's regions (${cfg.regions.join(", ")}): the witness breaks ties between them, so it must fail separately`, f.witnessRegion);
    }
    if (f.timeoutMs >= f.intervalMs) issue("timeoutMs", `must be below dnsFailover.intervalMs (${f.intervalMs}): a probe must end before the next one starts`, f.timeoutMs);
    if (f.witnessVpcCidr !== undefined) {
        for (const c of cfg.vpcCidrs ?? []) {
            if (ipv4Overlaps(c, f.witnessVpcCidr)) issue("witnessVpcCidr", `must not overlap vpcCidrs entry ${c}: the witness's VPC is peered with the others`, f.witnessVpcCidr);
        }
    }
    if (cfg.vpcCidrs === undefined) return;
    if (cfg.vpcCidrs.length !== cfg.regions.length) {
        ctx.addIssue({ code: "custom", path: ["vpcCidrs"], message: `must list one CIDR per region (${cfg.regions.length} for regions ${cfg.regions.join(", ")}), in the same order`, input: cfg.vpcCidrs });
        return;
    }
    cfg.vpcCidrs.forEach((a, i) => cfg.vpcCidrs!.slice(i + 1).forEach((b) => {
        if (ipv4Overlaps(a, b)) ctx.addIssue({ code: "custom", path: ["vpcCidrs"], message: `must not overlap: ${a} and ${b} share addresses, and peered VPCs need distinct ranges`, input: cfg.vpcCidrs });
    }));
});

export type StackConfigInput = z.input<typeof stackConfigSchema>;
export type StackConfig = z.output<typeof stackConfigSchema>;

import * as fs from "fs";
import * as path from "path";
import type { $ZodIssue } from "zod/v4/core";
import { stackConfigSchema, StackConfig } from "./schema";
import { ipv4Overlaps } from "./cidr";
import { AppSource, StackSettings } from "./settings";
import { DigitalOceanRegion } from "./regions";

/** Raised for bad stack config; `problems` holds one line per bad key, each naming key, value and fix. */
export class StackConfigError extends Error {
    constructor(public readonly problems: readonly string[]) {
        super(`Invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "StackConfigError";
    }
}

export interface ParseOptions {
    /** The Pulumi config namespace (the project name), e.g. "dns-rr-ha". */
    readonly namespace: string;
    /** The stack name; the default project name is derived from it. */
    readonly stack: string;
    /** Directory that a relative `app.source` path is resolved against. */
    readonly baseDir: string;
}

/** Default VPC ranges: a /20 per region from 10.110.0.0 up, clear of DigitalOcean's default 10.10-10.x ranges. */
export function defaultVpcCidrs(regionCount: number): string[] {
    return Array.from({ length: regionCount }, (_, i) => `10.${110 + i}.0.0/20`);
}

/** The first 10.x.0.0/20 (x from 110) that overlaps none of the regions' VPCs. */
export function defaultWitnessVpcCidr(vpcCidrs: readonly string[]): string {
    for (let x = 110; x < 256; x++) {
        const c = `10.${x}.0.0/20`;
        if (!vpcCidrs.some((v) => ipv4Overlaps(v, c))) return c;
    }
    throw new Error(`no free 10.x.0.0/20 for the witness VPC beside ${vpcCidrs.join(", ")}; set dnsFailover.witnessVpcCidr`);
}

function levenshtein(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let diag = row[0]!;
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const up = row[j]!;
            row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diag + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
            diag = up;
        }
    }
    return row[b.length]!;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
    const ranked = candidates.map((c) => ({ c, d: levenshtein(word, c) })).sort((x, y) => x.d - y.d);
    const best = ranked[0];
    return best && best.d <= Math.max(2, Math.floor(word.length / 3)) ? best.c : undefined;
}

/** Keys whose values are secrets: error messages describe them without showing them. */
const SECRET_KEYS = ["reservedIpToken", "dnsToken"];

/** Pulumi stores every config value as text; structured values are JSON. */
function decode(value: string): unknown {
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}

/** The value at `keys`, own properties only: a key such as "__proto__" or "constructor" finds nothing inherited. */
function valueAt(root: unknown, keys: readonly PropertyKey[]): unknown {
    return keys.reduce<unknown>((node, k) => (node !== null && typeof node === "object" && Object.hasOwn(node, k) ? (node as Record<PropertyKey, unknown>)[k] : undefined), root);
}

function keyName(namespace: string, keys: readonly PropertyKey[]): string {
    const [head, ...rest] = keys;
    return `${namespace}:${String(head)}${rest.map((k) => (typeof k === "number" ? `[${k}]` : `.${String(k)}`)).join("")}`;
}

function knownKeysAt(keys: readonly PropertyKey[]): string[] {
    // Walk the schema's shape to list the keys valid at this level, for "did you mean".
    let shape: Record<string, unknown> = stackConfigSchema.def.shape ?? {};
    for (const k of keys) {
        let node = (Object.hasOwn(shape, k) ? shape[String(k)] : undefined) as { def?: { innerType?: unknown; shape?: Record<string, unknown> } } | undefined;
        while (node?.def?.innerType) node = node.def.innerType as typeof node;
        shape = node?.def?.shape ?? {};
    }
    return Object.keys(shape);
}

function describeIssue(namespace: string, input: unknown, issue: $ZodIssue): string[] {
    if (issue.code === "unrecognized_keys") {
        const known = knownKeysAt(issue.path);
        return issue.keys.map((k) => {
            const name = keyName(namespace, [...issue.path, k]);
            const guess = closest(k, known);
            const fix = guess ? `did you mean ${keyName(namespace, [...issue.path, guess])}?` : `remove it (pulumi config rm '${name}')`;
            return `${name} is not a setting of this stack; ${fix} Known keys here: ${known.join(", ")}`;
        });
    }
    const value = valueAt(input, issue.path);
    // Never echo a secret into an error message (it ends up in logs and CI output).
    const secret = SECRET_KEYS.includes(String(issue.path[0]));
    const shown = value === undefined ? "(not set)" : secret ? `(secret, ${String(value).length} characters)` : JSON.stringify(value);
    return [`${keyName(namespace, issue.path)} = ${shown}: ${issue.message}`];
}

function resolveAppSource(source: string, baseDir: string, namespace: string): AppSource {
    if (source === "demo") return { kind: "demo" };
    const dir = path.resolve(baseDir, source);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
        throw new StackConfigError([`${namespace}:app.source = ${JSON.stringify(source)}: must be "demo" or an existing directory holding your app (looked for ${dir})`]);
    }
    return { kind: "directory", path: dir };
}

function toSettings(cfg: StackConfig, opts: ParseOptions): StackSettings {
    const vpcCidrs = cfg.vpcCidrs ?? defaultVpcCidrs(cfg.regions.length);
    const f = cfg.dnsFailover;
    return {
        domain: cfg.domain,
        createDomain: cfg.createDomain,
        recordName: cfg.recordName,
        ttl: cfg.ttl,
        regions: cfg.regions as DigitalOceanRegion[],
        vpcCidrs,
        image: cfg.image,
        ipv6: cfg.ipv6,
        lb: cfg.lb,
        app: { perRegion: cfg.app.perRegion, size: cfg.app.size, healthPath: cfg.app.healthPath, source: resolveAppSource(cfg.app.source, opts.baseDir, opts.namespace) },
        db: { size: cfg.db.size, volumeSizeGb: cfg.db.volumeSizeGb, suspectTimeoutMs: cfg.db.suspectTimeoutMs },
        cache: cfg.cache,
        adminCidrs: cfg.adminCidrs,
        sshPublicKeys: cfg.sshPublicKeys,
        alertEmail: cfg.alertEmail,
        projectName: cfg.projectName ?? `${opts.namespace}-${opts.stack}`,
        dnsFailover: {
            enabled: f.enabled,
            timing: { intervalMs: f.intervalMs, timeoutMs: f.timeoutMs, downAfter: f.downAfter, upAfter: f.upAfter },
            ...(f.enabled && f.witnessRegion !== undefined ? {
                witness: { region: f.witnessRegion as DigitalOceanRegion, vpcCidr: f.witnessVpcCidr ?? defaultWitnessVpcCidr(vpcCidrs), size: f.witnessSize },
            } : {}),
        },
        https: cfg.https ? { acme: { serverUrl: cfg.acme.serverUrl, email: cfg.acme.email ?? cfg.alertEmail, minDaysRemaining: cfg.acme.minDaysRemaining } } : false,
        ...(cfg.reservedIpToken !== undefined ? { reservedIpToken: cfg.reservedIpToken } : {}),
        ...(cfg.dnsToken !== undefined ? { dnsToken: cfg.dnsToken } : {}),
        ...(cfg.digitaloceanApiUrl !== undefined ? { digitaloceanApiUrl: cfg.digitaloceanApiUrl.replace(/\/$/, "") } : {}),
    };
}

/**
 * Turns the stack's raw config (as `pulumi.runtime.allConfig()` returns it: "namespace:key" → text)
 * into validated settings, or throws a {@link StackConfigError} listing every bad key.
 * Keys of other namespaces (e.g. "digitalocean:token") are ignored.
 */
export function parseStackConfig(raw: Readonly<Record<string, string>>, opts: ParseOptions): StackSettings {
    const prefix = `${opts.namespace}:`;
    // Keys are the user's text: on a plain object, "dns-rr-ha:__proto__" would set the prototype and
    // the schema would read its keys as inherited settings. Without a prototype every key is data,
    // so "__proto__" is an unknown key like any other. (JSON.parse defines keys as data already.)
    const input: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [key, value] of Object.entries(raw)) {
        if (key.startsWith(prefix)) input[key.slice(prefix.length)] = decode(value);
    }
    const result = stackConfigSchema.safeParse(input);
    if (!result.success) {
        throw new StackConfigError(result.error.issues.flatMap((issue) => describeIssue(opts.namespace, input, issue)));
    }
    return toSettings(result.data, opts);
}

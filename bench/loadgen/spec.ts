/**
 * What the load generator is asked to do (its JSON argument), checked and normalised.
 * HTTPS is always verified: the chain against `caFile` (or Node's roots) and the certificate's
 * name against the Host header's name, which is also sent as SNI.
 */
import * as net from "net";

/** A path to request, chosen in proportion to its weight. */
export interface PathSpec {
    /**
     * Path and query. A write has `{key}` in it (and may have `{value}`): each request puts a
     * fresh unique key there, e.g. `/whoami.json?write=0&key={key}&value={value}`.
     */
    path: string;
    /** Relative share of the requests (default 1). */
    weight?: number;
    /**
     * For a write: a dotted path into the JSON answer (e.g. `db.kv.id`) that must hold a
     * non-null value for the write to count as acknowledged, besides HTTP 200. Needed when the
     * server answers 200 on a failed write (the demo app does, with `db.error`).
     */
    ackJsonPath?: string;
}

/** The load generator's input. Either `urls`, or `host` with `paths`. */
export interface LoadSpec {
    /** Full `http://` or `https://` URLs, taken in turn (weight 1 each); the Host header is the URL's. */
    urls?: string[];
    /** With `host`: `http` (default) or `https`. With `urls`, each URL's own. */
    scheme?: Scheme;
    /** A name (resolved through the system resolver) or an address. */
    host?: string;
    /** Default 80, or 443 for https. */
    port?: number;
    /**
     * Host header; default `host` (with `:port` unless the scheme's default). Over https its name
     * (without the port) is the SNI and the name the certificate must be valid for, so an address
     * in `host` can reach a site by its name: `{host: "10.1.0.2", scheme: "https", hostHeader: "www.x.test"}`.
     */
    hostHeader?: string;
    /**
     * For https: a PEM file of the CA certificates to trust instead of Node's bundled roots (e.g.
     * the lab ACME CA's root). Certificates are verified either way (`rejectUnauthorized`).
     */
    caFile?: string;
    paths?: PathSpec[];
    /** Requests started per second, on schedule whether or not earlier ones were answered. */
    rate: number;
    durationSec: number;
    /** Most requests in flight; a request due while this many are waits for nothing: it is recorded as error "concurrency cap". */
    concurrency: number;
    /** Per-request limit for connect, answer and body, ms. */
    timeoutMs: number;
    /** Resolve the names again every this many seconds (default: once at the start). */
    resolveEverySec?: number;
    /** Keys of writes are `${keyPrefix}-${i}`; default unique per run (start time and pid). */
    keyPrefix?: string;
    /** Keep this many first bytes of each answer's body in its record (default 0). */
    bodyExcerptBytes?: number;
    /** Extra request headers. */
    headers?: Record<string, string>;
    /** File for the newline-delimited JSON records. */
    out: string;
}

export type Scheme = "http" | "https";

/** One way to send a request: where, with which Host header, which path, and how often. */
export interface Route {
    scheme: Scheme;
    host: string;
    port: number;
    hostHeader: string;
    /** For https: the SNI and the name verified, the Host header's name (none when that is an address). */
    servername?: string;
    path: string;
    weight: number;
    write: boolean;
    ackJsonPath?: string;
}

/** A checked spec: its routes and settings with defaults filled in. */
export interface Plan {
    routes: Route[];
    /** PEM file of the CAs https routes trust instead of Node's roots. */
    caFile?: string;
    rate: number;
    durationSec: number;
    concurrency: number;
    timeoutMs: number;
    resolveEverySec?: number;
    keyPrefix: string;
    bodyExcerptBytes: number;
    headers: Record<string, string>;
    out: string;
}

function positive(name: string, v: unknown, integer = false): number {
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
        throw new Error(`${name} must be a positive ${integer ? "integer" : "number"}, got ${JSON.stringify(v)}`);
    }
    return v;
}

const DEFAULT_PORT: Record<Scheme, number> = { http: 80, https: 443 };

function hostHeaderOf(scheme: Scheme, host: string, port: number): string {
    const h = net.isIPv6(host) ? `[${host}]` : host;
    return port === DEFAULT_PORT[scheme] ? h : `${h}:${port}`;
}

/** Where a request goes and as what: scheme, address or name, port, Host header (and SNI for https). */
function endpoint(scheme: Scheme, host: string, port: number, hostHeader: string): Pick<Route, "scheme" | "host" | "port" | "hostHeader" | "servername"> {
    // The Host header's name without its port; an address is no SNI (RFC 6066) and is verified as an IP.
    const name = net.isIP(hostHeader) !== 0 ? hostHeader : hostHeader.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
    const servername = scheme === "https" && net.isIP(name) === 0 ? { servername: name } : {};
    return { scheme, host, port, hostHeader, ...servername };
}

function routesOfUrls(urls: readonly string[]): Route[] {
    return urls.map((u) => {
        const url = new URL(u);
        if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`only http: and https: URLs, got ${u}`);
        const scheme = url.protocol === "https:" ? "https" : "http";
        const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
        const port = url.port ? Number(url.port) : DEFAULT_PORT[scheme];
        const path = decodeURI(`${url.pathname}${url.search}`);
        return { ...endpoint(scheme, host, port, url.host), path, weight: 1, write: path.includes("{key}") };
    });
}

function routesOfPaths(spec: LoadSpec): Route[] {
    const host = spec.host;
    if (!host) throw new Error("give urls, or host with paths");
    const scheme = spec.scheme ?? "http";
    if (scheme !== "http" && scheme !== "https") throw new Error(`scheme must be http or https, got ${JSON.stringify(scheme)}`);
    const port = spec.port ?? DEFAULT_PORT[scheme];
    positive("port", port, true);
    const paths = spec.paths ?? [{ path: "/" }];
    if (paths.length === 0) throw new Error("paths is empty");
    return paths.map((p) => {
        if (typeof p.path !== "string" || !p.path.startsWith("/")) throw new Error(`path must start with /, got ${JSON.stringify(p.path)}`);
        const weight = positive(`weight of ${p.path}`, p.weight ?? 1);
        const write = p.path.includes("{key}");
        if (p.ackJsonPath !== undefined && !write) throw new Error(`ackJsonPath is for writes (a path with {key}): ${p.path}`);
        const target = endpoint(scheme, host, port, spec.hostHeader ?? hostHeaderOf(scheme, host, port));
        return { ...target, path: p.path, weight, write, ...(p.ackJsonPath ? { ackJsonPath: p.ackJsonPath } : {}) };
    });
}

/** Checks `spec` and fills in defaults; throws an Error naming the first bad setting. */
export function planOf(spec: LoadSpec, now = Date.now(), pid = process.pid): Plan {
    if (typeof spec !== "object" || spec === null) throw new Error("the spec must be a JSON object");
    if (spec.urls !== undefined && spec.host !== undefined) throw new Error("give urls or host, not both");
    if (spec.urls !== undefined && spec.scheme !== undefined) throw new Error("scheme goes with host; urls carry their own");
    const routes = spec.urls !== undefined ? routesOfUrls(spec.urls) : routesOfPaths(spec);
    if (routes.length === 0) throw new Error("urls is empty");
    if (spec.caFile !== undefined) {
        if (typeof spec.caFile !== "string" || spec.caFile === "") throw new Error(`caFile must be a file name, got ${JSON.stringify(spec.caFile)}`);
        if (!routes.some((r) => r.scheme === "https")) throw new Error("caFile is for https targets; none is");
    }
    if (typeof spec.out !== "string" || spec.out === "") throw new Error("out (the records file) is required");
    const excerpt = spec.bodyExcerptBytes ?? 0;
    if (!Number.isInteger(excerpt) || excerpt < 0) throw new Error(`bodyExcerptBytes must be a whole number, got ${excerpt}`);
    return {
        routes,
        ...(spec.caFile !== undefined ? { caFile: spec.caFile } : {}),
        rate: positive("rate", spec.rate),
        durationSec: positive("durationSec", spec.durationSec),
        concurrency: positive("concurrency", spec.concurrency, true),
        timeoutMs: positive("timeoutMs", spec.timeoutMs),
        ...(spec.resolveEverySec !== undefined ? { resolveEverySec: positive("resolveEverySec", spec.resolveEverySec) } : {}),
        keyPrefix: spec.keyPrefix ?? `w${now.toString(36)}-${pid}`,
        bodyExcerptBytes: excerpt,
        headers: { ...(spec.headers ?? {}) },
        out: spec.out,
    };
}

/**
 * What the load generator is asked to do (its JSON argument), checked and normalised.
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
    /** Full `http://` URLs, taken in turn (weight 1 each); the Host header is the URL's. */
    urls?: string[];
    /** A name (resolved through the system resolver) or an address. */
    host?: string;
    /** Default 80. */
    port?: number;
    /** Host header; default `host` (with `:port` unless 80). */
    hostHeader?: string;
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

/** One way to send a request: where, with which Host header, which path, and how often. */
export interface Route {
    host: string;
    port: number;
    hostHeader: string;
    path: string;
    weight: number;
    write: boolean;
    ackJsonPath?: string;
}

/** A checked spec: its routes and settings with defaults filled in. */
export interface Plan {
    routes: Route[];
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

function hostHeaderOf(host: string, port: number): string {
    const h = net.isIPv6(host) ? `[${host}]` : host;
    return port === 80 ? h : `${h}:${port}`;
}

function routesOfUrls(urls: readonly string[]): Route[] {
    return urls.map((u) => {
        const url = new URL(u);
        if (url.protocol !== "http:") throw new Error(`only http: URLs, got ${u}`);
        const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
        const port = url.port ? Number(url.port) : 80;
        const path = decodeURI(`${url.pathname}${url.search}`);
        return { host, port, hostHeader: url.host, path, weight: 1, write: path.includes("{key}") };
    });
}

function routesOfPaths(spec: LoadSpec): Route[] {
    const host = spec.host;
    if (!host) throw new Error("give urls, or host with paths");
    const port = spec.port ?? 80;
    positive("port", port, true);
    const paths = spec.paths ?? [{ path: "/" }];
    if (paths.length === 0) throw new Error("paths is empty");
    return paths.map((p) => {
        if (typeof p.path !== "string" || !p.path.startsWith("/")) throw new Error(`path must start with /, got ${JSON.stringify(p.path)}`);
        const weight = positive(`weight of ${p.path}`, p.weight ?? 1);
        const write = p.path.includes("{key}");
        if (p.ackJsonPath !== undefined && !write) throw new Error(`ackJsonPath is for writes (a path with {key}): ${p.path}`);
        return { host, port, hostHeader: spec.hostHeader ?? hostHeaderOf(host, port), path: p.path, weight, write, ...(p.ackJsonPath ? { ackJsonPath: p.ackJsonPath } : {}) };
    });
}

/** Checks `spec` and fills in defaults; throws an Error naming the first bad setting. */
export function planOf(spec: LoadSpec, now = Date.now(), pid = process.pid): Plan {
    if (typeof spec !== "object" || spec === null) throw new Error("the spec must be a JSON object");
    if (spec.urls !== undefined && spec.host !== undefined) throw new Error("give urls or host, not both");
    const routes = spec.urls !== undefined ? routesOfUrls(spec.urls) : routesOfPaths(spec);
    if (routes.length === 0) throw new Error("urls is empty");
    if (typeof spec.out !== "string" || spec.out === "") throw new Error("out (the records file) is required");
    const excerpt = spec.bodyExcerptBytes ?? 0;
    if (!Number.isInteger(excerpt) || excerpt < 0) throw new Error(`bodyExcerptBytes must be a whole number, got ${excerpt}`);
    return {
        routes,
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

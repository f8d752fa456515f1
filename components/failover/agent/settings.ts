/**
 * The agent's settings file (JSON, written by the program's wiring to {@link AGENT_PATHS.settings}),
 * and its validation: the agent refuses to start on a file it cannot trust, naming the field.
 */

/** Where the agent's files live on a droplet. */
export const AGENT_PATHS = {
    script: "/usr/local/lib/dns-rr-ha/dns-failover-agent.js",
    settings: "/etc/dns-rr-ha/dns-failover.json",
    /** DigitalOcean API token with write access to the domain's records (0600 root). */
    token: "/etc/dns-rr-ha/dns-token",
    /** Key every observer shares to sign and check views (0600 root). */
    voteKey: "/etc/dns-rr-ha/dns-vote-key",
    unit: "/etc/systemd/system/dns-rr-ha-dns-failover.service",
} as const;

export const AGENT_UNIT = "dns-rr-ha-dns-failover.service";

/** One entry point the agent watches: a region's reserved IP(s). */
export interface AgentEntryPoint {
    /** Region slug: the entry point's id in votes and logs. */
    readonly region: string;
    readonly ipv4: string;
    readonly ipv6?: string;
    /** Probed from the outside, through the public address. */
    readonly healthUrl: string;
}

export interface AgentPeer {
    readonly id: string;
    /** Base URL of the peer's view server, e.g. http://10.110.0.3:8405 */
    readonly url: string;
}

export interface AgentSettings {
    /** This observer's id (its droplet name). */
    readonly observer: string;
    /** Private address and port the view server listens on. */
    readonly listen: { readonly host: string; readonly port: number };
    /** Every other observer. */
    readonly peers: readonly AgentPeer[];
    readonly entryPoints: readonly AgentEntryPoint[];
    /** Host header of health probes. */
    readonly siteName: string;
    readonly domain: string;
    /** Record name inside the domain ("@" or a label). */
    readonly recordName: string;
    readonly ttl: number;
    readonly intervalMs: number;
    readonly timeoutMs: number;
    readonly downAfter: number;
    readonly upAfter: number;
    /** A peer's view older than this no longer counts. */
    readonly viewMaxAgeMs: number;
    /** How often the actor re-reads the records even when nothing changed (catches edits by hand or by `pulumi up`). */
    readonly reconcileMs: number;
    readonly apiUrl: string;
    /** Without a token file the agent observes and logs what it would do. */
    readonly tokenFile: string;
    /** The observers' shared key: views are signed with it, and unsigned ones are not believed. */
    readonly voteKeyFile: string;
    /** Requests per minute this agent allows itself (DigitalOcean allows 250 per token, shared). */
    readonly apiBudgetPerMinute: number;
}

type Check = (value: unknown) => string | undefined;

const int = (min: number, max: number): Check => (v) =>
    typeof v === "number" && Number.isInteger(v) && v >= min && v <= max ? undefined : `must be a whole number from ${min} to ${max}`;
const str: Check = (v) => (typeof v === "string" && v.length > 0 ? undefined : "must be a non-empty string");
const url: Check = (v) => (typeof v === "string" && /^https?:\/\/\S+$/.test(v) ? undefined : "must be an http(s) URL");

function need(obj: Record<string, unknown>, key: string, check: Check, where: string): void {
    const problem = check(obj[key]);
    if (problem) throw new Error(`${where}.${key} ${JSON.stringify(obj[key])} ${problem}`);
}

/** Parses and checks the settings file's JSON; throws naming the field and what is allowed. */
export function parseAgentSettings(text: string, source = "settings"): AgentSettings {
    let raw: unknown;
    try {
        raw = JSON.parse(text);
    } catch (e) {
        throw new Error(`${source} is not JSON: ${(e as Error).message}`);
    }
    if (typeof raw !== "object" || raw === null) throw new Error(`${source} must be a JSON object`);
    const s = raw as Record<string, unknown>;
    for (const k of ["observer", "siteName", "domain", "recordName", "tokenFile", "voteKeyFile"]) need(s, k, str, source);
    need(s, "apiUrl", url, source);
    need(s, "ttl", int(30, 86400), source);
    need(s, "intervalMs", int(200, 60000), source);
    need(s, "timeoutMs", int(100, 60000), source);
    need(s, "downAfter", int(1, 100), source);
    need(s, "upAfter", int(1, 100), source);
    need(s, "viewMaxAgeMs", int(200, 600000), source);
    need(s, "reconcileMs", int(1000, 3600000), source);
    need(s, "apiBudgetPerMinute", int(1, 250), source);
    if ((s.timeoutMs as number) >= (s.intervalMs as number)) {
        throw new Error(`${source}.timeoutMs ${String(s.timeoutMs)} must be below intervalMs ${String(s.intervalMs)}: a probe must end before the next starts`);
    }
    const listen = s.listen as Record<string, unknown> | undefined;
    if (typeof listen !== "object" || listen === null) throw new Error(`${source}.listen must be {"host": ..., "port": ...}`);
    need(listen, "host", str, `${source}.listen`);
    need(listen, "port", int(1, 65535), `${source}.listen`);
    if (!Array.isArray(s.peers)) throw new Error(`${source}.peers must be a list (empty for a lone observer)`);
    s.peers.forEach((p: unknown, i) => {
        const peer = (p ?? {}) as Record<string, unknown>;
        need(peer, "id", str, `${source}.peers[${i}]`);
        need(peer, "url", url, `${source}.peers[${i}]`);
    });
    if (!Array.isArray(s.entryPoints) || s.entryPoints.length === 0) throw new Error(`${source}.entryPoints must list at least one entry point`);
    s.entryPoints.forEach((e: unknown, i) => {
        const ep = (e ?? {}) as Record<string, unknown>;
        for (const k of ["region", "ipv4"]) need(ep, k, str, `${source}.entryPoints[${i}]`);
        need(ep, "healthUrl", url, `${source}.entryPoints[${i}]`);
    });
    const ids = [s.observer as string, ...(s.peers as AgentPeer[]).map((p) => p.id)];
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup !== undefined) throw new Error(`${source}: observer "${dup}" is listed twice (observer and peers must be distinct)`);
    return raw as AgentSettings;
}

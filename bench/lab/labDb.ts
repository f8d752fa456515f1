/**
 * What the lab scenarios ask the databases: which acknowledged keys a node holds, table
 * checksums, replication health (the stack's own db-replication-health) and heartbeat lag.
 */
import { LabHostState, LabState } from "../../lab/labState";
import { shellQuote } from "../../components/wiring/wiringScript";
import { inHost } from "../../lab/testing/labClient";

const HEALTH = "/usr/local/sbin/db-replication-health";

export function dbNodes(state: LabState): LabHostState[] {
    return state.hosts.filter((h) => h.role === "db");
}

/** Runs SQL as root on a DB droplet; rows as tab-separated lines. Throws with the client's message. */
export function sql(state: LabState, host: string, query: string): string[] {
    const r = inHost(state, host, `mariadb --batch --skip-column-names -e ${shellQuote(query)}`);
    if (r.code !== 0) throw new Error(`SQL on ${host} failed: ${r.out.trim()}`);
    return r.out.split("\n").filter((l) => l !== "");
}

/** The kv keys with `prefix` a node holds. */
export function keysPresent(state: LabState, host: string, prefix: string): Set<string> {
    return new Set(sql(state, host, `SELECT k FROM app.kv WHERE k LIKE '${prefix.replace(/[^\w.-]/g, "")}-%'`));
}

/** CHECKSUM TABLE of the app's tables on a node. */
export function checksums(state: LabState, host: string): string {
    return sql(state, host, "CHECKSUM TABLE app.kv, app.visits EXTENDED").join("; ");
}

export interface NodeHealth {
    readonly host: string;
    readonly code: number;
    readonly report: { healthy?: boolean; semisync?: { master_status?: string }; connections?: { name: string; heartbeat_age_seconds: number | null; last_error: string | null; problems: string[] }[] } | undefined;
}

export function replicationHealth(state: LabState, host: string, maxLagSec = 10): NodeHealth {
    const r = inHost(state, host, `${HEALTH} --max-lag ${maxLagSec}`);
    let report: NodeHealth["report"];
    try {
        report = JSON.parse(r.out.slice(r.out.indexOf("{"))) as NodeHealth["report"];
    } catch {
        report = undefined;
    }
    return { host, code: r.code, report };
}

/** Waits until every node's replication is healthy (exit 0); returns how long it took. */
export async function waitReplicationHealthy(state: LabState, timeoutMs: number): Promise<number> {
    const t = Date.now();
    for (;;) {
        const all = dbNodes(state).map((d) => replicationHealth(state, d.name, 3));
        if (all.every((h) => h.code === 0)) return Date.now() - t;
        if (Date.now() - t > timeoutMs) throw new Error(`replication not healthy after ${timeoutMs} ms: ${JSON.stringify(all)}`);
        await new Promise((r) => setTimeout(r, 500));
    }
}

/** Turns semisync on or off on every node at run time (the stack's `db.durability` sets it at boot). */
export function setSemisync(state: LabState, on: boolean): void {
    for (const d of dbNodes(state)) sql(state, d.name, `SET GLOBAL rpl_semi_sync_master_enabled = ${on ? "ON" : "OFF"}`);
}

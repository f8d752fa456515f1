/**
 * The database cluster's part of `npm run lab -- status`: every DB node's own view (the stack's
 * `dns-rr-ha-db-health`) and the arbitrator's service, asked of all hosts at once, each bounded by
 * a timeout, so a stopped or hung host shows as "unreachable" instead of holding the command up.
 */
import { LabState } from "./labState";
import { arbitratorState, ArbitratorState, dbHealthAsync, DbHealth, dbNodes } from "./testing/dbCluster";

export interface DbNodeStatus extends DbHealth {
    readonly host: string;
    readonly region: string;
}

export interface DbClusterStatus {
    readonly nodes: readonly DbNodeStatus[];
    /** garbd on the witness (absent with an odd number of regions: no arbitrator installed). */
    readonly arbitrators: readonly ArbitratorState[];
}

export async function probeDbCluster(state: LabState, timeoutMs = 3_000): Promise<DbClusterStatus> {
    const witnesses = state.hosts.filter((h) => h.role === "witness");
    const [nodes, arbitrators] = await Promise.all([
        Promise.all(dbNodes(state).map(async (d) => ({ host: d.name, region: d.region, ...(await dbHealthAsync(state, d.name, timeoutMs)) }))),
        Promise.all(witnesses.map((w) => arbitratorState(state, w, timeoutMs))),
    ]);
    return { nodes, arbitrators: arbitrators.filter((a) => a.installed) };
}

const VERDICT: Record<number, string> = { 0: "healthy", 1: "serving, a member missing", 2: "down", 3: "not serving" };

function verdict(n: DbNodeStatus): string {
    if (n.state === "unreachable") return "unreachable";
    return VERDICT[n.code] ?? `exit ${n.code}`;
}

function table(rows: string[][]): string[] {
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd());
}

/** The lines `status` prints: one row per DB node, its problems under it, then the arbitrator(s). */
export function describeDbCluster(s: DbClusterStatus): string[] {
    if (s.nodes.length === 0) return [];
    const rows = [["DB NODE", "REGION", "STATE", "CLUSTER", "SIZE", "READY", "COMMITTED", "HEALTH"]];
    const notes: string[] = [];
    for (const n of s.nodes) {
        const size = n.clusterSize === null ? "-" : `${n.clusterSize}${n.expectedSize !== null ? `/${n.expectedSize}` : ""}`;
        rows.push([n.host, n.region, n.state, n.clusterStatus ?? "-", size, n.state === "unreachable" ? "-" : n.ready ? "yes" : "no", n.lastCommitted === null ? "-" : String(n.lastCommitted), verdict(n)]);
        if (n.code !== 0) for (const p of n.problems) notes.push(`  ${n.host}: ${p}`);
    }
    const arbiters = s.arbitrators.map((a) => `arbitrator (garbd) on ${a.host} (${a.region}): ${a.service}${a.restarts ? `, ${a.restarts} restarts` : ""}`);
    return ["", "database cluster (Galera; each node's dns-rr-ha-db-health):", ...table(rows), ...notes, ...arbiters];
}

/**
 * The conflict bench's figures, from its operation records and the nodes' final rows: pure
 * functions (no I/O), so synthetic records can check them (conflictFigures.test.ts).
 */
import { Figure } from "../report/markdown";
import { RequestRecord } from "../report/records";
import { percentile } from "../report/stats";
import { Series } from "../report/timeline";

/** The two emulated regions; each region's clients talk to their own region's node. */
export type Region = "A" | "B";

/** The workload's operations (the same against both systems). */
export type OpKind = "hot" | "counter" | "claim" | "cas";

/**
 * One operation as a worker saw it: when it started (ms since the load's start), how long its
 * write took, and its outcome: `acked` (the client got OK for the commit), `rejected` (the
 * database said no by design: 1062 for a value already claimed, 0 rows for a stale
 * compare-and-set) or `failed` (an error: 1213, 1047, ..., or `timeout`: outcome unknown).
 */
export interface OpRecord {
    region: Region;
    kind: OpKind;
    t: number;
    ms: number;
    outcome: "acked" | "rejected" | "failed";
    /** Error code ("1213", "1047", "1062", "timeout", "exit") or "cas-mismatch". */
    error?: string;
    /** The counter row, or the claimed value. */
    key?: string;
    /** Compare-and-set: the version it expected. */
    version?: number;
}

/** A node's rows after the run: `cells` by name, `claims` by value. */
export interface NodeRows {
    cells: Record<string, { value: number; version: number }>;
    claims: Record<string, { id: string; region: string }>;
}

/** Everything measured on one system. */
export interface SystemRun {
    records: readonly OpRecord[];
    /** When the link was cut and healed, ms since the load's start. */
    cutAt: number;
    healAt: number;
    /** Rows of node A and node B, read after the convergence wait. */
    nodes: readonly [NodeRows, NodeRows];
    /** Tables whose CHECKSUM TABLE differs between the nodes at the end. */
    tablesMismatched: number;
    /** Whether replication (Galera: both nodes Synced in a primary component of every member) runs at the end. */
    replicationRunning: boolean;
    /** A replication error number seen at the end (baseline: Last_SQL_Errno/Last_IO_Errno), 0 if none. */
    replicationErrno: number;
    /** ms from heal() until both nodes agreed, null if they did not within the wait. */
    healedAfterMs: number | null;
    /** First replication error seen while the load ran, ms since its start (null: none). */
    firstReplicationErrorAt: number | null;
    /** Median commit of one client alone, before the load (ms). */
    idleCommitMs: number | null;
    /** Bytes the system's inter-region traffic sent through the delay links while the load ran (from its start to the end of the wait). */
    linkBytes: number;
    /** Inter-region connections found NOT going through a delay link (must be 0). */
    directConnections: number;
}

/** The figures of one system. */
export interface SystemFigures {
    hotAcked: number;
    hotLost: [number, number];
    countersAcked: number;
    countersLost: [number, number];
    claimsAcked: number;
    doubleClaims: number;
    claimsMissing: [number, number];
    casAcked: number;
    doubleCas: number;
    casLost: [number, number];
    rowsDiffering: number;
    tablesMismatched: number;
    replicationRunning: number;
    replicationErrno: number;
    commitP50: number | null;
    commitP99: number | null;
    healedAfterSec: number | null;
    ackedDuringCut: [number, number];
    refusedDuringCut: [number, number];
    refusalP50B: number | null;
    firstRefusalAfterCutB: number | null;
    longestStallA: number | null;
    firstReplicationErrorSec: number | null;
    idleCommitMs: number | null;
    linkKiB: number;
    directConnections: number;
}

/** Phase lengths from the run's --duration: steady load, then region B cut off. */
export function conflictPhases(durationSec: number): { steadyMs: number; cutMs: number } {
    const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
    return { steadyMs: Math.round(clamp(durationSec * 0.6, 4, 20) * 1000), cutMs: Math.round(clamp(durationSec * 0.3, 5, 8) * 1000) };
}

const acked = (r: OpRecord) => r.outcome === "acked";

/** Acknowledged increments a node does not show: Σ over rows of max(0, acked − final). */
function lostIncrements(ackedByRow: Map<string, number>, final: (row: string) => number): number {
    let lost = 0;
    for (const [row, n] of ackedByRow) lost += Math.max(0, n - final(row));
    return lost;
}

/** Rows that differ between two nodes' snapshots (missing on one side, or other content). */
export function rowsDiffering(a: NodeRows, b: NodeRows): number {
    let n = 0;
    for (const table of ["cells", "claims"] as const) {
        const keys = new Set([...Object.keys(a[table]), ...Object.keys(b[table])]);
        for (const k of keys) if (JSON.stringify(a[table][k] ?? null) !== JSON.stringify(b[table][k] ?? null)) n += 1;
    }
    return n;
}

/** The figures of one system's run. */
export function systemFigures(run: SystemRun): SystemFigures {
    const r = run.records;
    const both = <T>(f: (node: NodeRows) => T): [T, T] => [f(run.nodes[0]), f(run.nodes[1])];
    const count = (p: (x: OpRecord) => boolean) => r.filter(p).length;

    const hotAcked = count((x) => x.kind === "hot" && acked(x));
    const counters = new Map<string, number>();
    for (const x of r) if (x.kind === "counter" && acked(x) && x.key) counters.set(x.key, (counters.get(x.key) ?? 0) + 1);

    const claimedBy = new Map<string, Set<Region>>();
    for (const x of r) {
        if (x.kind !== "claim" || !acked(x) || !x.key) continue;
        const s = claimedBy.get(x.key) ?? new Set<Region>();
        s.add(x.region);
        claimedBy.set(x.key, s);
    }
    const claimsMissing = (node: NodeRows) => {
        let n = 0;
        for (const [value, regions] of claimedBy) for (const region of regions) if (node.claims[value]?.region !== region) n += 1;
        return n;
    };

    const casByVersion = new Map<number, Set<Region>>();
    for (const x of r) {
        if (x.kind !== "cas" || !acked(x) || x.version === undefined) continue;
        const s = casByVersion.get(x.version) ?? new Set<Region>();
        s.add(x.region);
        casByVersion.set(x.version, s);
    }
    const casAcked = count((x) => x.kind === "cas" && acked(x));

    const steady = r.filter((x) => acked(x) && x.t + x.ms <= run.cutAt).map((x) => x.ms).sort((p, q) => p - q);
    const inCut = (x: OpRecord) => x.t >= run.cutAt && x.t < run.healAt;
    const refused = (x: OpRecord) => x.outcome === "failed" && x.error !== "timeout";
    const per = (p: (x: OpRecord) => boolean): [number, number] => [count((x) => x.region === "A" && p(x)), count((x) => x.region === "B" && p(x))];
    const refusedB = r.filter((x) => x.region === "B" && inCut(x) && refused(x));
    const refusalsB = refusedB.map((x) => x.ms).sort((p, q) => p - q);
    // Any write of region A that was waiting at some moment of the cut, also one started just before it.
    const cutA = r.filter((x) => x.region === "A" && x.t < run.healAt && x.t + x.ms > run.cutAt).map((x) => x.ms);

    return {
        hotAcked,
        hotLost: both((n) => Math.max(0, hotAcked - (n.cells.hot?.value ?? 0))),
        countersAcked: [...counters.values()].reduce((s, v) => s + v, 0),
        countersLost: both((n) => lostIncrements(counters, (row) => n.cells[row]?.value ?? 0)),
        claimsAcked: count((x) => x.kind === "claim" && acked(x)),
        doubleClaims: [...claimedBy.values()].filter((s) => s.size > 1).length,
        claimsMissing: both(claimsMissing),
        casAcked,
        doubleCas: [...casByVersion.values()].filter((s) => s.size > 1).length,
        casLost: both((n) => Math.max(0, casAcked - (n.cells.cas?.version ?? 0))),
        rowsDiffering: rowsDiffering(run.nodes[0], run.nodes[1]),
        tablesMismatched: run.tablesMismatched,
        replicationRunning: run.replicationRunning ? 1 : 0,
        replicationErrno: run.replicationErrno,
        commitP50: percentile(steady, 50),
        commitP99: percentile(steady, 99),
        healedAfterSec: run.healedAfterMs === null ? null : run.healedAfterMs / 1000,
        ackedDuringCut: per((x) => inCut(x) && acked(x)),
        refusedDuringCut: per((x) => inCut(x) && refused(x)),
        refusalP50B: percentile(refusalsB, 50),
        firstRefusalAfterCutB: refusedB.length ? Math.min(...refusedB.map((x) => x.t + x.ms)) - run.cutAt : null,
        longestStallA: cutA.length ? Math.max(...cutA) : null,
        firstReplicationErrorSec: run.firstReplicationErrorAt === null ? null : run.firstReplicationErrorAt / 1000,
        idleCommitMs: run.idleCommitMs,
        linkKiB: Math.round(run.linkBytes / 1024),
        directConnections: run.directConnections,
    };
}

/** The report's rows: `a` next to `b`, figure by figure. */
export function conflictFigureRows(a: { label: string; f: SystemFigures }, b: { label: string; f: SystemFigures }, waitSec: number): Figure[] {
    const row = (name: string, unit: string, pick: (f: SystemFigures) => number | null, label?: (side: { label: string; f: SystemFigures }) => string): Figure => ({
        name, unit,
        a: { label: label ? label(a) : a.label, value: pick(a.f) },
        b: { label: label ? label(b) : b.label, value: pick(b.f) },
    });
    const nodes = (name: string, unit: string, pick: (f: SystemFigures) => [number | null, number | null]): Figure[] => [
        row(`${name}, node A`, unit, (f) => pick(f)[0]),
        row(`${name}, node B`, unit, (f) => pick(f)[1]),
    ];
    return [
        row("hot row: increments acknowledged", "writes", (f) => f.hotAcked),
        ...nodes("hot row: acknowledged increments lost", "writes", (f) => f.hotLost),
        row("counters: increments acknowledged", "writes", (f) => f.countersAcked),
        ...nodes("counters: acknowledged increments lost", "writes", (f) => f.countersLost),
        row("claims: acknowledged", "writes", (f) => f.claimsAcked),
        row("claims: values acknowledged to both regions", "values", (f) => f.doubleClaims),
        ...nodes("claims: acknowledged claims missing", "writes", (f) => f.claimsMissing),
        row("compare-and-set: acknowledged", "writes", (f) => f.casAcked),
        row("compare-and-set: same version acknowledged to both regions", "versions", (f) => f.doubleCas),
        ...nodes("compare-and-set: acknowledged lost", "writes", (f) => f.casLost),
        row("rows differing between the nodes after heal", "rows", (f) => f.rowsDiffering),
        row("tables whose CHECKSUM TABLE differs after heal", "tables", (f) => f.tablesMismatched),
        row("replication running after heal (1 = yes)", "bool", (f) => f.replicationRunning),
        row("replication error after heal", "errno", (f) => f.replicationErrno),
        row("first replication error during the load", "s", (f) => f.firstReplicationErrorSec),
        row("commit latency p50 (acknowledged, steady)", "ms", (f) => f.commitP50),
        row("commit latency p99 (acknowledged, steady)", "ms", (f) => f.commitP99),
        row("commit latency, one client alone", "ms", (f) => f.idleCommitMs),
        row("time to heal (checksums equal)", "s", (f) => f.healedAfterSec, (s) => (s.f.healedAfterSec === null ? `${s.label} (not converged in ${waitSec} s)` : s.label)),
        ...nodes("writes acknowledged during the cut", "writes", (f) => f.ackedDuringCut).map((x) => ({ ...x, name: x.name.replace(", node ", ", region ") })),
        ...nodes("writes refused during the cut", "writes", (f) => f.refusedDuringCut).map((x) => ({ ...x, name: x.name.replace(", node ", ", region ") })),
        row("first write refused after the cut began, region B", "ms", (f) => f.firstRefusalAfterCutB),
        row("time to refuse a write during the cut, p50, region B", "ms", (f) => f.refusalP50B),
        row("longest write waiting during the cut, region A", "ms", (f) => f.longestStallA),
        row("inter-region traffic through the delay links during the load", "KiB", (f) => f.linkKiB),
        row("inter-region connections bypassing the delay", "connections", (f) => f.directConnections),
    ];
}

/** The records as the report's load records (for its load table): ok = acknowledged. */
export function asRequestRecords(records: readonly OpRecord[], target: string): RequestRecord[] {
    return [...records].sort((p, q) => p.t - q.t).map((x, i) => ({
        i, t: x.t, planned: x.t, ms: x.ms, status: 0, ok: acked(x), target, path: `${x.region}:${x.kind}`,
        ...(acked(x) ? {} : { error: x.outcome === "rejected" ? `rejected ${x.error ?? ""}`.trim() : x.error ?? "error" }),
    }));
}

/** Per second (by start): acknowledged, failed, and the p99 of acknowledged writes; names prefixed by `label`. */
export function opSeries(records: readonly OpRecord[], seconds: number, label: string): Series[] {
    const ackedPer = new Array<number>(seconds).fill(0);
    const failedPer = new Array<number>(seconds).fill(0);
    const ms: number[][] = Array.from({ length: seconds }, () => []);
    for (const x of records) {
        const s = Math.floor(x.t / 1000);
        if (s < 0 || s >= seconds) continue;
        if (acked(x)) {
            ackedPer[s] += 1;
            ms[s].push(x.ms);
        } else if (x.outcome === "failed") failedPer[s] += 1;
    }
    return [
        { name: `${label} acked/s`, unit: "writes/s", axis: "left", values: ackedPer },
        { name: `${label} failed/s`, unit: "writes/s", axis: "left", values: failedPer },
        { name: `${label} commit p99`, unit: "ms", axis: "right", values: ms.map((v) => percentile(v.sort((p, q) => p - q), 99)) },
    ];
}

/**
 * The conflict bench's figures from hand-made records and node rows.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { asRequestRecords, conflictFigureRows, conflictPhases, opSeries, rowsDiffering, systemFigures, type NodeRows, type OpRecord, type SystemRun } from "./conflictFigures";

const op = (region: "A" | "B", kind: OpRecord["kind"], t: number, ms: number, outcome: OpRecord["outcome"] = "acked", extra: Partial<OpRecord> = {}): OpRecord => ({ region, kind, t, ms, outcome, ...extra });

function cells(hot: number, casVersion: number, counters: Record<string, number>): NodeRows["cells"] {
    return {
        hot: { value: hot, version: 0 },
        cas: { value: casVersion, version: casVersion },
        ...Object.fromEntries(Object.entries(counters).map(([k, v]) => [k, { value: v, version: 0 }])),
    };
}

function run(records: OpRecord[], nodes: [NodeRows, NodeRows], extra: Partial<SystemRun> = {}): SystemRun {
    return {
        records, cutAt: 1000, healAt: 2000, nodes, tablesMismatched: 0, replicationRunning: true, replicationErrno: 0,
        healedAfterMs: 1500, firstReplicationErrorAt: null, idleCommitMs: 85, linkBytes: 4096, directConnections: 0, ...extra,
    };
}

describe("systemFigures", () => {
    // Steady (ends before 1000), cut 1000..2000, after.
    const records: OpRecord[] = [
        ...Array.from({ length: 5 }, (_, i) => op("A", "hot", i * 10, 80 + i)),
        ...Array.from({ length: 5 }, (_, i) => op("B", "hot", i * 10 + 5, 90 + i)),
        op("A", "hot", 100, 50, "failed", { error: "1213" }),
        op("A", "counter", 200, 80, "acked", { key: "counter-0" }),
        op("B", "counter", 210, 80, "acked", { key: "counter-0" }),
        op("A", "counter", 220, 80, "acked", { key: "counter-0" }),
        op("A", "counter", 230, 80, "acked", { key: "counter-1" }),
        op("B", "counter", 240, 80, "acked", { key: "counter-1" }),
        op("A", "claim", 300, 80, "acked", { key: "c-1" }),
        op("B", "claim", 305, 80, "acked", { key: "c-1" }),
        op("A", "claim", 400, 80, "acked", { key: "c-2" }),
        op("B", "claim", 405, 5, "rejected", { key: "c-2", error: "1062" }),
        op("A", "cas", 500, 80, "acked", { version: 0 }),
        op("B", "cas", 505, 80, "acked", { version: 0 }),
        op("A", "cas", 600, 80, "acked", { version: 1 }),
        op("B", "cas", 610, 3, "rejected", { version: 1, error: "cas-mismatch" }),
        // Started before the cut, waiting across it.
        op("A", "hot", 950, 2100, "acked"),
        // During the cut.
        op("A", "counter", 1100, 90, "acked", { key: "counter-2" }),
        op("B", "counter", 1200, 20, "failed", { error: "1047" }),
        op("B", "counter", 1300, 30, "failed", { error: "1047" }),
        op("B", "hot", 1400, 40, "failed", { error: "1047" }),
        op("B", "hot", 1500, 10_000, "failed", { error: "timeout" }),
    ];
    const nodeA: NodeRows = { cells: cells(11, 2, { "counter-0": 3, "counter-1": 4, "counter-2": 1 }), claims: { "c-1": { id: "1", region: "A" }, "c-2": { id: "11", region: "A" } } };
    const nodeB: NodeRows = { cells: cells(7, 1, { "counter-0": 2, "counter-1": 2, "counter-2": 0 }), claims: { "c-1": { id: "2", region: "B" } } };
    const f = systemFigures(run(records, [nodeA, nodeB]));

    test("hot row: lost = acknowledged − final, per node, never negative", () => {
        assert.equal(f.hotAcked, 11);
        assert.deepEqual(f.hotLost, [0, 4]);
    });
    test("counters: per row, so a row counted too high does not hide one counted too low", () => {
        assert.equal(f.countersAcked, 6);
        // A: counter-0 3/3, counter-1 4 of 2 (not negative), counter-2 1/1 → 0; B: 1 + 0 + 1.
        assert.deepEqual(f.countersLost, [0, 2]);
    });
    test("claims: a value acknowledged to both regions, and acknowledged claims a node lacks or gives the other region", () => {
        assert.equal(f.claimsAcked, 3);
        assert.equal(f.doubleClaims, 1);
        // A: B's c-1 is A's there. B: A's c-1 is B's, A's c-2 is absent.
        assert.deepEqual(f.claimsMissing, [1, 2]);
    });
    test("compare-and-set: one version acknowledged to both; lost = acknowledged − final version", () => {
        assert.equal(f.casAcked, 3);
        assert.equal(f.doubleCas, 1);
        assert.deepEqual(f.casLost, [1, 2]);
    });
    test("commit latency of acknowledged writes that ended before the cut only", () => {
        assert.equal(f.commitP50, 80);
        assert.equal(f.commitP99, 94);
    });
    test("the cut: acknowledged and refused per region (timeouts are not refusals), how fast B refused, A's longest wait", () => {
        assert.deepEqual(f.ackedDuringCut, [1, 0]);
        assert.deepEqual(f.refusedDuringCut, [0, 3]);
        assert.equal(f.refusalP50B, 30);
        // The first refusal ended at 1200 + 20, 220 ms into the cut.
        assert.equal(f.firstRefusalAfterCutB, 220);
        assert.equal(f.longestStallA, 2100);
    });
    test("divergence and convergence figures", () => {
        assert.equal(f.rowsDiffering, rowsDiffering(nodeA, nodeB));
        // hot, cas, counter-0, counter-1, counter-2, c-1, c-2.
        assert.equal(f.rowsDiffering, 7);
        assert.equal(f.healedAfterSec, 1.5);
        assert.equal(f.replicationRunning, 1);
        assert.equal(f.linkKiB, 4);
    });
    test("identical nodes with everything acknowledged present: nothing lost, nothing differs", () => {
        const same: NodeRows = { cells: cells(11, 3, { "counter-0": 3, "counter-1": 2, "counter-2": 1 }), claims: { "c-1": { id: "1", region: "A" }, "c-2": { id: "11", region: "A" } } };
        const clean = records.filter((r) => !(r.kind === "claim" && r.region === "B" && r.outcome === "acked"));
        const g = systemFigures(run(clean, [same, structuredClone(same)]));
        assert.deepEqual([g.hotLost, g.countersLost, g.claimsMissing, g.casLost], [[0, 0], [0, 0], [0, 0], [0, 0]]);
        assert.equal(g.doubleClaims, 0);
        assert.equal(g.rowsDiffering, 0);
    });
});

describe("conflictFigureRows", () => {
    const nodes: [NodeRows, NodeRows] = [{ cells: cells(1, 0, {}), claims: {} }, { cells: cells(1, 0, {}), claims: {} }];
    const a = systemFigures(run([op("A", "hot", 0, 100)], nodes));
    const b = systemFigures(run([op("A", "hot", 0, 80)], nodes, { healedAfterMs: null, replicationRunning: false, replicationErrno: 1062 }));
    const rows = conflictFigureRows({ label: "Galera", f: a }, { label: "semisync", f: b }, 30);
    test("every figure side by side, per node where the nodes can differ", () => {
        assert.ok(rows.every((r) => r.b !== undefined && r.a.label.startsWith("Galera") && r.b.label.startsWith("semisync")));
        assert.ok(rows.some((r) => r.name === "hot row: acknowledged increments lost, node A"));
        assert.ok(rows.some((r) => r.name === "hot row: acknowledged increments lost, node B"));
        assert.ok(rows.some((r) => r.name === "writes refused during the cut, region B"));
        const latency = rows.find((r) => r.name.startsWith("commit latency p50"))!;
        assert.deepEqual([latency.a.value, latency.b!.value], [100, 80]);
    });
    test("a system that did not converge says so in its label, with no value", () => {
        const heal = rows.find((r) => r.name.startsWith("time to heal"))!;
        assert.deepEqual(heal.a, { label: "Galera", value: 1.5 });
        assert.deepEqual(heal.b, { label: "semisync (not converged in 30 s)", value: null });
        assert.equal(rows.find((r) => r.name === "replication error after heal")!.b!.value, 1062);
    });
});

describe("series and load records", () => {
    const records = [op("A", "hot", 100, 80), op("B", "hot", 900, 120), op("B", "hot", 1500, 20, "failed", { error: "1047" }), op("A", "claim", 1600, 5, "rejected", { error: "1062" })];
    test("per second by start: acknowledged, failed (not rejected), p99 of the acknowledged", () => {
        const [acked, failed, p99] = opSeries(records, 3, "x");
        assert.deepEqual(acked!.values, [2, 0, 0]);
        assert.deepEqual(failed!.values, [0, 1, 0]);
        assert.deepEqual(p99!.values, [120, null, null]);
        assert.equal(acked!.name, "x acked/s");
    });
    test("as load records: ok means acknowledged, the error names the code", () => {
        const r = asRequestRecords(records, "t");
        assert.deepEqual(r.map((x) => [x.ok, x.error]), [[true, undefined], [true, undefined], [false, "1047"], [false, "rejected 1062"]]);
    });
});

describe("conflictPhases", () => {
    test("short in --demo, longer in the lab, bounded", () => {
        assert.deepEqual(conflictPhases(10), { steadyMs: 6000, cutMs: 5000 });
        assert.deepEqual(conflictPhases(30), { steadyMs: 18_000, cutMs: 8000 });
        assert.deepEqual(conflictPhases(1000), { steadyMs: 20_000, cutMs: 8000 });
    });
});

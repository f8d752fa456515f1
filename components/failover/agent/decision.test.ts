import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decide, INITIAL_TRACK, isActor, ObserverView, quorum, recordProbe, Verdict } from "./decision";

const T = { downAfter: 3, upAfter: 5 };
const run = (oks: boolean[], start = INITIAL_TRACK) => oks.reduce((t, ok) => recordProbe(t, ok, T), start);
const view = (observer: string, verdicts: Record<string, Verdict>): ObserverView => ({ observer, verdicts });
const OBS = ["lb-a1", "lb-a2", "lb-b1", "lb-b2", "witness"];

describe("recordProbe (hysteresis)", () => {
    test("down only after downAfter consecutive failures", () => {
        assert.equal(run([false, false]).verdict, "up");
        assert.equal(run([false, false, true, false, false]).verdict, "up", "a success resets the streak");
        assert.equal(run([false, false, false]).verdict, "down");
    });
    test("up again only after upAfter consecutive successes", () => {
        const down = run([false, false, false]);
        assert.equal(run([true, true, true, true], down).verdict, "down");
        assert.equal(run([true, true, true, true, false, true], down).verdict, "down", "a failure resets the streak");
        assert.equal(run([true, true, true, true, true], down).verdict, "up");
    });
});

describe("decide", () => {
    const all = new Set(["nyc3", "ams3"]);
    test("withdraws when a majority of all observers call it down", () => {
        const d = decide({
            entryPoints: ["nyc3", "ams3"], observers: OBS, published: all,
            views: [view("lb-a1", { nyc3: "up", ams3: "down" }), view("lb-a2", { nyc3: "up", ams3: "down" }), view("witness", { nyc3: "up", ams3: "down" })],
        });
        assert.deepEqual([...d.publish], ["nyc3"]);
        assert.deepEqual(d.changes.map((c) => [c.entryPoint, c.action, c.tally.down]), [["ams3", "withdraw", 3]]);
    });
    test("a partition side hearing only itself withdraws nothing (majority of all, not of heard)", () => {
        const d = decide({
            entryPoints: ["nyc3", "ams3"], observers: OBS, published: all,
            views: [view("lb-a1", { nyc3: "up", ams3: "down" }), view("lb-a2", { nyc3: "up", ams3: "down" })],
        });
        assert.equal(d.changes.length, 0);
        assert.equal(d.tallies[1]!.heard, 2);
    });
    test("the witness seeing both sides blocks withdrawal during a partition", () => {
        const d = decide({
            entryPoints: ["nyc3", "ams3"], observers: OBS, published: all,
            views: [view("lb-a1", { nyc3: "up", ams3: "down" }), view("lb-a2", { nyc3: "up", ams3: "down" }), view("witness", { nyc3: "up", ams3: "up" })],
        });
        assert.equal(d.changes.length, 0);
    });
    test("restores only on a majority calling it up; without a majority either way nothing changes", () => {
        const withdrawn = new Set(["nyc3"]);
        const twoUp = [view("lb-a1", { nyc3: "up", ams3: "up" }), view("witness", { nyc3: "up", ams3: "up" })];
        assert.equal(decide({ entryPoints: ["nyc3", "ams3"], observers: OBS, published: withdrawn, views: twoUp }).changes.length, 0);
        const threeUp = [...twoUp, view("lb-b1", { nyc3: "up", ams3: "up" })];
        assert.deepEqual(decide({ entryPoints: ["nyc3", "ams3"], observers: OBS, published: withdrawn, views: threeUp }).changes.map((c) => [c.entryPoint, c.action]), [["ams3", "restore"]]);
    });
    test("never withdraws the last record", () => {
        const allDown = OBS.map((o) => view(o, { nyc3: "down", ams3: "down" }));
        const d = decide({ entryPoints: ["nyc3", "ams3"], observers: OBS, published: new Set(["ams3"]), views: allDown });
        assert.deepEqual([...d.publish], ["ams3"], "the one already published stays");
        assert.deepEqual(d.keptAsLast, ["ams3"]);
        assert.equal(d.changes.length, 0);
    });
    test("when every entry point is down, keeps the least-doubted one", () => {
        const views = [view("lb-a1", { nyc3: "down", ams3: "down" }), view("lb-a2", { nyc3: "down", ams3: "down" }), view("lb-b1", { nyc3: "down", ams3: "down" }), view("witness", { nyc3: "down", ams3: "up" })];
        const d = decide({ entryPoints: ["nyc3", "ams3"], observers: OBS, published: all, views });
        assert.deepEqual([...d.publish], ["ams3"]);
        assert.deepEqual(d.changes.map((c) => [c.entryPoint, c.action]), [["nyc3", "withdraw"]]);
    });
    test("with nothing published, restores one even without a majority", () => {
        const d = decide({ entryPoints: ["nyc3", "ams3"], observers: OBS, published: new Set(), views: [] });
        assert.deepEqual(d.changes.map((c) => [c.entryPoint, c.action]), [["nyc3", "restore"]]);
    });
    test("ignores unknown observers and counts a repeated one once", () => {
        const v = view("lb-a1", { nyc3: "down", ams3: "up" });
        const d = decide({ entryPoints: ["nyc3", "ams3"], observers: OBS, published: all, views: [v, v, v, view("intruder", { nyc3: "down" })] });
        assert.equal(d.tallies[0]!.down, 1);
        assert.equal(d.changes.length, 0);
    });
    test("properties: never empty, withdrawals need a majority of all observers, restores need one too (or an empty set)", () => {
        const verdict = fc.constantFrom<Verdict>("up", "down");
        const regions = ["r1", "r2", "r3"];
        fc.assert(fc.property(
            fc.integer({ min: 1, max: 7 }),
            fc.array(fc.tuple(fc.nat(8), verdict, verdict, verdict), { maxLength: 10 }),
            fc.subarray(regions),
            (n, raw, published) => {
                const observers = Array.from({ length: n }, (_, i) => `o${i}`);
                const views = raw.map(([i, a, b, c]) => view(`o${i}`, { r1: a, r2: b, r3: c }));
                const d = decide({ entryPoints: regions, observers, views, published: new Set(published) });
                assert.ok(d.publish.size >= 1);
                for (const c of d.changes) {
                    if (c.action === "withdraw") assert.ok(c.tally.down >= quorum(n), "withdraw without a majority");
                    if (c.action === "restore") assert.ok(c.tally.up >= quorum(n) || published.length === 0 || d.publish.size === 1);
                }
                assert.ok(d.changes.filter((c) => c.action === "withdraw").length < regions.length);
            },
        ), { numRuns: 500 });
    });
});

describe("isActor", () => {
    test("the first by id among those heard, and only while a majority is heard", () => {
        assert.equal(isActor("lb-a1", OBS, ["lb-a2", "witness"]), true);
        assert.equal(isActor("lb-a2", OBS, ["lb-a1", "witness"]), false);
        assert.equal(isActor("lb-a1", OBS, ["lb-a2"]), false, "2 of 5 is no majority");
        assert.equal(isActor("lb-b1", OBS, ["lb-b2", "witness"]), true, "a side that does not hear lb-a1 has its own actor, which can only carry out what a majority of all observers says");
        assert.equal(quorum(5), 3);
    });
});

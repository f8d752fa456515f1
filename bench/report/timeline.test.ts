import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { perSecond, loadSeries, buildTimeline, concatTimelines } from "./timeline";
import { rec } from "./testing";

describe("perSecond", () => {
    const records = [
        rec(0, 0, 10), rec(1, 400, 30), rec(2, 999, 20),
        rec(3, 1000, 40), rec(4, 1500, 900, false),
        rec(5, 3999, 8),
    ];
    test("buckets by start second: requests, errors, p50/p99 of ok requests, gaps as null", () => {
        assert.deepEqual(perSecond(records), {
            requests: [3, 2, 0, 1],
            errors: [0, 1, 0, 0],
            p50: [20, 40, null, 8],
            p99: [30, 40, null, 8],
        });
    });
    test("a fixed span cuts later records and pads", () => {
        assert.deepEqual(perSecond(records, 2).requests, [3, 2]);
        assert.deepEqual(perSecond(records, 6).requests, [3, 2, 0, 1, 0, 0]);
    });
    test("empty input", () => {
        assert.deepEqual(perSecond([]), { requests: [], errors: [], p50: [], p99: [] });
        assert.deepEqual(perSecond([], 2), { requests: [0, 0], errors: [0, 0], p50: [null, null], p99: [null, null] });
    });
    test("loadSeries names and axes", () => {
        const s = loadSeries(records, 4, "direct");
        assert.deepEqual(s.map((x) => [x.name, x.unit, x.axis]), [
            ["direct requests/s", "req/s", "left"], ["direct errors/s", "req/s", "left"], ["direct p99", "ms", "right"],
        ]);
    });
});

describe("timelines", () => {
    test("buildTimeline merges caller series (cut/padded) and keeps markers within the span, sorted", () => {
        const t = buildTimeline(3, [
            { name: "requests/s", unit: "req/s", axis: "left", values: [1, 2, 3, 4] },
            { name: "lag db1→db2", unit: "ms", axis: "right", values: [5] },
        ], [{ t: 2, label: "heal" }, { t: 1, label: "kill db1" }, { t: 9, label: "late" }]);
        assert.deepEqual(t.series.map((s) => s.values), [[1, 2, 3], [5, null, null]]);
        assert.deepEqual(t.markers.map((m) => m.label), ["kill db1", "heal"]);
    });
    test("concatTimelines shifts parts, joins same series, marks part starts", () => {
        const a = buildTimeline(2, [{ name: "r", unit: "req/s", axis: "left", values: [1, 2] }], [{ t: 1, label: "fault" }]);
        const b = buildTimeline(1, [{ name: "r", unit: "req/s", axis: "left", values: [3] }, { name: "lag", unit: "ms", axis: "right", values: [9] }]);
        const c = concatTimelines([{ title: "A", timeline: a }, { title: "B", timeline: b }]);
        assert.equal(c.seconds, 3);
        assert.deepEqual(c.series.map((s) => [s.name, s.values]), [["r", [1, 2, 3]], ["lag", [null, null, 9]]]);
        assert.deepEqual(c.markers, [{ t: 0, label: "A" }, { t: 1, label: "fault" }, { t: 2, label: "B" }]);
    });
});

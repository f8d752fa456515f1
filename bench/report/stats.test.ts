import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { percentile, overallStats } from "./stats";
import { rec } from "./testing";
import { parseRecords, ackedKeys, missingAckedKeys } from "./records";

describe("percentile (nearest rank)", () => {
    const v = Array.from({ length: 100 }, (_, k) => k + 1);
    test("1..100: p50 = 50, p90 = 90, p99 = 99, p100 = 100, p0 = the smallest", () => {
        assert.deepEqual([0, 50, 90, 99, 100].map((p) => percentile(v, p)), [1, 50, 90, 99, 100]);
    });
    test("small sets", () => {
        assert.equal(percentile([7], 99), 7);
        assert.equal(percentile([1, 2], 50), 1);
        assert.equal(percentile([1, 2, 3, 4], 75), 3);
        assert.equal(percentile([1, 2, 3, 4], 76), 4);
    });
    test("empty is null; out of range throws", () => {
        assert.equal(percentile([], 50), null);
        assert.throws(() => percentile([1], 101), RangeError);
        assert.throws(() => percentile([1], Number.NaN), RangeError);
    });
});

describe("overallStats", () => {
    test("exact figures on hand-made records: latencies of ok requests only, errors by kind", () => {
        const records = [
            rec(0, 0, 10), rec(1, 100, 30), rec(2, 200, 20), rec(3, 1100, 40),
            rec(4, 1200, 500, false), rec(5, 1300, 7, false, { error: "HTTP 503", status: 503 }), rec(6, 2500, 5, false),
        ];
        const s = overallStats(records, 4);
        assert.deepEqual(s, {
            count: 7, ok: 4, errors: 3, errorsByKind: { timeout: 2, "HTTP 503": 1 },
            p50: 20, p90: 40, p99: 40, max: 40, throughput: 1, durationSec: 4,
        });
    });
    test("empty input", () => {
        assert.deepEqual(overallStats([], 0), {
            count: 0, ok: 0, errors: 0, errorsByKind: {}, p50: null, p90: null, p99: null, max: null, throughput: 0, durationSec: 0,
        });
    });
});

describe("records", () => {
    test("parse NDJSON, blank lines skipped, bad line named", () => {
        const text = `${JSON.stringify(rec(0, 0, 1))}\n\n${JSON.stringify(rec(1, 5, 2))}\n`;
        assert.deepEqual(parseRecords(text).map((r) => r.i), [0, 1]);
        assert.throws(() => parseRecords(`${JSON.stringify(rec(0, 0, 1))}\n{oops`), /line 2/);
    });
    test("acknowledged keys in schedule order, and the ones missing from a store", () => {
        const records = [
            rec(2, 20, 1, true, { key: "k2", acked: true }),
            rec(0, 0, 1, true, { key: "k0", acked: true }),
            rec(1, 10, 1, false, { key: "k1", acked: false }),
            rec(3, 30, 1),
        ];
        assert.deepEqual(ackedKeys(records), ["k0", "k2"]);
        assert.deepEqual(missingAckedKeys(records, new Set(["k0", "k1"])), ["k2"]);
    });
});

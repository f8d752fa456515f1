/** judgeRace: the verdict on a race of conflicting writes, from made-up records and rows. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { DbOpRecord } from "./dbOpDriver";
import { judgeRace, outcomeOf, RaceRows } from "./dbOutcome";

let t = 0;
function rec(op: DbOpRecord["op"], arg: string, status: number, extra: Partial<DbOpRecord> = {}): DbOpRecord {
    return { label: "app-a", op, arg, startEpochMs: t++, ms: 10, status, ok: status === 200, db: "10.0.0.1:3306", host: "app-a", ...extra };
}
const noRows: RaceRows = { counter: null, claims: [], cell: null };

describe("outcomeOf", () => {
    test("200 acked; 409, a conflict after the retry and no node reachable refused; the rest indeterminate", () => {
        assert.equal(outcomeOf(rec("incr", "c", 200)), "acked");
        assert.equal(outcomeOf(rec("claim", "v", 409, { error: "duplicate" })), "refused");
        assert.equal(outcomeOf(rec("incr", "c", 503, { error: "conflict", code: 1213 })), "refused");
        assert.equal(outcomeOf(rec("incr", "c", 503, { error: "no database reachable: 10.0.0.1:3306: non-primary", db: null })), "refused");
        assert.equal(outcomeOf(rec("incr", "c", 503, { error: "SQLSTATE[HY000]: General error: 2006 MySQL server has gone away", code: 2006 })), "indeterminate");
        assert.equal(outcomeOf(rec("incr", "c", 503, { error: "WSREP has not yet prepared node", code: 1047 })), "indeterminate");
        assert.equal(outcomeOf(rec("incr", "c", 0, { error: "timeout after 20000 ms" })), "indeterminate");
        assert.equal(outcomeOf(rec("incr", "c", 400, { error: "op must be incr, claim, cas or get" })), "invalid");
    });
});

describe("judgeRace", () => {
    test("a clean race passes: counter = acked, one winner per value and version", () => {
        const records = [
            rec("incr", "c", 200, { n: 1 }), rec("incr", "c", 503, { error: "conflict", code: 1213 }), rec("incr", "c", 200, { n: 2 }),
            rec("claim", "v-1", 200, { host: "app-a" }), rec("claim", "v-1", 409, { host: "app-b", error: "duplicate" }),
            rec("cas", "cell", 200, { expect: 0, value: "a-0", version: 1 }), rec("cas", "cell", 409, { expect: 0, value: "b-0", error: "version mismatch" }),
            rec("cas", "cell", 200, { expect: 1, value: "b-1", version: 2 }),
        ];
        const v = judgeRace(records, { counter: 2, claims: [{ value: "v-1", host: "app-a" }], cell: { value: "b-1", version: 2 } });
        assert.deepEqual(v.problems, []);
        assert.equal(v.ok, true);
        assert.equal(v.incr.acked, 2);
        assert.equal(v.incr.refused, 1);
    });

    test("a lost increment, one too many, and an indeterminate one that may have landed", () => {
        const two = [rec("incr", "c", 200), rec("incr", "c", 200)];
        assert.match(judgeRace(two, { ...noRows, counter: 1 }).problems.join(), /counter is 1, but 2 increments were acknowledged/);
        assert.match(judgeRace(two, { ...noRows, counter: 3 }).problems.join(), /expected 2\.\.2/);
        const maybe = [...two, rec("incr", "c", 503, { code: 2006, error: "gone away" })];
        assert.equal(judgeRace(maybe, { ...noRows, counter: 3 }).ok, true);
        assert.equal(judgeRace(maybe, { ...noRows, counter: 2 }).ok, true);
    });

    test("a value acknowledged twice, an acknowledged claim missing or held by the other server", () => {
        const twice = [rec("claim", "v-1", 200, { host: "app-a" }), rec("claim", "v-1", 200, { host: "app-b" })];
        assert.match(judgeRace(twice, { ...noRows, claims: [{ value: "v-1", host: "app-a" }] }).problems.join(), /acknowledged twice: v-1/);
        const one = [rec("claim", "v-2", 200, { host: "app-a" })];
        assert.match(judgeRace(one, noRows).problems.join(), /missing or held by another server: v-2/);
        assert.match(judgeRace(one, { ...noRows, claims: [{ value: "v-2", host: "app-b" }] }).problems.join(), /row: app-b/);
        assert.match(judgeRace([], { ...noRows, claims: [{ value: "v-3", host: "app-a" }] }).problems.join(), /no request accounts for: v-3/);
    });

    test("a version won by two writers; a cell that lost the newest acknowledged value", () => {
        const both = [rec("cas", "cell", 200, { expect: 0, value: "a", version: 1 }), rec("cas", "cell", 200, { expect: 0, value: "b", version: 1 })];
        assert.match(judgeRace(both, { ...noRows, cell: { value: "a", version: 1 } }).problems.join(), /won by two writers: 1/);
        const one = [rec("cas", "cell", 200, { expect: 0, value: "a", version: 1 }), rec("cas", "cell", 200, { expect: 1, value: "b", version: 2 })];
        assert.match(judgeRace(one, { ...noRows, cell: { value: "a", version: 2 } }).problems.join(), /newest acknowledged version 2 wrote "b"/);
        assert.match(judgeRace(one, { ...noRows, cell: { value: "a", version: 1 } }).problems.join(), /cas cell at version 1/);
        const later = [...one, rec("cas", "cell", 503, { expect: 2, value: "c", code: 2006 })];
        assert.equal(judgeRace(later, { ...noRows, cell: { value: "c", version: 3 } }).ok, true, "a later indeterminate write may have landed");
    });

    test("a malformed request is a problem", () => {
        assert.match(judgeRace([rec("incr", "c", 400, { error: "name must be 1..191 UTF-8 characters" })], noRows).problems.join(), /malformed/);
    });
});

import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { planOf, LoadSpec } from "./spec";
import { keyOf, pathFor, plannedAt, requestCount, routeChooser } from "./schedule";
import { acknowledged, jsonAt } from "./request";
import { AddressBook } from "./resolver";

const base: LoadSpec = { host: "www.lab.test", rate: 10, durationSec: 1, concurrency: 4, timeoutMs: 500, out: "/tmp/x.ndjson" };

describe("planOf", () => {
    test("host with weighted paths: Host header, writes known by {key}, defaults", () => {
        const p = planOf({ ...base, port: 8080, paths: [{ path: "/whoami.json?write=0", weight: 3 }, { path: "/whoami.json?write=0&key={key}&value={value}", ackJsonPath: "db.kv.id" }] }, 36 ** 3, 42);
        assert.deepEqual(p.routes.map((r) => [r.host, r.port, r.hostHeader, r.weight, r.write, r.ackJsonPath]), [
            ["www.lab.test", 8080, "www.lab.test:8080", 3, false, undefined],
            ["www.lab.test", 8080, "www.lab.test:8080", 1, true, "db.kv.id"],
        ]);
        assert.equal(p.keyPrefix, "w1000-42");
        assert.equal(p.bodyExcerptBytes, 0);
        assert.equal(p.resolveEverySec, undefined);
    });
    test("urls: one route each, Host from the URL, {key} kept as a placeholder", () => {
        const p = planOf({ ...base, host: undefined, urls: ["http://10.1.0.2/a?x=1", "http://[::1]:81/w?key={key}"] });
        assert.deepEqual(p.routes.map((r) => [r.host, r.port, r.hostHeader, r.path, r.write]), [
            ["10.1.0.2", 80, "10.1.0.2", "/a?x=1", false],
            ["::1", 81, "[::1]:81", "/w?key={key}", true],
        ]);
    });
    test("bad settings are named", () => {
        const bad: [Partial<LoadSpec>, RegExp][] = [
            [{ rate: 0 }, /rate/], [{ durationSec: -1 }, /durationSec/], [{ concurrency: 1.5 }, /concurrency/],
            [{ timeoutMs: Number.NaN }, /timeoutMs/], [{ out: "" }, /out/], [{ host: undefined }, /urls, or host/],
            [{ urls: ["http://a/"] }, /not both/], [{ paths: [{ path: "x" }] }, /start with \//],
            [{ paths: [{ path: "/", ackJsonPath: "a" }] }, /for writes/], [{ paths: [{ path: "/", weight: 0 }] }, /weight/],
            [{ bodyExcerptBytes: -1 }, /bodyExcerptBytes/], [{ resolveEverySec: 0 }, /resolveEverySec/],
        ];
        for (const [change, message] of bad) assert.throws(() => planOf({ ...base, ...change } as LoadSpec), message, JSON.stringify(change));
        assert.throws(() => planOf({ ...base, host: undefined, urls: ["ftp://a/"] }), /only http: and https:/);
        assert.throws(() => planOf({ ...base, scheme: "ftp" as "http" }), /scheme must be http or https/);
        assert.throws(() => planOf({ ...base, host: undefined, urls: ["https://a/"], scheme: "https" }), /urls carry their own/);
        assert.throws(() => planOf({ ...base, caFile: "/ca.pem" }), /caFile is for https/);
        assert.throws(() => planOf({ ...base, scheme: "https", caFile: "" }), /caFile must be a file name/);
    });
    test("https: port 443 by default, SNI = the Host header's name (none for an address), caFile kept", () => {
        const p = planOf({ ...base, host: "10.1.0.2", scheme: "https", hostHeader: "www.lab.test", caFile: "/lab/root.pem" });
        assert.deepEqual(p.routes.map((r) => [r.scheme, r.host, r.port, r.hostHeader, r.servername]), [["https", "10.1.0.2", 443, "www.lab.test", "www.lab.test"]]);
        assert.equal(p.caFile, "/lab/root.pem");
        const named = planOf({ ...base, scheme: "https", port: 8443 });
        assert.deepEqual(named.routes.map((r) => [r.port, r.hostHeader, r.servername]), [[8443, "www.lab.test:8443", "www.lab.test"]]);
        const urls = planOf({ ...base, host: undefined, urls: ["https://www.lab.test/a", "https://10.1.0.2:8443/b", "https://[::1]/c", "http://www.lab.test:443/d"] });
        assert.deepEqual(urls.routes.map((r) => [r.scheme, r.host, r.port, r.hostHeader, r.servername]), [
            ["https", "www.lab.test", 443, "www.lab.test", "www.lab.test"],
            ["https", "10.1.0.2", 8443, "10.1.0.2:8443", undefined],
            ["https", "::1", 443, "[::1]", undefined],
            ["http", "www.lab.test", 443, "www.lab.test:443", undefined],
        ]);
        assert.equal(planOf(base).routes[0]!.scheme, "http");
        assert.equal(planOf(base).caFile, undefined);
    });
});

describe("schedule", () => {
    test("count and evenly spaced start times", () => {
        assert.equal(requestCount(200, 2.5), 500);
        assert.deepEqual([0, 1, 2, 399].map((i) => plannedAt(i, 200)), [0, 5, 10, 1995]);
    });
    test("weighted round-robin: exact shares, interleaved", () => {
        const next = routeChooser([3, 1]);
        const seq = Array.from({ length: 8 }, next);
        assert.deepEqual(seq, [0, 0, 1, 0, 0, 0, 1, 0]);
        const five = routeChooser([1, 2, 2]);
        const counts = [0, 0, 0];
        for (let k = 0; k < 500; k++) counts[five()] += 1;
        assert.deepEqual(counts, [100, 200, 200]);
    });
    test("unique keys, filled in URL-encoded", () => {
        assert.equal(keyOf("run 1", 7), "run 1-7");
        const route = { scheme: "http" as const, host: "h", port: 80, hostHeader: "h", path: "/w?key={key}&value={value}", weight: 1, write: true };
        assert.equal(pathFor(route, "a&b=c"), "/w?key=a%26b%3Dc&value=a%26b%3Dc");
    });
});

describe("acknowledgement", () => {
    test("jsonAt", () => {
        assert.equal(jsonAt('{"db":{"kv":{"id":3}}}', "db.kv.id"), 3);
        assert.equal(jsonAt('{"db":{"error":"x"}}', "db.kv.id"), undefined);
        assert.equal(jsonAt("not json", "a"), undefined);
        assert.equal(jsonAt('{"a":null}', "a"), null);
        assert.equal(jsonAt('{"a":1}', "constructor"), undefined);
    });
    test("HTTP 200, and a non-null value at the path when asked", () => {
        assert.equal(acknowledged({ status: 200, body: "" }), true);
        assert.equal(acknowledged({ status: 503, body: "" }), false);
        assert.equal(acknowledged({ status: 200, body: '{"db":{"kv":{"id":1}}}' }, "db.kv.id"), true);
        assert.equal(acknowledged({ status: 200, body: '{"db":{"error":"gone"}}' }, "db.kv.id"), false);
        assert.equal(acknowledged({ status: 200, body: '{"db":{"kv":{"id":null}}}' }, "db.kv.id"), false);
    });
});

describe("AddressBook", () => {
    test("rotates through the answer, follows a withdrawal, keeps the last answer when a look-up fails", async () => {
        let answer: string[] | Error = ["10.1.0.2", "10.2.0.2"];
        let now = 0;
        const book = new AddressBook(["www.lab.test", "10.9.0.1"], () => now, async () => {
            if (answer instanceof Error) throw answer;
            return answer;
        });
        assert.throws(() => book.pick("www.lab.test"), /unresolved/);
        await book.refresh();
        assert.deepEqual([1, 2, 3].map(() => book.pick("www.lab.test")), ["10.1.0.2", "10.2.0.2", "10.1.0.2"]);
        assert.equal(book.pick("10.9.0.1"), "10.9.0.1");
        now = 5000;
        answer = ["10.2.0.2"];
        await book.refresh();
        await book.refresh();
        assert.deepEqual([1, 2].map(() => book.pick("www.lab.test")), ["10.2.0.2", "10.2.0.2"]);
        now = 6000;
        answer = Object.assign(new Error("x"), { code: "ENOTFOUND" });
        await book.refresh();
        assert.equal(book.pick("www.lab.test"), "10.2.0.2");
        assert.deepEqual(book.log, [
            { t: 0, host: "www.lab.test", addresses: ["10.1.0.2", "10.2.0.2"] },
            { t: 5000, host: "www.lab.test", addresses: ["10.2.0.2"] },
            { t: 6000, host: "www.lab.test", error: "ENOTFOUND" },
        ]);
    });
});

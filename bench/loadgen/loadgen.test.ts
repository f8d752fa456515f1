/**
 * The load generator as a process, for real, against a local server on 127.0.0.1.
 * Tolerances come from the records themselves (how late starts were), not from the machine's speed.
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { throwawayCa, startTlsTerminator } from "../../lab/testing/testTls";
import { startDemoApp, DemoApp } from "../demo/servers";
import { perSecond } from "../report/timeline";
import { runLoadgen } from "./client";
import { LoadSpec } from "./spec";

let dir: string;
before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-loadgen-")); });
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function spec(app: DemoApp, name: string, more: Partial<LoadSpec>): LoadSpec {
    return { host: "127.0.0.1", port: app.port, rate: 100, durationSec: 1, concurrency: 500, timeoutMs: 2000, out: path.join(dir, `${name}.ndjson`), ...more };
}

describe("schedule kept", () => {
    test("N = R × D requests, none early, per-second counts within what the recorded lateness allows", async () => {
        const app = await startDemoApp();
        try {
            const rate = 200;
            const { summary, records } = await runLoadgen(spec(app, "schedule", { rate, durationSec: 3, paths: [{ path: "/whoami.json?write=0" }] }));
            assert.equal(records.length, 600);
            assert.equal(summary.count, 600);
            assert.equal(summary.planned, 600);
            assert.equal(summary.ok, 600, JSON.stringify(summary.errorsByKind));
            assert.deepEqual(records.map((r) => r.i).sort((a, b) => a - b), Array.from({ length: 600 }, (_, k) => k));
            for (const r of records) {
                assert.equal(r.planned, r.i * 5);
                assert.ok(r.t >= r.planned, `request ${r.i} started early: ${r.t} < ${r.planned}`);
            }
            const late = Math.max(...records.map((r) => r.t - r.planned));
            assert.equal(summary.maxLateMs, Math.round(late * 100) / 100);
            // A start can only move into a later second by being late; at most late × rate / 1000 (+1) of them move.
            const moved = Math.ceil((late * rate) / 1000) + 1;
            const perSec = perSecond(records).requests;
            assert.ok(perSec.length <= 3 + Math.ceil(late / 1000), `${perSec}`);
            for (const c of perSec.slice(0, 3)) assert.ok(Math.abs(c - rate) <= moved, `per second ${perSec}, tolerance ${moved}`);
            const span = Math.max(...records.map((r) => r.t)) - Math.min(...records.map((r) => r.t));
            const planned = ((600 - 1) * 1000) / rate;
            assert.ok(span >= planned - late && span <= planned + late, `span ${span}, late ${late}`);
        } finally {
            await app.close();
        }
    });
});

describe("a server that stops answering", () => {
    test("shows as timeouts from the second it stalls, while requests keep starting on schedule", async () => {
        const app = await startDemoApp({ stallWindow: { fromMs: 2000 } });
        try {
            const timeoutMs = 300;
            const { summary, records } = await runLoadgen(spec(app, "stall", { rate: 50, durationSec: 4, timeoutMs, paths: [{ path: "/whoami.json?write=0" }] }));
            assert.equal(records.length, 200, "a stall does not lower the number of requests started");
            const margin = 250;
            for (const r of records.filter((x) => x.t < 2000 - margin)) assert.ok(r.ok, `before the stall: ${JSON.stringify(r)}`);
            const stalled = records.filter((x) => x.t >= 2000 + margin);
            assert.ok(stalled.length >= 70);
            for (const r of stalled) {
                assert.equal(r.ok, false);
                assert.equal(r.error, "timeout");
                assert.equal(r.status, 0);
                assert.ok(r.ms >= timeoutMs - 1, `a timeout after ${r.ms} ms`);
            }
            const s = perSecond(records, 4);
            const moved = Math.ceil((Math.max(...records.map((r) => r.t - r.planned)) * 50) / 1000) + 1;
            for (const c of s.requests) assert.ok(Math.abs(c - 50) <= moved, `per second ${s.requests}, tolerance ${moved}`);
            assert.deepEqual([s.errors[0], s.errors[3]], [0, s.requests[3]]);
            assert.equal(summary.errorsByKind.timeout, summary.errors);
        } finally {
            await app.close();
        }
    });
});

describe("concurrency cap", () => {
    test("requests due while the cap is in flight are recorded as errors, not queued or dropped", async () => {
        const app = await startDemoApp();
        app.stall();
        try {
            const { records } = await runLoadgen(spec(app, "cap", { rate: 50, durationSec: 1, concurrency: 5, timeoutMs: 1500 }));
            assert.equal(records.length, 50);
            const byError = (e: string) => records.filter((r) => r.error === e).map((r) => r.i).sort((a, b) => a - b);
            assert.deepEqual(byError("timeout"), [0, 1, 2, 3, 4]);
            assert.equal(byError("concurrency cap").length, 45);
        } finally {
            await app.close();
        }
    });
});

describe("acknowledged writes", () => {
    test("the keys recorded as acknowledged are exactly those the server stored and acknowledged", async () => {
        // Every 7th write is answered 200 with db.error and stores nothing, as the app does when its DB fails.
        const app = await startDemoApp({ failWrite: (key) => Number(key.split("-").pop()) % 7 === 0 });
        try {
            const paths = [
                { path: "/whoami.json?write=0", weight: 1 },
                { path: "/whoami.json?write=0&key={key}&value={value}", weight: 3, ackJsonPath: "db.kv.id" },
            ];
            const { summary, records } = await runLoadgen(spec(app, "writes", { rate: 200, durationSec: 1, paths, keyPrefix: "t1", bodyExcerptBytes: 40 }));
            const writes = records.filter((r) => r.key !== undefined);
            assert.equal(writes.length, 150);
            assert.equal(new Set(writes.map((r) => r.key)).size, 150, "keys are unique");
            const acked = new Set(writes.filter((r) => r.acked).map((r) => r.key));
            assert.deepEqual([...acked].sort(), [...app.acked].sort());
            assert.deepEqual([...app.stored.keys()].sort(), [...app.acked].sort());
            assert.equal(summary.acked, acked.size);
            const refused = writes.filter((r) => !r.acked);
            assert.ok(refused.length > 0);
            for (const r of refused) assert.deepEqual([r.status, r.ok, r.error], [200, false, "not acknowledged"]);
            assert.ok(records.every((r) => r.body !== undefined && r.body.length <= 40 && r.body.startsWith("{")));
        } finally {
            await app.close();
        }
    });
});

describe("names through the system resolver", () => {
    test("localhost resolved at the start and every 0.5 s; requests go to its address", async () => {
        const app = await startDemoApp();
        try {
            const { summary, records } = await runLoadgen(spec(app, "dns", { host: "localhost", rate: 20, durationSec: 1.5, resolveEverySec: 0.5 }));
            assert.equal(summary.ok, 30);
            assert.deepEqual(summary.resolutions.map((r) => [r.host, r.addresses?.includes("127.0.0.1")]), [["localhost", true]]);
            assert.ok(records.every((r) => r.target === `127.0.0.1:${app.port}`));
        } finally {
            await app.close();
        }
    });
    test("a bad spec exits with the setting named", async () => {
        await assert.rejects(runLoadgen({ host: "127.0.0.1", rate: 0, durationSec: 1, concurrency: 1, timeoutMs: 1, out: path.join(dir, "bad") }), /rate must be a positive number/);
    });
});

describe("https targets", () => {
    const SITE = "www.dns-rr-ha.test";
    const writes = [{ path: "/whoami.json?write=0&key={key}&value={value}", ackJsonPath: "db.kv.id" }];

    /** The demo app behind a TLS terminator with a certificate for SITE from a throwaway CA, as the LB is. */
    async function behindTls(run: (t: { app: DemoApp; port: number; handshakes: string[]; caFile: string; otherCaFile: string }) => Promise<void>): Promise<void> {
        const ca = throwawayCa(dir, "site-ca", SITE);
        const other = throwawayCa(dir, "other-ca", SITE);
        const app = await startDemoApp();
        const tls = await startTlsTerminator(app.port, ca.server);
        try {
            await run({ app, port: tls.port, handshakes: tls.handshakes, caFile: ca.caFile, otherCaFile: other.caFile });
        } finally {
            await tls.close();
            await app.close();
        }
    }

    test("verified against caFile with SNI = the Host header's name; writes acknowledged; connections kept alive", async () => {
        await behindTls(async ({ app, port, handshakes, caFile }) => {
            const { summary, records } = await runLoadgen(spec(app, "https", { port, scheme: "https", caFile, hostHeader: SITE, paths: writes, rate: 100, durationSec: 1 }));
            assert.equal(summary.ok, 100, JSON.stringify(summary.errorsByKind));
            assert.equal(summary.acked, 100);
            assert.deepEqual([...app.acked].sort(), records.map((r) => r.key!).sort());
            assert.ok(records.every((r) => r.target === `127.0.0.1:${port}`));
            assert.ok(handshakes.length >= 1 && handshakes.every((n) => n === SITE), `SNI sent: ${JSON.stringify(handshakes)}`);
            assert.ok(handshakes.length < records.length / 2, `${handshakes.length} handshakes for ${records.length} requests: keep-alive reuses connections`);
        });
    });

    test("a certificate from another CA fails every request, and nothing reaches the app", async () => {
        await behindTls(async ({ app, port, otherCaFile }) => {
            const { summary, records } = await runLoadgen(spec(app, "https-wrong-ca", { port, scheme: "https", caFile: otherCaFile, hostHeader: SITE, paths: writes, rate: 50, durationSec: 0.4 }));
            assert.equal(records.length, 20);
            assert.equal(summary.ok, 0);
            assert.deepEqual(Object.keys(summary.errorsByKind), ["UNABLE_TO_VERIFY_LEAF_SIGNATURE"]);
            assert.ok(records.every((r) => r.status === 0 && r.acked === false));
            assert.equal(app.stored.size, 0, "no request got past the handshake");
        });
    });

    test("without caFile Node's own roots apply, which do not hold the throwaway CA", async () => {
        await behindTls(async ({ app, port }) => {
            const { summary } = await runLoadgen(spec(app, "https-no-ca", { port, scheme: "https", hostHeader: SITE, rate: 20, durationSec: 0.5 }));
            assert.equal(summary.ok, 0);
            assert.equal(summary.errors, 10);
        });
    });

    test("the right CA but another name in the Host header: refused as a name mismatch", async () => {
        await behindTls(async ({ app, port, handshakes, caFile }) => {
            const { summary } = await runLoadgen(spec(app, "https-wrong-name", { port, scheme: "https", caFile, hostHeader: "other.dns-rr-ha.test", rate: 20, durationSec: 0.5 }));
            assert.equal(summary.ok, 0);
            assert.deepEqual(Object.keys(summary.errorsByKind), ["ERR_TLS_CERT_ALTNAME_INVALID"]);
            assert.ok(handshakes.every((n) => n === "other.dns-rr-ha.test"));
        });
    });

    test("plain http to a TLS port fails; a caFile that cannot be read stops the run with its name", async () => {
        await behindTls(async ({ app, port }) => {
            const { summary } = await runLoadgen(spec(app, "http-to-tls", { port, rate: 20, durationSec: 0.5, timeoutMs: 1000 }));
            assert.equal(summary.ok, 0);
            await assert.rejects(runLoadgen(spec(app, "https-missing-ca", { port, scheme: "https", caFile: path.join(dir, "missing.pem"), rate: 1, durationSec: 1 })), /caFile .*missing\.pem/);
        });
    });
});

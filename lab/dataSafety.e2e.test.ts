/**
 * Nothing lost under faults (issue 5), short versions of `npm run bench`'s lab scenarios: each
 * fails when an acknowledged write, a session or replication is lost. Figures print as "lab-figure:".
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LabState } from "./labState";
import { figure, labDownAndCheck, labUp } from "./testing/e2eSupport";
import { runLoadgen } from "../bench/loadgen/client";
import { BenchContext } from "../bench/scenario";
import { commitLatency, lbCost, masterKill, memcachedKill, partitionHeal, steadyLag, uploads } from "../bench/lab/dataScenarios";

describe("nothing lost under faults, in the lab", { timeout: 1_800_000 }, () => {
    let state: LabState;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drr-data-"));
    const ctx: BenchContext = {
        durationSec: 10, rate: 20, concurrency: 64, timeoutMs: 10_000,
        log: (line) => process.stdout.write(`# ${line}\n`),
        load: (name, spec, wrap) => runLoadgen({ ...spec, out: path.join(dir, `${name}.ndjson`) }, wrap),
    };

    before(() => {
        state = labUp();
    });

    after(() => {
        fs.rmSync(dir, { recursive: true, force: true });
        labDownAndCheck();
    });

    test("semisync: a MariaDB master SIGKILLed under writes loses no acknowledged write; it catches up by itself", async () => {
        const { facts } = await masterKill(ctx, state, "semisync", 12, 4);
        figure(`semisync master kill: ${facts.acked} writes acknowledged, ${facts.lostOnSurvivor} missing on the survivor, ${facts.missingAfterCatchUp} missing after catch-up (${facts.catchUpMs} ms to healthy), ${facts.failed} writes failed during the failover, checksums ${facts.checksumsMatch ? "equal" : "DIFFER"}`);
        assert.ok(facts.acked > 50, `only ${facts.acked} writes acknowledged`);
        assert.equal(facts.lostOnSurvivor, 0, "acknowledged writes missing on the surviving master");
        assert.equal(facts.missingAfterCatchUp, 0);
        assert.ok(facts.checksumsMatch, "CHECKSUM TABLE differs after catch-up");
    });

    test("async: the same kill, acknowledged writes missing on the survivor counted; all back after catch-up", async () => {
        const { facts } = await masterKill(ctx, state, "async", 12, 4);
        figure(`async master kill: ${facts.acked} writes acknowledged, ${facts.lostOnSurvivor} missing on the survivor while the master was down, ${facts.missingAfterCatchUp} missing after it came back (${facts.catchUpMs} ms), checksums ${facts.checksumsMatch ? "equal" : "DIFFER"}`);
        assert.equal(facts.missingAfterCatchUp, 0, "the killed master keeps what it acknowledged (sync_binlog=1, innodb_flush_log_at_trx_commit=1) and ships it on return");
        assert.ok(facts.checksumsMatch);
    });

    test("a 10 s partition under writes: replication resumes by itself, no replication error, checksums match", async () => {
        const { facts } = await partitionHeal(ctx, state, 10);
        figure(`partition 10 s under writes: ${facts.acked} writes acknowledged, replication healthy ${facts.resumeMs} ms after heal, ${facts.replicationErrors.length} replication errors, ${facts.missingAfterHeal} acknowledged writes missing, checksums ${facts.checksumsMatch ? "equal" : "DIFFER"}`);
        assert.deepEqual(facts.replicationErrors, []);
        assert.equal(facts.missingAfterHeal, 0);
        assert.ok(facts.checksumsMatch);
    });

    test("what semisync costs a commit, side by side with async", async () => {
        const { facts } = await commitLatency(ctx, state, 30);
        figure(`commit latency (${facts.commits} autocommit INSERTs from one session): semisync ${facts.semisyncMs.toFixed(1)} ms, async ${facts.asyncMs.toFixed(1)} ms, cost ${(facts.semisyncMs - facts.asyncMs).toFixed(1)} ms (one inter-region round trip is ~80 ms here)`);
        assert.ok(facts.semisyncMs > facts.asyncMs + 40, "each semisync commit waits for the other region's acknowledgement");
    });

    test("replication lag under steady writes, from the heartbeat rows", async () => {
        const { facts } = await steadyLag(ctx, state, 10);
        figure(`replication lag under ${ctx.rate} writes/s, 40 ms one way: p50 ${facts.p50?.toFixed(0)} ms, p99 ${facts.p99?.toFixed(0)} ms (${facts.samples} heartbeats, each timed when first seen on a peer; polled every 50 ms)`);
        assert.ok(facts.samples >= 10);
        assert.ok((facts.p99 ?? Infinity) < 5000, `p99 lag ${facts.p99} ms`);
    });

    test("a memcached node SIGKILLed under live sessions: 0 sessions lost", async () => {
        const { facts } = await memcachedKill(ctx, state, 4, 10);
        figure(`memcached killed under ${facts.sessions} sessions x ${facts.requests / facts.sessions} views: ${facts.lost} sessions lost, ${facts.failedRequests} page views failed`);
        assert.equal(facts.failedRequests, 0);
        assert.equal(facts.lost, 0, `counter sequences of the lost sessions: ${JSON.stringify(facts.lostSequences)}`);
    });

    test("uploads reach every app server within a bound; a server down during an upload gets it after it returns", async () => {
        const { facts } = await uploads(ctx, state);
        figure(`uploads: on every other app server after ${facts.propagationMs} ms (${Object.entries(facts.perServerMs).map(([h, ms]) => `${h} ${ms} ms`).join(", ")}); a server blackholed during the upload had it ${facts.afterReturnMs} ms after its return`);
        assert.ok(facts.propagationMs <= 10_000, `propagation ${facts.propagationMs} ms; bound 10 s`);
        assert.ok(facts.afterReturnMs <= 120_000, `after return ${facts.afterReturnMs} ms; bound 120 s`);
    });

    test("what HAProxy costs: /healthz through the LB (HTTPS, TLS terminated there) and straight to an app server (HTTP), side by side", async () => {
        const { outcome, ratio, capacity } = await lbCost({ ...ctx, rate: 100 }, state, 5);
        const [via, direct] = outcome.report.loads;
        figure(`LB cost at 100 req/s each: through HAProxy over verified HTTPS p50 ${via!.stats.p50?.toFixed(2)} ms p99 ${via!.stats.p99?.toFixed(2)} ms, ${via!.stats.throughput?.toFixed(0)} ok req/s; direct (plain HTTP) p50 ${direct!.stats.p50?.toFixed(2)} ms p99 ${direct!.stats.p99?.toFixed(2)} ms, ${direct!.stats.throughput?.toFixed(0)} ok req/s; ratios p50 ${ratio.p50?.toFixed(2)} p99 ${ratio.p99?.toFixed(2)} throughput ${ratio.throughput?.toFixed(2)}; capacity (wrk, both at once) ${capacity.via?.toFixed(0)} vs ${capacity.direct?.toFixed(0)} req/s, ratio ${ratio.capacity?.toFixed(2)}`);
        assert.ok(capacity.via !== null && capacity.direct !== null, "wrk measured both sides");
        assert.equal(via!.stats.errors, 0);
        assert.equal(direct!.stats.errors, 0);
    });
});

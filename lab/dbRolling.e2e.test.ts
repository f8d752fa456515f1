/**
 * A config change that restarts MariaDB, applied under load the way `pulumi up` applies it: the
 * DB wirings run one after the other (components/db/databaseCluster.ts chains them), each
 * `dns-rr-ha-wire-db` restarting its node only while the cluster is complete and returning once
 * the node is Synced again. Writes go through both entry points all along; a sampler asks every
 * node's state every 200 ms. And the refusal: with a member missing, the wiring does not restart
 * a node for its new config.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LabState, readLabState } from "./labState";
import { figure, labDownAndCheck, labUp } from "./testing/e2eSupport";
import { inHost, inHostAsync } from "./testing/labClient";
import { dbHealthAsync, dbNodes, sampleHealth, sql, waitClusterHealthy, WIRE_DB } from "./testing/dbCluster";
import { runLoadgen } from "../bench/loadgen/client";
import { BenchContext } from "../bench/scenario";
import { writeThroughEntryPoints } from "../bench/lab/writeLoad";
import { keysPresent } from "../bench/lab/labDb";
import { ackedKeys, missingAckedKeys } from "../bench/report/records";

const CNF = "/etc/dns-rr-ha/db/my.cnf";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A max_connections value no node runs now (each run of the file changes the config again). */
function nextMaxConnections(state: LabState): string {
    return String(Math.max(...dbNodes(state).map((d) => Number(sql(state, d.name, "SELECT @@max_connections")[0]))) + 1);
}

/** The server's uptime in seconds (it restarts: it drops). */
function uptime(state: LabState, host: string): number {
    return Number(sql(state, host, "SHOW GLOBAL STATUS LIKE 'Uptime'")[0]!.split("\t")[1]);
}

describe("a MariaDB config change rolls through the regions under load", { timeout: 1_200_000 }, () => {
    let state: LabState;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drr-rolling-"));
    const ctx: BenchContext = {
        durationSec: 10, rate: 10, concurrency: 64, timeoutMs: 10_000,
        log: (line) => process.stdout.write(`# ${line}\n`),
        load: (name, spec, wrap) => runLoadgen({ ...spec, out: path.join(dir, `${name}.ndjson`) }, wrap),
    };

    // LAB_E2E_REUSE=1: run on the lab that is up (none is brought up or taken down).
    const reuse = process.env.LAB_E2E_REUSE === "1";
    before(async () => {
        state = reuse ? readLabState()! : labUp();
        assert.ok(state, "LAB_E2E_REUSE=1 needs a lab that is up");
        await waitClusterHealthy(state, 120_000);
    });

    after(() => {
        fs.rmSync(dir, { recursive: true, force: true });
        if (!reuse) labDownAndCheck();
    });

    test("one node at a time, each back Synced before the next; no write fails or is lost; the cluster always serves", async () => {
        const nodes = dbNodes(state).map((h) => h.name);
        assert.equal(nodes.length, 2);
        const sampler = sampleHealth(state, nodes, 200);
        const load = writeThroughEntryPoints(ctx, state, "rolling", 10, 45);
        await sleep(5_000);
        const restarts: { node: string; ms: number; before: number; after: number }[] = [];
        const value = nextMaxConnections(state);
        for (const node of nodes) {
            // The new config, as the next `pulumi up`'s wiring writes it; then the wiring command.
            const before = uptime(state, node);
            const edit = inHost(state, node, `sed -i 's/^max_connections = .*/max_connections = ${value}/' ${CNF} && grep -q '^max_connections = ${value}$' ${CNF}`);
            assert.equal(edit.code, 0, edit.out);
            const t0 = Date.now();
            const wire = await inHostAsync(state, node, WIRE_DB, 600_000);
            const ms = Date.now() - t0;
            assert.equal(wire.code, 0, wire.out);
            assert.match(wire.out, /restarting mariadb \(config changed; cluster complete: 3 members\)/);
            assert.match(wire.out, /Synced: 3 of 3 members/);
            restarts.push({ node, ms, before, after: uptime(state, node) });
            assert.equal(sql(state, node, "SELECT @@max_connections")[0], value, `${node} runs the new config`);
        }
        const w = await load;
        const all = await sampler.stop();
        // The sampler pushes one round (every node, asked at once) at a time.
        const rounds = Array.from({ length: Math.floor(all.length / nodes.length) }, (_, i) => all.slice(i * nodes.length, (i + 1) * nodes.length));
        const samples = rounds.map((r) => ({ t: r[0]!.epochMs, serving: r.filter((s) => s.health.serving).map((s) => s.host), servesApp: r.filter((s) => s.health.fallback).map((s) => s.host), states: r.map((s) => `${s.host} ${s.health.state}/${s.health.clusterStatus}`) }));

        for (const r of restarts) assert.ok(r.after < r.before, `${r.node} was restarted (uptime ${r.before} s -> ${r.after} s)`);
        // The node that stays is the restarted one's IST donor for a moment (Donor/Desynced): the app
        // falls back to it, so "some node takes the app's queries" counts a donor.
        const neverBoth = samples.filter((s) => s.servesApp.length === 0);
        assert.deepEqual(neverBoth, [], "some node took the app's queries at every sample");
        const outOfService = nodes.map((n) => samples.filter((s) => !s.serving.includes(n)).length);
        assert.ok(outOfService.every((c) => c > 0), `each node was out of service for a moment (samples: ${outOfService.join(", ")})`);

        const failed = w.records.filter((r) => !r.ok);
        const acked = ackedKeys(w.records);
        const missing = nodes.map((n) => missingAckedKeys(w.records, keysPresent(state, n, w.prefix)).length);
        figure(`rolling restart of ${nodes.length} DB nodes under ${w.records.length} writes through both entry points: ${restarts.map((r) => `${r.node} ${(r.ms / 1000).toFixed(1)} s`).join(", ")}; ${failed.length} writes failed, ${acked.length} acknowledged, missing per node ${missing.join("/")}; node out of service in ${outOfService.join("/")} of ${samples.length} samples, never both`);
        assert.equal(failed.length, 0, `failed writes: ${failed.slice(0, 5).map((r) => `${r.error} ${r.target}`).join("; ")}`);
        assert.deepEqual(missing, nodes.map(() => 0), "no acknowledged write is missing on any node");
        const sums = nodes.map((n) => sql(state, n, "CHECKSUM TABLE app.kv EXTENDED").join());
        assert.equal(new Set(sums).size, 1, `checksums: ${sums.join(" | ")}`);
    });

    test("with a member missing, the wiring refuses to restart a node for a new config, and leaves it serving", async () => {
        const [first, second] = dbNodes(state).map((h) => h.name) as [string, string];
        const value = nextMaxConnections(state);
        const stop = inHost(state, second, "systemctl stop mariadb");
        assert.equal(stop.code, 0, stop.out);
        try {
            const deadline = Date.now() + 30_000;
            while ((await dbHealthAsync(state, first)).clusterSize !== 2) {
                assert.ok(Date.now() < deadline, "the first node never saw the second leave");
                await sleep(250);
            }
            const before = uptime(state, first);
            assert.equal(inHost(state, first, `sed -i 's/^max_connections = .*/max_connections = ${value}/' ${CNF}`).code, 0);
            const wire = inHost(state, first, WIRE_DB);
            assert.notEqual(wire.code, 0, "the wiring must fail: restarting now would leave no data node serving");
            assert.match(wire.out, /not restarting mariadb for its new config: the cluster has 2 of 3 members/);
            assert.ok(uptime(state, first) >= before, "not restarted");
            assert.ok((await dbHealthAsync(state, first)).serving, "still serving with the arbitrator");
        } finally {
            assert.equal(inHost(state, second, "systemctl start mariadb").code, 0);
        }
        const deadline = Date.now() + 60_000;
        while (!(await dbHealthAsync(state, second)).serving) {
            assert.ok(Date.now() < deadline, `${second} did not rejoin`);
            await sleep(250);
        }
        // Now complete: the same wiring applies the change.
        const wire = await inHostAsync(state, first, WIRE_DB, 600_000);
        assert.equal(wire.code, 0, wire.out);
        assert.equal(sql(state, first, "SELECT @@max_connections")[0], value);
    });
});

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
import { LabState } from "./labState";
import { figure, labDownAndCheck, labUp } from "./testing/e2eSupport";
import { execFile } from "child_process";
import { inHost } from "./testing/labClient";
import { runLoadgen } from "../bench/loadgen/client";
import { BenchContext } from "../bench/scenario";
import { writeThroughEntryPoints } from "../bench/lab/writeLoad";
import { dbNodes, keysPresent, sql } from "../bench/lab/labDb";
import { ackedKeys, missingAckedKeys } from "../bench/report/records";

const CNF = "/etc/dns-rr-ha/db/my.cnf";
const WIRE = "/usr/local/sbin/dns-rr-ha-wire-db";

/** {@link inHost} without blocking this process: the sampler and the load run meanwhile. */
function inHostAsync(state: LabState, host: string, cmd: string, timeoutMs = 600_000): Promise<{ code: number; out: string }> {
    const h = state.hosts.find((x) => x.name === host);
    if (!h) throw new Error(`no host ${host}`);
    return new Promise((resolve) => {
        execFile("nsenter", ["--target", String(h.leaderPid), "--mount", "--uts", "--ipc", "--net", "--pid", "--", "sh", "-c", cmd], { encoding: "utf8", timeout: timeoutMs },
            (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, out: `${stdout}${stderr}` }));
    });
}

/** The node's state as the health script reports it ("down" when it does not answer). */
async function nodeState(state: LabState, host: string): Promise<{ serving: boolean; size: number; state: string }> {
    const r = await inHostAsync(state, host, "/usr/local/sbin/dns-rr-ha-db-health", 10_000);
    try {
        const j = JSON.parse(r.out) as { state: string; cluster_status: string; ready: boolean; cluster_size: number | null };
        return { serving: j.cluster_status === "Primary" && j.state === "Synced" && j.ready, size: j.cluster_size ?? 0, state: `${j.state}/${j.cluster_status}` };
    } catch {
        return { serving: false, size: 0, state: "down" };
    }
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

    before(() => {
        state = labUp();
    });

    after(() => {
        fs.rmSync(dir, { recursive: true, force: true });
        labDownAndCheck();
    });

    test("one node at a time, each back Synced before the next; no write fails or is lost; the cluster always serves", async () => {
        const nodes = dbNodes(state).map((h) => h.name);
        assert.equal(nodes.length, 2);
        const samples: { t: number; serving: string[]; states: string[] }[] = [];
        let sampling = true;
        const started = Date.now();
        const sampler = (async () => {
            while (sampling) {
                const s = await Promise.all(nodes.map((n) => nodeState(state, n)));
                samples.push({ t: Date.now() - started, serving: nodes.filter((_, i) => s[i]!.serving), states: s.map((x) => x.state) });
                await new Promise((r) => setTimeout(r, 200));
            }
        })();
        const load = writeThroughEntryPoints(ctx, state, "rolling", 10, 45);
        await new Promise((r) => setTimeout(r, 5_000));
        const restarts: { node: string; ms: number; before: number; after: number }[] = [];
        for (const node of nodes) {
            // The new config, as the next `pulumi up`'s wiring writes it; then the wiring command.
            const before = uptime(state, node);
            const edit = inHost(state, node, `sed -i 's/^max_connections = .*/max_connections = 201/' ${CNF} && grep -q '^max_connections = 201' ${CNF}`);
            assert.equal(edit.code, 0, edit.out);
            const t0 = Date.now();
            const wire = await inHostAsync(state, node, WIRE);
            const ms = Date.now() - t0;
            assert.equal(wire.code, 0, wire.out);
            assert.match(wire.out, /restarting mariadb \(config changed; cluster complete: 3 members\)/);
            assert.match(wire.out, /Synced: 3 of 3 members/);
            restarts.push({ node, ms, before, after: uptime(state, node) });
            assert.equal(sql(state, node, "SELECT @@max_connections")[0], "201", `${node} runs the new config`);
        }
        const w = await load;
        sampling = false;
        await sampler;

        for (const r of restarts) assert.ok(r.after < r.before, `${r.node} was restarted (uptime ${r.before} s -> ${r.after} s)`);
        const neverBoth = samples.filter((s) => s.serving.length === 0);
        assert.deepEqual(neverBoth, [], "some node served at every sample");
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
        const stop = inHost(state, second, "systemctl stop mariadb");
        assert.equal(stop.code, 0, stop.out);
        try {
            const deadline = Date.now() + 30_000;
            while ((await nodeState(state, first)).size !== 2) {
                assert.ok(Date.now() < deadline, "the first node never saw the second leave");
            }
            const before = uptime(state, first);
            assert.equal(inHost(state, first, `sed -i 's/^max_connections = .*/max_connections = 202/' ${CNF}`).code, 0);
            const wire = inHost(state, first, WIRE);
            assert.notEqual(wire.code, 0, "the wiring must fail: restarting now would leave no data node serving");
            assert.match(wire.out, /not restarting mariadb for its new config: the cluster has 2 of 3 members/);
            assert.ok(uptime(state, first) >= before, "not restarted");
            assert.ok((await nodeState(state, first)).serving, "still serving with the arbitrator");
        } finally {
            assert.equal(inHost(state, second, "systemctl start mariadb").code, 0);
        }
        const deadline = Date.now() + 60_000;
        while (!(await nodeState(state, second)).serving) assert.ok(Date.now() < deadline, `${second} did not rejoin`);
        // Now complete: the same wiring applies the change.
        const wire = await inHostAsync(state, first, WIRE);
        assert.equal(wire.code, 0, wire.out);
        assert.equal(sql(state, first, "SELECT @@max_connections")[0], "202");
    });
});

/**
 * The lab's data-safety scenarios (issue 5), each a function returning its report, its part of the
 * timeline and the facts a test asserts on: acknowledged writes lost when a Galera node dies or a
 * region is cut off, what a commit costs, apply lag under load, sessions when memcached dies, uploads,
 * and what the LB hop costs.
 */
import { spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LabState } from "../../lab/labState";
import { LAB_PREFIX } from "../../lab/labPaths";
import { blackhole, openFabric, unblackhole } from "../../lab/net";
import { firstSample, runDbOpsFrom, sampleHealth } from "../../lab/testing/dbCluster";
import { shellQuote } from "../../components/wiring/wiringScript";
import { inHost } from "../../lab/testing/labClient";
import { sideBySide } from "../figures";
import { ackedKeys, missingAckedKeys, RequestRecord } from "../report/records";
import { applyFault, healLab, sigkillMainPids } from "../../lab/faultCommand";
import { overallStats, percentile } from "../report/stats";
import { buildTimeline, loadSeries, Marker, Series } from "../report/timeline";
import { BenchContext, ScenarioOutcome } from "../scenario";
import { dbNodes, keysPresent, sql, waitChecksumsEqual, waitClusterHealthy } from "./labDb";
import { siteThrough, writeThroughEntryPoints } from "./writeLoad";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The database the bench's own probe tables live in (not the app's: its checksums stay the app's). */
const BENCH_DB = "dns_rr_ha_bench";

function ensureBenchTables(state: LabState): void {
    sql(state, dbNodes(state)[0]!.name, [
        `CREATE DATABASE IF NOT EXISTS ${BENCH_DB}`,
        `CREATE TABLE IF NOT EXISTS ${BENCH_DB}.apply_lag (id BIGINT AUTO_INCREMENT PRIMARY KEY, run VARCHAR(32) NOT NULL, origin VARCHAR(64) NOT NULL, at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), KEY run_origin (run, origin, id)) ENGINE=InnoDB`,
        `CREATE TABLE IF NOT EXISTS ${BENCH_DB}.commit_probe (id BIGINT AUTO_INCREMENT PRIMARY KEY, at TIMESTAMP(6) NOT NULL) ENGINE=InnoDB`,
    ].join("; "));
}

/**
 * A long-lived mariadb client session on a DB node fed `script` on stdin; every output line goes
 * to `onLine`. `stop()` ends it (the whole process group: nsenter forks the client).
 */
function sqlSession(state: LabState, host: string, script: string, onLine: (line: string) => void): { done: Promise<void>; stop(): void } {
    const d = state.hosts.find((h) => h.name === host)!;
    const p = spawn("nsenter", ["--target", String(d.leaderPid), "--mount", "--uts", "--ipc", "--net", "--pid", "--", "mariadb", "--batch", "--skip-column-names", "--unbuffered"], { stdio: ["pipe", "pipe", "ignore"], detached: true });
    p.stdin.on("error", () => undefined);
    p.stdin.end(script);
    let rest = "";
    p.stdout.on("data", (c: Buffer) => {
        const lines = (rest + c.toString()).split("\n");
        rest = lines.pop() ?? "";
        for (const l of lines) if (l !== "") onLine(l);
    });
    const done = new Promise<void>((resolve) => p.on("close", () => resolve()));
    return {
        done,
        stop: () => {
            try {
                process.kill(-p.pid!, "SIGTERM");
            } catch {
                // Already gone.
            }
        },
    };
}

/**
 * Apply lag, Galera's "replication lag": how long after a commit returned on one node its row is
 * visible to a read on another (reads are local and do not wait: wsrep_sync_wait = 0). On each
 * node one session commits a marker row every 100 ms and reads the server's clock right after
 * the commit returned; on every other node one session polls every 10 ms for those markers and
 * notes when each is first seen. Lag = first seen - commit returned (the lab's containers share
 * one clock); it can be negative: the peer applies the write-set while the committer still waits
 * for its own turn in the total order. Per second: the largest lag of the markers committed then.
 */
async function sampleApplyLag(state: LabState, started: number, stop: Promise<unknown>): Promise<{ series: Record<string, (number | null)[]>; lags: number[]; byPair: Record<string, number[]> }> {
    ensureBenchTables(state);
    const run = `r${Date.now().toString(36)}`;
    const nodes = dbNodes(state);
    const rounds = 10 * 600;
    const series: Record<string, (number | null)[]> = {};
    const byPair: Record<string, number[]> = {};
    const committed = new Map<string, number>();
    const seen = new Map<string, number>();
    const sessions: { done: Promise<void>; stop(): void }[] = [];
    const record = (pair: string, id: string) => {
        const c = committed.get(id);
        const v = seen.get(`${pair}|${id}`);
        if (c === undefined || v === undefined) return;
        const ms = v - c;
        (byPair[pair] ??= []).push(ms);
        const second = Math.floor((c - started) / 1000);
        const values = (series[`apply lag ${pair}`] ??= []);
        if (second >= 0) values[second] = Math.max(values[second] ?? -Infinity, ms);
    };
    for (const a of nodes) {
        const insert = `INSERT INTO ${BENCH_DB}.apply_lag (run, origin) VALUES ('${run}', '${a.name}'); SELECT LAST_INSERT_ID(), UNIX_TIMESTAMP(NOW(6)); DO SLEEP(0.1);\n`;
        sessions.push(sqlSession(state, a.name, insert.repeat(rounds), (line) => {
            const [id, ts] = line.split("\t");
            if (!id || !ts) return;
            committed.set(id, Number(ts) * 1000);
            for (const b of nodes) if (b !== a) record(`${a.name}→${b.name}`, id);
        }));
        for (const b of nodes.filter((x) => x !== a)) {
            const pair = `${a.name}→${b.name}`;
            const poll = `SELECT id, UNIX_TIMESTAMP(NOW(6)) FROM ${BENCH_DB}.apply_lag WHERE run = '${run}' AND origin = '${a.name}' ORDER BY id DESC LIMIT 5; DO SLEEP(0.01);\n`;
            sessions.push(sqlSession(state, b.name, poll.repeat(rounds * 10), (line) => {
                const [id, ts] = line.split("\t");
                if (!id || !ts || seen.has(`${pair}|${id}`)) return;
                seen.set(`${pair}|${id}`, Number(ts) * 1000);
                record(pair, id);
            }));
        }
    }
    await stop.catch(() => undefined);
    for (const s of sessions) s.stop();
    await Promise.all(sessions.map((s) => s.done));
    const lags = Object.values(byPair).flat().sort((x, y) => x - y);
    for (const v of Object.values(byPair)) v.sort((x, y) => x - y);
    return { series, lags, byPair };
}

function lagSeries(lag: Record<string, (number | null)[]>, seconds: number): Series[] {
    return Object.entries(lag).map(([name, values]) => ({ name, unit: "ms", axis: "right", values: Array.from({ length: seconds }, (_, i) => values[i] ?? null) }));
}

/** Acknowledged writes missing, summed over every DB node. */
function missingOnAnyNode(state: LabState, records: readonly RequestRecord[], prefix: string): number {
    return dbNodes(state).reduce((n, d) => n + missingAckedKeys(records, keysPresent(state, d.name, prefix)).length, 0);
}

/** The longest time, ms, between two consecutive acknowledgements after `afterMs` (load-relative). */
function longestAckGap(records: readonly RequestRecord[], afterMs: number): number {
    const acks = records.filter((r) => r.acked).map((r) => r.t + r.ms).filter((t) => t >= afterMs).sort((a, b) => a - b);
    let gap = acks.length > 0 ? acks[0]! - afterMs : 0;
    for (let i = 1; i < acks.length; i++) gap = Math.max(gap, acks[i]! - acks[i - 1]!);
    return Math.round(gap);
}

/** The region cut off from the others (the first entry point's), the rest, and the witness's. */
function regionsOf(state: LabState): { first: string; others: string[] } {
    const all = [...new Set([...state.entryPoints.map((e) => e.region), ...state.hosts.filter((h) => h.role === "witness").map((h) => h.region)])];
    return { first: state.entryPoints[0]!.region, others: all.filter((r) => r !== state.entryPoints[0]!.region) };
}

export interface NodeKillFacts {
    readonly acked: number;
    readonly failed: number;
    /** Acknowledged writes not on the surviving node while the killed one was down. */
    readonly lostOnSurvivor: number;
    /** Acknowledged writes missing on any node after the killed one came back and rejoined. */
    readonly missingAfterCatchUp: number;
    /** The longest time without an acknowledged write after the kill (the suspect timeout). */
    readonly stallMs: number;
    /** Restart to every node Synced in a complete cluster. */
    readonly catchUpMs: number;
    readonly checksumsMatch: boolean;
}

/**
 * Writes through both regions; SIGKILLs the first region's MariaDB mid-stream and keeps it down
 * (as a dead host would be), counts the acknowledged writes the survivor lacks, then restarts it
 * and checks it rejoins by itself (IST) and every table checksum matches.
 */
export async function dbNodeKill(ctx: BenchContext, state: LabState, durationSec: number, killAtSec: number): Promise<{ outcome: ScenarioOutcome; facts: NodeKillFacts }> {
    const [victim, survivor] = [state.entryPoints[0]!.region, state.entryPoints[1]!.region].map((r) => dbNodes(state).find((d) => d.region === r)!);
    try {
        await waitClusterHealthy(state, 60_000);
        const started = Date.now();
        const load = writeThroughEntryPoints(ctx, state, "kill", ctx.rate, durationSec);
        const lag = sampleApplyLag(state, started, load);
        await sleep(killAtSec * 1000);
        const killAt = (Date.now() - started) / 1000;
        ctx.log(`SIGKILL on ${victim!.name} at ${killAt.toFixed(1)} s: ${sigkillMainPids(state, victim!.name, ["mariadb.service"], true)}`);
        const writes = await load;
        const lagValues = await lag;
        const acked = ackedKeys(writes.records);
        // Galera: an acknowledged write is on every member of the primary component already; allow its apply.
        await sleep(1000);
        const lostOnSurvivor = missingAckedKeys(writes.records, keysPresent(state, survivor!.name, writes.prefix)).length;
        // `systemctl start` returns once the node has rejoined (IST) and told systemd it is ready.
        const restartEpoch = Date.now();
        const restartedAt = (restartEpoch - started) / 1000;
        inHost(state, victim!.name, "systemctl start mariadb");
        await waitClusterHealthy(state, 120_000);
        const catchUpMs = Date.now() - restartEpoch;
        const sums = await waitChecksumsEqual(state, 20_000);
        const missingAfterCatchUp = missingOnAnyNode(state, writes.records, writes.prefix);
        const stallMs = longestAckGap(writes.records, killAt * 1000);
        const facts: NodeKillFacts = { acked: acked.length, failed: writes.records.filter((r) => !r.ok).length, lostOnSurvivor, missingAfterCatchUp, stallMs, catchUpMs, checksumsMatch: sums.equal };
        const seconds = Math.ceil(Math.max(durationSec, restartedAt));
        const markers: Marker[] = [{ t: killAt, label: `SIGKILL ${victim!.name}` }, { t: restartedAt, label: `${victim!.name} restarted` }];
        return {
            facts,
            outcome: {
                report: {
                    name: "a Galera node killed under writes",
                    description: `Writes at ${ctx.rate}/s through both entry points; ${victim!.name} SIGKILLed at ${killAt.toFixed(1)} s and kept down; the survivor ${survivor!.name} checked for every acknowledged write; then ${victim!.name} restarted and timed until every node is Synced in a complete cluster (IST), CHECKSUM TABLE compared on all nodes.`,
                    figures: [
                        { name: "writes acknowledged", unit: "writes", a: { label: "app", value: facts.acked } },
                        { name: "acknowledged writes missing on the survivor", unit: "writes", a: { label: survivor!.name, value: lostOnSurvivor } },
                        { name: "acknowledged writes missing after it rejoined", unit: "writes", a: { label: "all nodes", value: missingAfterCatchUp } },
                        { name: "writes failed (in flight at the kill, or during the stall)", unit: "writes", a: { label: "app", value: facts.failed } },
                        { name: "longest time without an acknowledged write after the kill", unit: "ms", a: { label: "app", value: stallMs } },
                        { name: "restart to every node Synced (catch-up)", unit: "ms", a: { label: victim!.name, value: catchUpMs } },
                        { name: "checksums equal after catch-up", unit: "1 = yes", a: { label: "all nodes", value: sums.equal ? 1 : 0 } },
                    ],
                    loads: [{ label: "writes", stats: overallStats(writes.records, durationSec) }],
                    markers,
                },
                timeline: buildTimeline(seconds, [...loadSeries(writes.records, seconds, "writes"), ...lagSeries(lagValues.series, seconds)], markers),
            },
        };
    } finally {
        inHost(state, victim!.name, "systemctl start mariadb");
    }
}

export interface PartitionFacts {
    readonly cutRegion: string;
    readonly acked: number;
    /** Writes acknowledged, per region's entry point. */
    readonly ackedByRegion: Record<string, number>;
    /** Writes that failed, per region's entry point (the cut-off side refuses; both sides stall first). */
    readonly failedByRegion: Record<string, number>;
    /** Heal until the cut-off node is Synced again. */
    readonly healMs: number;
    readonly missingAfterHeal: number;
    readonly checksumsMatch: boolean;
}

/**
 * The first region cut off from every other (the other data region and the witness) for
 * `partitionSec` under writes through both entry points; then healed. The majority side goes on
 * after the suspect timeout, the cut-off side refuses; after healing its node rejoins by itself.
 */
export async function partitionHeal(ctx: BenchContext, state: LabState, partitionSec: number): Promise<{ outcome: ScenarioOutcome; facts: PartitionFacts }> {
    await waitClusterHealthy(state, 60_000);
    const { first: cut, others } = regionsOf(state);
    const cutNode = dbNodes(state).find((d) => d.region === cut)!;
    const durationSec = partitionSec + 8;
    const sampler = sampleHealth(state, dbNodes(state).map((d) => d.name), 250);
    const started = Date.now();
    const load = writeThroughEntryPoints(ctx, state, "partition", ctx.rate, durationSec);
    await sleep(2000);
    for (const other of others) await applyFault(state, { kind: "partition", regions: [cut, other] });
    const cutAt = (Date.now() - started) / 1000;
    let healedAt = cutAt;
    let healEpoch = Date.now();
    try {
        await sleep(partitionSec * 1000);
    } finally {
        await healLab();
        healEpoch = Date.now();
        healedAt = (healEpoch - started) / 1000;
    }
    const writes = await load;
    await waitClusterHealthy(state, 120_000);
    const samples = await sampler.stop();
    const back = firstSample(samples, cutNode.name, healEpoch, (h) => h.serving);
    const healMs = back ? back.epochMs - healEpoch : Date.now() - healEpoch;
    const sums = await waitChecksumsEqual(state, 20_000);
    const missingAfterHeal = missingOnAnyNode(state, writes.records, writes.prefix);
    const byRegion = (f: (r: RequestRecord) => boolean) => Object.fromEntries(state.entryPoints.map((e, i) => [e.region, writes.results[i]!.records.filter(f).length]));
    const facts: PartitionFacts = {
        cutRegion: cut, acked: ackedKeys(writes.records).length, ackedByRegion: byRegion((r) => r.acked === true), failedByRegion: byRegion((r) => !r.ok),
        healMs, missingAfterHeal, checksumsMatch: sums.equal,
    };
    const seconds = Math.ceil(durationSec);
    const markers: Marker[] = [{ t: cutAt, label: `${cut} cut off from ${others.join(" + ")}` }, { t: healedAt, label: "healed" }];
    return {
        facts,
        outcome: {
            report: {
                name: `a region cut off for ${partitionSec} s under writes`,
                description: `Writes at ${ctx.rate}/s through both entry points while ${cut} cannot reach ${others.join(" or ")} for ${partitionSec} s (the client reaches both entry points); then healed. ${cutNode.name} loses quorum and refuses; the majority side goes on after the suspect timeout; after healing ${cutNode.name} rejoins by IST.`,
                figures: [
                    ...state.entryPoints.map((e) => ({ name: `writes acknowledged through ${e.region}`, unit: "writes", a: { label: "app", value: facts.ackedByRegion[e.region] ?? 0 } })),
                    ...state.entryPoints.map((e) => ({ name: `writes refused or failed through ${e.region}`, unit: "writes", a: { label: "app", value: facts.failedByRegion[e.region] ?? 0 } })),
                    { name: "acknowledged writes missing after heal", unit: "writes", a: { label: "all nodes", value: missingAfterHeal } },
                    { name: "heal to the cut-off node Synced", unit: "ms", a: { label: cutNode.name, value: healMs } },
                    { name: "checksums equal after heal", unit: "1 = yes", a: { label: "all nodes", value: sums.equal ? 1 : 0 } },
                ],
                loads: [{ label: "writes", stats: overallStats(writes.records, durationSec) }],
                markers,
            },
            timeline: buildTimeline(seconds, loadSeries(writes.records, seconds, "writes"), markers),
        },
    };
}

export interface CommitLatencyFacts {
    readonly commits: number;
    /** One session on a DB node, each autocommit INSERT timed by the server. */
    readonly sqlP50: number | null;
    readonly sqlP99: number | null;
    /** The demo app's counter increment (a transaction) from an app server of the same region, one at a time. */
    readonly appP50: number | null;
    readonly appP99: number | null;
    /** ping from the node to each other member (data node or arbitrator), average round trip. */
    readonly rttMs: Record<string, number>;
}

/** Per-commit times, ms, of `commits` autocommit INSERTs in one session on `host`. */
function commitTimes(state: LabState, host: string, commits: number): number[] {
    ensureBenchTables(state);
    const one = `SET @t = NOW(6); INSERT INTO ${BENCH_DB}.commit_probe (at) VALUES (NOW(6)); SELECT TIMESTAMPDIFF(MICROSECOND, @t, NOW(6));`;
    return sql(state, host, Array.from({ length: commits }, () => one).join(" ")).map((us) => Number(us) / 1000).sort((a, b) => a - b);
}

/** Average ping round trip, ms, from a droplet to an address (10 pings). */
function pingMs(state: LabState, host: string, address: string): number {
    const out = inHost(state, host, `ping -c 10 -i 0.2 -q ${address}`).out;
    const m = /= [\d.]+\/([\d.]+)\//.exec(out);
    if (!m) throw new Error(`ping from ${host} to ${address}: ${out}`);
    return Number(m[1]);
}

/**
 * What a Galera commit costs, with its reference measured in the same run: per-commit times of
 * autocommit INSERTs in one session on the first region's node; the demo app's counter increment
 * from an app server of that region, one request at a time; and the round trip to every other
 * member (ping). A commit needs the write-set delivered in total order to every member: about
 * 1.5 round trips. (A "local-only" commit for comparison would need wsrep off in a session on a
 * live member, which writes rows the cluster never sees: not done.)
 */
export async function commitLatency(_ctx: BenchContext, state: LabState, commits: number): Promise<{ outcome: ScenarioOutcome; facts: CommitLatencyFacts }> {
    const node = dbNodes(state).find((d) => d.region === state.entryPoints[0]!.region)!;
    const app = state.hosts.find((h) => h.role === "app" && h.region === node.region)!;
    await waitClusterHealthy(state, 60_000);
    const peers = state.hosts.filter((h) => (h.role === "db" && h !== node) || h.role === "witness");
    const rttMs = Object.fromEntries(peers.map((p) => [p.name, pingMs(state, node.name, p.privateIpv4)]));
    const times = commitTimes(state, node.name, commits);
    const viaApp = await runDbOpsFrom(app, { label: app.name, workers: 1, untilEpochMs: 0, opsPerWorker: commits, timeoutMs: 20_000, ops: ["incr"], counter: `bench-commit-${Date.now().toString(36)}`, claimPrefix: "unused", claimSlotMs: 1000, cell: "unused" });
    const appMs = viaApp.filter((r) => r.ok).map((r) => r.ms).sort((a, b) => a - b);
    if (appMs.length < commits) throw new Error(`only ${appMs.length} of ${commits} increments through ${app.name} succeeded: ${viaApp.find((r) => !r.ok)?.error}`);
    const facts: CommitLatencyFacts = { commits, sqlP50: percentile(times, 50), sqlP99: percentile(times, 99), appP50: percentile(appMs, 50), appP99: percentile(appMs, 99), rttMs };
    const rtt = Math.max(...Object.values(rttMs));
    return {
        facts,
        outcome: {
            report: {
                name: "what a Galera commit costs",
                description: `${commits} autocommit single-row INSERTs from one session on ${node.name}, each timed by the server; the same number of the demo app's counter increments (POST /db-op.json op=incr, a transaction with the app's node check) from ${app.name}, one at a time; beside them the round trip from ${node.name} to every other member, measured in the same run with ping (${Object.entries(rttMs).map(([h, ms]) => `${h} ${ms.toFixed(1)} ms`).join(", ")}).`,
                figures: [
                    { name: "commit p50", unit: "ms", a: { label: "Galera commit (SQL session)", value: facts.sqlP50 }, b: { label: "inter-region round trip (ping)", value: rtt } },
                    { name: "commit p99", unit: "ms", a: { label: "Galera commit (SQL session)", value: facts.sqlP99 }, b: { label: "inter-region round trip (ping)", value: rtt } },
                    { name: "increment through the app p50", unit: "ms", a: { label: `db-op incr on ${app.name}`, value: facts.appP50 }, b: { label: "Galera commit (SQL session)", value: facts.sqlP50 } },
                    { name: "increment through the app p99", unit: "ms", a: { label: `db-op incr on ${app.name}`, value: facts.appP99 }, b: { label: "Galera commit (SQL session)", value: facts.sqlP99 } },
                ],
                loads: [],
            },
            timeline: buildTimeline(1, []),
        },
    };
}

export interface LagFacts {
    readonly p50: number | null;
    readonly p99: number | null;
    readonly samples: number;
    /** p99 per direction ("a→b"). */
    readonly p99ByPair: Record<string, number | null>;
}

/** Steady writes through both regions; meanwhile the apply lag between every pair of nodes (see {@link sampleApplyLag}). */
export async function applyLag(ctx: BenchContext, state: LabState, durationSec: number): Promise<{ outcome: ScenarioOutcome; facts: LagFacts }> {
    await waitClusterHealthy(state, 60_000);
    const started = Date.now();
    const load = writeThroughEntryPoints(ctx, state, "steady", ctx.rate, durationSec);
    const lag = sampleApplyLag(state, started, load);
    const writes = await load;
    const { series, lags, byPair } = await lag;
    const facts: LagFacts = { p50: percentile(lags, 50), p99: percentile(lags, 99), samples: lags.length, p99ByPair: Object.fromEntries(Object.entries(byPair).map(([k, v]) => [k, percentile(v, 99)])) };
    const seconds = Math.ceil(durationSec);
    return {
        facts,
        outcome: {
            report: {
                name: "apply lag under steady writes",
                description: `Writes at ${ctx.rate}/s through both entry points for ${durationSec} s, 40 ms one way between the regions. Apply lag = how long after a commit returned on one node a read on another sees it (reads are local and do not wait): each node commits a marker every 100 ms, every other node polls for it every 10 ms; negative means the peer had it before the committer's client got its OK.`,
                figures: [
                    { name: "apply lag p50", unit: "ms", a: { label: "commit returned → visible on a peer", value: facts.p50 } },
                    { name: "apply lag p99", unit: "ms", a: { label: "commit returned → visible on a peer", value: facts.p99 } },
                    { name: "lag samples", unit: "samples", a: { label: "all pairs", value: facts.samples } },
                ],
                loads: [{ label: "writes", stats: overallStats(writes.records, durationSec) }],
            },
            timeline: buildTimeline(seconds, [...loadSeries(writes.records, seconds, "writes"), ...lagSeries(series, seconds)]),
        },
    };
}

/**
 * Closed-loop capacity with wrk (Debian's): requests/s at 8 connections for `sec` seconds. For an
 * https URL wrk does not verify the certificate (nor send the site's name as SNI: it sends the
 * URL's host); the verified HTTPS path is the load generator's. Each connection handshakes once.
 */
function wrkCapacity(netns: string, url: string, hostHeader: string, sec: number): Promise<number | null> {
    return new Promise((resolve) => {
        const p = spawn("ip", ["netns", "exec", netns, "wrk", "-t1", "-c8", `-d${sec}s`, "-H", `Host: ${hostHeader}`, url], { stdio: ["ignore", "pipe", "ignore"] });
        let out = "";
        p.stdout.on("data", (c: Buffer) => (out += c.toString()));
        p.on("close", () => {
            const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
            resolve(m ? Number(m[1]) : null);
        });
    });
}

/**
 * The HAProxy hop: the same health page through an LB and straight from an app server, side by
 * side from the LB's own host. Through the LB is HTTPS (verified against the lab CA), as clients
 * reach the site, so the hop's cost includes TLS termination; straight to the app server is plain
 * HTTP, as HAProxy itself talks to it on the private network.
 */
export async function lbCost(ctx: BenchContext, state: LabState, durationSec: number): Promise<{
    outcome: ScenarioOutcome;
    ratio: { throughput: number | null; p50: number | null; p99: number | null; capacity: number | null };
    capacity: { via: number | null; direct: number | null };
}> {
    const lb = state.hosts.find((h) => h.role === "lb" && h.region === state.entryPoints[0]!.region)!;
    const app = state.hosts.find((h) => h.role === "app" && h.region === lb.region)!;
    const netns = path.basename(lb.netns);
    const wrap = ["ip", "netns", "exec", netns];
    const load = { paths: [{ path: "/healthz" }], rate: ctx.rate, durationSec, concurrency: ctx.concurrency, timeoutMs: ctx.timeoutMs };
    const [via, direct] = await Promise.all([
        ctx.load("lb-via", { ...load, ...siteThrough(state, lb.publicIpv4) }, wrap),
        ctx.load("lb-direct", { ...load, host: app.privateIpv4, hostHeader: state.siteName }, wrap),
    ]);
    const a = { label: `through HAProxy on ${lb.name} (HTTPS)`, stats: overallStats(via.records, durationSec) };
    const b = { label: `straight to ${app.name}`, stats: overallStats(direct.records, durationSec) };
    const div = (x: number | null, y: number | null) => (x === null || y === null || y === 0 ? null : x / y);
    // An open loop at a fixed rate is served in full by both sides; capacity needs a closed loop.
    const capSec = Math.max(3, Math.min(10, Math.round(durationSec)));
    const [capVia, capDirect] = await Promise.all([
        wrkCapacity(netns, `https://${lb.publicIpv4}/healthz`, state.siteName, capSec),
        wrkCapacity(netns, `http://${app.privateIpv4}/healthz`, state.siteName, capSec),
    ]);
    const seconds = Math.ceil(durationSec);
    return {
        ratio: { throughput: div(a.stats.throughput, b.stats.throughput), p50: div(a.stats.p50, b.stats.p50), p99: div(a.stats.p99, b.stats.p99), capacity: div(capVia, capDirect) },
        capacity: { via: capVia, direct: capDirect },
        outcome: {
            report: {
                name: "what the load balancer costs",
                description: `GET /healthz at ${ctx.rate} req/s each, at the same time, from ${lb.name}'s host: through its HAProxy over HTTPS (so the hop includes TLS termination: a handshake per new keep-alive connection, the certificate verified against the lab CA, then plain HTTP to the local app servers it balances) and straight to ${app.name} over plain HTTP, as HAProxy reaches it; then capacity, both at once, with wrk (8 keep-alive connections, ${capSec} s each; wrk does not verify the certificate).`,
                figures: [...sideBySide(a, b), { name: "capacity (wrk, 8 connections)", unit: "req/s", a: { label: a.label, value: capVia }, b: { label: b.label, value: capDirect } }],
                loads: [a, b],
            },
            timeline: buildTimeline(seconds, [...loadSeries(via.records, seconds, "via LB"), ...loadSeries(direct.records, seconds, "direct")]),
        },
    };
}

export interface SessionFacts {
    readonly sessions: number;
    readonly requests: number;
    /** Sessions whose counter reset or skipped. */
    readonly lost: number;
    readonly failedRequests: number;
    /** The counter sequences of the lost sessions (-1: the view failed), so a failure shows how. */
    readonly lostSequences: readonly (readonly number[])[];
}

/**
 * One browser-like session (cookie jar) on the client host, `n` page views one after the other,
 * over HTTPS to the site's name (resolved through the lab DNS), the certificate verified against
 * the lab CA's root. A view without a counter in its answer (no answer, a refused certificate, an
 * error page) is -1.
 */
function sessionRun(state: LabState, jar: string, n: number): Promise<{ counts: number[]; failed: number }> {
    const url = shellQuote(new URL("/whoami.json?write=0", `https://${state.siteName}`).href);
    const script = `for i in $(seq ${n}); do curl -s -m 10 --cacert ${shellQuote(state.acmeRootFile)} -b ${jar} -c ${jar} ${url} | grep -o '"count":[0-9]*' || echo '"count":-1'; sleep 0.3; done; rm -f ${jar}`;
    return new Promise((resolve) => {
        const p = spawn("ip", ["netns", "exec", state.clientNetns, "sh", "-c", script], { stdio: ["ignore", "pipe", "ignore"] });
        let out = "";
        p.stdout.on("data", (c: Buffer) => (out += c.toString()));
        p.on("close", () => {
            const counts = out.split("\n").filter(Boolean).map((l) => Number(l.split(":")[1]));
            resolve({ counts, failed: counts.filter((c) => c < 0).length });
        });
    });
}

/** Sessions keep counting while one memcached node is SIGKILLed and kept down. */
export async function memcachedKill(_ctx: BenchContext, state: LabState, sessions: number, views: number): Promise<{ outcome: ScenarioOutcome; facts: SessionFacts }> {
    const victim = state.hosts.find((h) => h.role === "cache" && h.region === state.entryPoints[0]!.region)!;
    const runs = Array.from({ length: sessions }, (_, i) => sessionRun(state, `/tmp/dns-rr-ha-bench-jar-${process.pid}-${i}`, views));
    // Two seconds in: every session has counted a few views on the node about to die.
    await sleep(2000);
    sigkillMainPids(state, victim.name, ["memcached.service"], true);
    try {
        const results = await Promise.all(runs);
        const lostSequences = results.filter((r) => r.counts.some((c, i) => c !== i + 1)).map((r) => r.counts);
        const facts: SessionFacts = { sessions, requests: sessions * views, lost: lostSequences.length, failedRequests: results.reduce((n, r) => n + r.failed, 0), lostSequences };
        return {
            facts,
            outcome: {
                report: {
                    name: "a memcached node killed under live sessions",
                    description: `${sessions} sessions (cookie jars) each view the page ${views} times; ${victim.name} is SIGKILLed and kept down 2 s in. A session is lost if its counter ever resets or skips.`,
                    figures: [
                        { name: "sessions lost", unit: "sessions", a: { label: `of ${sessions}`, value: facts.lost } },
                        { name: "page views failed", unit: "requests", a: { label: `of ${facts.requests}`, value: facts.failedRequests } },
                    ],
                    loads: [],
                },
                timeline: buildTimeline(1, []),
            },
        };
    } finally {
        inHost(state, victim.name, "systemctl start memcached");
    }
}

export interface UploadFacts {
    /** Slowest time until a file uploaded on one app server was on every other one, ms. */
    readonly propagationMs: number;
    /** Per server, ms. */
    readonly perServerMs: Record<string, number>;
    /** Time from the down server's return until it held the file uploaded while it was down, ms. */
    readonly afterReturnMs: number;
}

const UPLOADS = "/var/www/dns-rr-ha/shared/uploads";

async function waitForFile(state: LabState, host: string, name: string, timeoutMs: number): Promise<number> {
    const t = Date.now();
    while (inHost(state, host, `test -f ${UPLOADS}/${name}`).code !== 0) {
        if (Date.now() - t > timeoutMs) throw new Error(`${name} did not reach ${host} within ${timeoutMs} ms`);
        await sleep(100);
    }
    return Date.now() - t;
}

/**
 * A file uploaded on one app server reaches all the others (lsyncd), and a server that was down
 * during the upload gets it once it is back. Uploads go straight to one app server's upload.php
 * from an LB's host (app servers only accept LBs), in plain HTTP as HAProxy talks to them.
 */
export async function uploads(_ctx: BenchContext, state: LabState): Promise<{ outcome: ScenarioOutcome; facts: UploadFacts }> {
    const apps = state.hosts.filter((h) => h.role === "app");
    const origin = apps[0]!;
    const lb = state.hosts.find((h) => h.role === "lb" && h.region === origin.region)!;
    const netns = path.basename(lb.netns);
    const post = (name: string) => {
        const local = path.join(os.tmpdir(), name);
        fs.writeFileSync(local, crypto.randomBytes(64 * 1024));
        try {
            const r = spawnSync("ip", ["netns", "exec", netns, "curl", "-s", "-m", "20", "-o", "/dev/null", "-w", "%{http_code}", "-H", `Host: ${state.siteName}`, "-F", `file=@${local}`, `http://${origin.privateIpv4}/upload.php?format=json`], { encoding: "utf8" });
            if (r.stdout.trim() !== "201") throw new Error(`upload of ${name} to ${origin.name} answered ${r.stdout} ${r.stderr}`);
        } finally {
            fs.rmSync(local, { force: true });
        }
    };
    const stamp = Date.now().toString(36);
    const first = `bench-${stamp}-a.bin`;
    post(first);
    const perServer = Object.fromEntries(await Promise.all(apps.filter((a) => a !== origin).map(async (a) => [a.name, await waitForFile(state, a.name, first, 60_000)] as const)));
    const propagationMs = Math.max(...Object.values(perServer));

    const fabric = openFabric(LAB_PREFIX);
    const down = apps.find((a) => a !== origin && a.region !== origin.region) ?? apps[1]!;
    const second = `bench-${stamp}-b.bin`;
    await blackhole(fabric, down.name);
    try {
        post(second);
        await waitForFile(state, apps.find((a) => a !== origin && a !== down)!.name, second, 60_000);
        if (inHost(state, down.name, `test -f ${UPLOADS}/${second}`).code === 0) throw new Error(`${down.name} got ${second} while blackholed: the fault did not hold`);
        await sleep(5000);
    } finally {
        await unblackhole(fabric, down.name);
    }
    const afterReturnMs = await waitForFile(state, down.name, second, 180_000);
    const facts: UploadFacts = { propagationMs, perServerMs: perServer, afterReturnMs };
    return {
        facts,
        outcome: {
            report: {
                name: "uploads across app servers",
                description: `A 64 KiB file POSTed to ${origin.name}'s upload.php; the time until every other app server holds it (lsyncd, delay 1 s). Then ${down.name} is blackholed, a second file uploaded, ${down.name} brought back after 5 s: the time until it holds the file.`,
                figures: [
                    { name: "upload on every app server", unit: "ms", a: { label: "slowest peer", value: propagationMs } },
                    { name: "upload on a server that was down, after its return", unit: "ms", a: { label: down.name, value: afterReturnMs } },
                ],
                loads: [],
            },
            timeline: buildTimeline(1, []),
        },
    };
}

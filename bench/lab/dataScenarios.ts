/**
 * The lab's data-safety scenarios (issue 5), each a function returning its report, its part of the
 * timeline and the facts a test asserts on: acknowledged writes lost when a master dies, replication
 * after a partition, lag under load, sessions when memcached dies, and what the LB hop costs.
 */
import { spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LabState } from "../../lab/labState";
import { LAB_PREFIX } from "../../lab/labPaths";
import { blackhole, fabricState, heal, openFabric, partition, unblackhole } from "../../lab/net";
import { shellQuote } from "../../components/wiring/wiringScript";
import { inHost } from "../../lab/testing/labClient";
import { sideBySide } from "../figures";
import { ackedKeys, missingAckedKeys, RequestRecord } from "../report/records";
import { sigkillMainPids } from "../../lab/faultCommand";
import { overallStats, percentile } from "../report/stats";
import { buildTimeline, loadSeries, Marker, Series } from "../report/timeline";
import { BenchContext, ScenarioOutcome } from "../scenario";
import { checksums, dbNodes, keysPresent, replicationHealth, setSemisync, sql, waitReplicationHealthy } from "./labDb";
import { siteThrough, writeThroughEntryPoints } from "./writeLoad";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Replication lag, per heartbeat: on each node one client session asks every 50 ms which peer
 * heartbeats the node holds and how old they are on the server's clock; a heartbeat's lag is its
 * age when it is first seen (so the 1 s heartbeat period is not counted; the error is at most the
 * 50 ms poll). Per second: the largest lag of the heartbeats first seen in that second. A node
 * that dies stops its session; its series then has a gap.
 */
async function sampleLag(state: LabState, started: number, stop: Promise<unknown>): Promise<{ series: Record<string, (number | null)[]>; lags: number[] }> {
    const series: Record<string, (number | null)[]> = {};
    const lags: number[] = [];
    const polls = 20 * 600;
    const query = "SELECT host, ts, TIMESTAMPDIFF(MICROSECOND, ts, NOW(6)) FROM dns_rr_ha.heartbeat WHERE server_id <> @@server_id; DO SLEEP(0.05);\n";
    const sessions = dbNodes(state).map((d) => {
        const seen = new Set<string>();
        let first = true;
        let firstRound = Date.now();
        const p = spawn("nsenter", ["--target", String(d.leaderPid), "--mount", "--uts", "--ipc", "--net", "--pid", "--", "mariadb", "--batch", "--skip-column-names", "--unbuffered"], { stdio: ["pipe", "pipe", "ignore"], detached: true });
        p.stdin.on("error", () => undefined);
        p.stdin.end(query.repeat(polls));
        let rest = "";
        p.stdout.on("data", (c: Buffer) => {
            const lines = (rest + c.toString()).split("\n");
            rest = lines.pop() ?? "";
            // Rows there before the first poll were written before we looked: their age is no lag.
            if (first && Date.now() - firstRound > 100) first = false;
            for (const line of lines) {
                const [peer, ts, us] = line.split("\t");
                if (!peer || !ts || us === undefined) continue;
                const id = `${peer}|${ts}`;
                if (seen.has(id)) continue;
                seen.add(id);
                if (first) continue;
                const second = Math.floor((Date.now() - started) / 1000);
                const values = (series[`lag ${peer}→${d.name}`] ??= []);
                const ms = Number(us) / 1000;
                lags.push(ms);
                values[second] = Math.max(values[second] ?? 0, ms);
            }
        });
        firstRound = Date.now();
        return new Promise<void>((resolve) => {
            p.on("close", () => resolve());
            // nsenter forks the client (a new PID namespace needs a child): signal the whole group.
            const end = () => {
                try {
                    process.kill(-p.pid!, "SIGTERM");
                } catch {
                    // Already gone.
                }
            };
            stop.then(end, end);
        });
    });
    await stop.catch(() => undefined);
    await Promise.all(sessions);
    return { series, lags: lags.sort((a, b) => a - b) };
}

function lagSeries(lag: Record<string, (number | null)[]>, seconds: number): Series[] {
    return Object.entries(lag).map(([name, values]) => ({ name, unit: "ms", axis: "right", values: Array.from({ length: seconds }, (_, i) => values[i] ?? null) }));
}

/** Waits until both nodes hold the same checksums (replication has drained); returns them. */
async function convergedChecksums(state: LabState, timeoutMs: number): Promise<{ equal: boolean; values: string[] }> {
    const t = Date.now();
    for (;;) {
        const values = dbNodes(state).map((d) => checksums(state, d.name));
        if (values.every((v) => v === values[0]) || Date.now() - t > timeoutMs) return { equal: values.every((v) => v === values[0]), values };
        await sleep(500);
    }
}

/** Acknowledged writes missing, summed over every DB node. */
function missingOnAnyNode(state: LabState, records: readonly RequestRecord[], prefix: string): number {
    return dbNodes(state).reduce((n, d) => n + missingAckedKeys(records, keysPresent(state, d.name, prefix)).length, 0);
}

export interface MasterKillFacts {
    readonly mode: "semisync" | "async";
    readonly acked: number;
    readonly failed: number;
    /** Acknowledged writes not on the surviving master while the killed one was down. */
    readonly lostOnSurvivor: number;
    /** Acknowledged writes missing on any node after the killed one came back and caught up. */
    readonly missingAfterCatchUp: number;
    readonly catchUpMs: number;
    readonly checksumsMatch: boolean;
}

/**
 * Writes through both regions; SIGKILLs the first region's MariaDB mid-stream and keeps it down
 * (as a dead host would be), counts the acknowledged writes the survivor lacks, then restarts it
 * and checks it catches up by itself and every table checksum matches.
 */
export async function masterKill(ctx: BenchContext, state: LabState, mode: "semisync" | "async", durationSec: number, killAtSec: number): Promise<{ outcome: ScenarioOutcome; facts: MasterKillFacts }> {
    const [victim, survivor] = [state.entryPoints[0]!.region, state.entryPoints[1]!.region].map((r) => dbNodes(state).find((d) => d.region === r)!);
    setSemisync(state, mode === "semisync");
    try {
        await waitReplicationHealthy(state, 60_000);
        const started = Date.now();
        const load = writeThroughEntryPoints(ctx, state, `kill-${mode}`, ctx.rate, durationSec);
        const lag = sampleLag(state, started, load);
        await sleep(killAtSec * 1000);
        const killAt = (Date.now() - started) / 1000;
        ctx.log(`${mode}: SIGKILL on ${victim!.name} at ${killAt.toFixed(1)} s: ${sigkillMainPids(state, victim!.name, ["mariadb.service"], true)}`);
        const writes = await load;
        const lagValues = await lag;
        const acked = ackedKeys(writes.records);
        // Give the survivor's SQL thread a moment to apply what its relay log already holds.
        await sleep(3000);
        const onSurvivor = keysPresent(state, survivor!.name, writes.prefix);
        const lostOnSurvivor = missingAckedKeys(writes.records, onSurvivor).length;
        inHost(state, victim!.name, "systemctl start mariadb");
        const restartedAt = (Date.now() - started) / 1000;
        const catchUpMs = await waitReplicationHealthy(state, 120_000);
        const sums = await convergedChecksums(state, 20_000);
        const missingAfterCatchUp = missingOnAnyNode(state, writes.records, writes.prefix);
        const facts: MasterKillFacts = {
            mode, acked: acked.length, failed: writes.records.filter((r) => !r.ok).length, lostOnSurvivor, missingAfterCatchUp, catchUpMs, checksumsMatch: sums.equal,
        };
        const seconds = Math.ceil(Math.max(durationSec, restartedAt));
        const markers: Marker[] = [{ t: killAt, label: `SIGKILL ${victim!.name} (${mode})` }, { t: restartedAt, label: `${victim!.name} restarted` }];
        return {
            facts,
            outcome: {
                report: {
                    name: `MariaDB master killed under writes (${mode})`,
                    description: `Writes at ${ctx.rate}/s through both entry points; ${victim!.name} SIGKILLed at ${killAt.toFixed(1)} s and kept down; the survivor ${survivor!.name} checked for every acknowledged write 3 s later; then ${victim!.name} restarted and checked to catch up by itself (CHECKSUM TABLE on all nodes).`,
                    figures: [
                        { name: "writes acknowledged", unit: "writes", a: { label: "app", value: facts.acked } },
                        { name: "acknowledged writes missing on the survivor", unit: "writes", a: { label: survivor!.name, value: lostOnSurvivor } },
                        { name: "acknowledged writes missing after catch-up", unit: "writes", a: { label: "all nodes", value: missingAfterCatchUp } },
                        { name: "writes refused or failed during the failover", unit: "writes", a: { label: "app", value: facts.failed } },
                        { name: "restart to replication healthy", unit: "ms", a: { label: victim!.name, value: catchUpMs } },
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
        setSemisync(state, true);
    }
}

export interface PartitionFacts {
    readonly acked: number;
    readonly resumeMs: number;
    readonly replicationErrors: string[];
    readonly missingAfterHeal: number;
    readonly checksumsMatch: boolean;
}

/** Both regions take writes while cut apart for `partitionSec`; after healing, replication must resume by itself, error-free, and converge. */
export async function partitionHeal(ctx: BenchContext, state: LabState, partitionSec: number): Promise<{ outcome: ScenarioOutcome; facts: PartitionFacts }> {
    await waitReplicationHealthy(state, 60_000);
    const fabric = openFabric(LAB_PREFIX);
    const vpcOf = (region: string) => Object.values(fabricState(fabric).vpcs).find((v) => v.region === region)!.name;
    const [a, b] = state.entryPoints.map((e) => e.region);
    const durationSec = partitionSec + 6;
    const started = Date.now();
    const load = writeThroughEntryPoints(ctx, state, "partition", ctx.rate, durationSec);
    const lag = sampleLag(state, started, load);
    await sleep(2000);
    await partition(fabric, vpcOf(a!), vpcOf(b!));
    const cutAt = (Date.now() - started) / 1000;
    let healedAt = cutAt;
    try {
        await sleep(partitionSec * 1000);
    } finally {
        await heal(fabric);
        healedAt = (Date.now() - started) / 1000;
    }
    const writes = await load;
    const lagValues = await lag;
    const resumeMs = await waitReplicationHealthy(state, 120_000);
    const replicationErrors = dbNodes(state).flatMap((d) => (replicationHealth(state, d.name).report?.connections ?? []).flatMap((c) => (c.last_error ? [`${d.name}/${c.name}: ${c.last_error}`] : [])));
    const sums = await convergedChecksums(state, 20_000);
    const acked = ackedKeys(writes.records);
    const missingAfterHeal = missingOnAnyNode(state, writes.records, writes.prefix);
    const facts: PartitionFacts = { acked: acked.length, resumeMs, replicationErrors, missingAfterHeal, checksumsMatch: sums.equal };
    const seconds = Math.ceil(durationSec);
    const markers: Marker[] = [{ t: cutAt, label: `partition ${a} | ${b}` }, { t: healedAt, label: "healed" }];
    return {
        facts,
        outcome: {
            report: {
                name: `regions partitioned for ${partitionSec} s under writes`,
                description: `Writes at ${ctx.rate}/s through both entry points while ${a} and ${b} cannot reach each other for ${partitionSec} s (the client reaches both); then healed.`,
                figures: [
                    { name: "writes acknowledged", unit: "writes", a: { label: "app", value: facts.acked } },
                    { name: "heal to replication healthy", unit: "ms", a: { label: "all nodes", value: resumeMs } },
                    { name: "replication errors", unit: "errors", a: { label: "all connections", value: replicationErrors.length } },
                    { name: "acknowledged writes missing after heal", unit: "writes", a: { label: "all nodes", value: missingAfterHeal } },
                    { name: "checksums equal after heal", unit: "1 = yes", a: { label: "all nodes", value: sums.equal ? 1 : 0 } },
                ],
                loads: [{ label: "writes", stats: overallStats(writes.records, durationSec) }],
                markers,
            },
            timeline: buildTimeline(seconds, [...loadSeries(writes.records, seconds, "writes"), ...lagSeries(lagValues.series, seconds)], markers),
        },
    };
}

export interface CommitLatencyFacts {
    readonly semisyncMs: number;
    readonly asyncMs: number;
    readonly commits: number;
}

/** Mean time of one autocommit INSERT on a node, from one client session (no client start-up in it). */
function meanCommitMs(state: LabState, host: string, commits: number): number {
    const inserts = Array.from({ length: commits }, () => "INSERT INTO dns_rr_ha.commit_probe (at) VALUES (NOW(6));").join(" ");
    const [us] = sql(state, host, `CREATE TABLE IF NOT EXISTS dns_rr_ha.commit_probe (id BIGINT AUTO_INCREMENT PRIMARY KEY, at TIMESTAMP(6) NOT NULL); SET @t = NOW(6); ${inserts} SELECT TIMESTAMPDIFF(MICROSECOND, @t, NOW(6))`);
    return Number(us) / 1000 / commits;
}

/**
 * What semisync costs a commit: the same autocommit INSERTs on one master with semisync on and
 * then off, back to back in one run (each semisync commit waits for the peer region's ack).
 */
export async function commitLatency(_ctx: BenchContext, state: LabState, commits: number): Promise<{ outcome: ScenarioOutcome; facts: CommitLatencyFacts }> {
    const node = dbNodes(state).find((d) => d.region === state.entryPoints[0]!.region)!;
    await waitReplicationHealthy(state, 60_000);
    try {
        setSemisync(state, true);
        const semisyncMs = meanCommitMs(state, node.name, commits);
        setSemisync(state, false);
        const asyncMs = meanCommitMs(state, node.name, commits);
        const facts: CommitLatencyFacts = { semisyncMs, asyncMs, commits };
        return {
            facts,
            outcome: {
                report: {
                    name: "what semisync costs a commit",
                    description: `${commits} autocommit single-row INSERTs from one session on ${node.name}, with rpl_semi_sync_master_enabled ON, then OFF (40 ms one way to the peer region).`,
                    figures: [{ name: "mean commit time", unit: "ms", a: { label: "semisync", value: semisyncMs }, b: { label: "async", value: asyncMs } }],
                    loads: [],
                },
                timeline: buildTimeline(1, []),
            },
        };
    } finally {
        setSemisync(state, true);
    }
}

export interface LagFacts {
    readonly p50: number | null;
    readonly p99: number | null;
    readonly samples: number;
}

/** Steady writes through both regions; the heartbeat age on each node, every second, is the lag. */
export async function steadyLag(ctx: BenchContext, state: LabState, durationSec: number): Promise<{ outcome: ScenarioOutcome; facts: LagFacts }> {
    await waitReplicationHealthy(state, 60_000);
    const started = Date.now();
    const load = writeThroughEntryPoints(ctx, state, "steady", ctx.rate, durationSec);
    const lag = sampleLag(state, started, load);
    const writes = await load;
    const { series, lags } = await lag;
    const facts: LagFacts = { p50: percentile(lags, 50), p99: percentile(lags, 99), samples: lags.length };
    const seconds = Math.ceil(durationSec);
    return {
        facts,
        outcome: {
            report: {
                name: "replication lag under steady writes",
                description: `Writes at ${ctx.rate}/s through both entry points for ${durationSec} s, 40 ms one way between the regions. Lag = how old each peer heartbeat (written every second) is, on the server's clock, when a node is first seen holding it; one client session per node polls every 50 ms.`,
                figures: [
                    { name: "replication lag p50", unit: "ms", a: { label: "heartbeat age", value: facts.p50 } },
                    { name: "replication lag p99", unit: "ms", a: { label: "heartbeat age", value: facts.p99 } },
                    { name: "lag samples", unit: "samples", a: { label: "all nodes", value: facts.samples } },
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

/**
 * Bench scenario: the Galera tier (a = Galera 4, two data nodes + garbd) next to "today's"
 * semisync master-master (b = bench/db/baselineMasterMaster.ts), in one run, under the same
 * conflicting workload from two emulated regions, with a partition in the middle.
 *
 * Regions on loopback: every member has its own 127.0.77.x (Galera) or 127.0.78.x (baseline)
 * address; everything between two regions goes through a {@link startDelayProxy} relay (40 ms one
 * way, so 80 ms per round trip), which can cut and heal. The baseline's replicas simply connect to
 * the proxy (MASTER_HOST/PORT). Galera members connect to the addresses they learn from each other
 * (gossip: a node advertises its own listen address, and there is no option to advertise another),
 * so their group, IST and SST connections are sent to the proxies by nftables `redirect` rules in
 * the output hook of a table of the bench's own (matched on source address, which Galera binds to
 * its listen address, destination address and port; the proxies connect from 127.0.77.254, which
 * no rule's source matches; a member records a peer reached through a proxy as 127.0.77.254 with
 * the peer's port, so connections to 127.0.77.254:<a member's port> are redirected the same way).
 * That needs root (CAP_NET_ADMIN): without it the scenario is skipped. The table
 * is deleted afterwards, every process is stopped by PID, every temp dir removed.
 *
 * Clients of region A talk to node A, region B's to node B, over the unix socket (no delay on that
 * hop): a hot row (SELECT ... FOR UPDATE then UPDATE in a transaction), counters (autocommit
 * increments), claims (INSERT of the same values from both regions, UNIQUE), and a
 * compare-and-set (read the version, UPDATE ... WHERE version = read). Timeline: steady load, then
 * region B is cut off (Galera: A↔B and B↔arbitrator; A keeps the arbitrator, so A has quorum),
 * then heal, the load stops, and the bench waits for both nodes to agree.
 */
import { execFileSync, spawn, spawnSync } from "child_process";
import { mkdtempSync, rmSync } from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { LOCAL_TIMING, clientArgs, freePort, parseBatch } from "../../components/db/testing/localMariadb";
import { Scenario, ScenarioOutcome, BenchContext } from "../scenario";
import { overallStats } from "../report/stats";
import { buildTimeline, Marker } from "../report/timeline";
import { startBaselinePair, type BaselinePair } from "./baselineMasterMaster";
import { asRequestRecords, conflictFigureRows, conflictPhases, opSeries, systemFigures, type NodeRows, type OpKind, type OpRecord, type Region, type SystemRun } from "./conflictFigures";
import { delayLink, startDelayProxy, type DelayLink, type DelayProxy } from "./delayProxy";
import { startGaleraLocal, type GaleraLocal, type MemberAddress } from "./galeraLocal";
import { SqlSession } from "./sqlSession";

const NAME = "conflicting writes: Galera vs semisync master-master (local)";
const LABEL_A = "Galera 4 + garbd";
const LABEL_B = "semisync master-master";
/** One-way delay between two regions. */
export const ONE_WAY_MS = 40;
/** The old design's semisync timeout. */
const SEMISYNC_TIMEOUT_MS = 1000;
const CONVERGE_WAIT_MS = 30_000;
const OP_TIMEOUT_MS = 10_000;
const WORKERS_PER_REGION = 3;
const THINK_MS = 20;
const BACKOFF_MS = 100;
/** Both regions try to claim value c-k during the k-th window of this many ms. */
const CLAIM_WINDOW_MS = 200;
const COUNTERS = 4;
const NFT_TABLE = "dns_rr_ha_bench_delay";
const PROXY_SOURCE = "127.0.77.254";
const GALERA_HOSTS = { a: "127.0.77.1", b: "127.0.77.2", arbitrator: "127.0.77.3" } as const;
const BASELINE_HOSTS = ["127.0.78.1", "127.0.78.2"] as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Why this machine cannot run the scenario, or undefined. */
function missing(): string | undefined {
    if (process.getuid?.() !== 0) return "needs root (nftables rules route Galera's group traffic through the delay proxies)";
    for (const tool of ["mariadbd", "mariadb", "mariadb-install-db", "mariabackup", "socat", "garbd", "nft", "ss"]) {
        if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `needs ${tool}`;
    }
    return undefined;
}

/** SQL over the socket in a child process (never blocks the event loop the proxies run on). */
function query(socket: string, text: string, opts: { header?: boolean; timeoutMs?: number } = {}): Promise<{ ok: boolean; out: string }> {
    return new Promise((resolve) => {
        const child = spawn("mariadb", [...clientArgs(socket), "--batch", ...(opts.header ? [] : ["--skip-column-names"])], { stdio: ["pipe", "pipe", "pipe"] });
        let out = "";
        let err = "";
        const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 5000);
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.stdin.on("error", () => undefined);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve(code === 0 ? { ok: true, out } : { ok: false, out: err });
        });
        child.stdin.end(text);
    });
}

const SCHEMA = [
    "CREATE DATABASE bench;",
    "CREATE TABLE bench.cells (name VARCHAR(32) NOT NULL PRIMARY KEY, value BIGINT NOT NULL, version BIGINT NOT NULL) ENGINE = InnoDB;",
    "CREATE TABLE bench.claims (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, value VARCHAR(32) NOT NULL, region CHAR(1) NOT NULL, UNIQUE KEY value (value)) ENGINE = InnoDB;",
    `INSERT INTO bench.cells VALUES ('hot', 0, 0), ('cas', 0, 0), ('probe', 0, 0), ${Array.from({ length: COUNTERS }, (_, k) => `('counter-${k}', 0, 0)`).join(", ")};`,
].join("\n");

/** One system as the workload and the checks see it. */
interface System {
    label: string;
    /** Node A's and node B's sockets. */
    sockets: [string, string];
    links: DelayLink[];
    /** Cut region B off / heal. */
    cut(): void;
    heal(): void;
    /** Whether replication runs (Galera: both Synced in a primary component of every member). */
    replicating(): Promise<{ running: boolean; errno: number }>;
    /** Whether both nodes hold everything either has (so differing checksums stay different). */
    caughtUp(): Promise<boolean>;
    /** Group/replication connections between members that bypass the proxies. */
    direct(): number;
    /** Each node's replication state in a few words, for the log when they do not agree. */
    describe(): Promise<string>;
}

async function checksums(socket: string): Promise<string | undefined> {
    const r = await query(socket, "CHECKSUM TABLE bench.cells, bench.claims EXTENDED;");
    return r.ok ? r.out.trim() : undefined;
}

function mismatchedTables(a: string | undefined, b: string | undefined): number {
    if (a === undefined || b === undefined) return 2;
    const rows = (s: string) => new Map(s.split("\n").map((l) => l.split("\t") as [string, string]));
    const ra = rows(a);
    const rb = rows(b);
    return [...ra.keys()].filter((k) => ra.get(k) !== rb.get(k)).length;
}

async function nodeRows(socket: string): Promise<NodeRows> {
    const cells: NodeRows["cells"] = {};
    const claims: NodeRows["claims"] = {};
    const c = await query(socket, "SELECT name, value, version FROM bench.cells ORDER BY name;");
    for (const l of c.out.split("\n").filter(Boolean)) {
        const [name, value, version] = l.split("\t");
        cells[name] = { value: Number(value), version: Number(version) };
    }
    const k = await query(socket, "SELECT value, id, region FROM bench.claims ORDER BY value;");
    for (const l of k.out.split("\n").filter(Boolean)) {
        const [value, id, region] = l.split("\t");
        claims[value] = { id, region };
    }
    return { cells, claims };
}

async function wsrepStatus(socket: string): Promise<Record<string, string>> {
    const r = await query(socket, "SHOW GLOBAL STATUS LIKE 'wsrep%';", { timeoutMs: 3000 });
    if (!r.ok) return {};
    return Object.fromEntries(r.out.split("\n").filter(Boolean).map((l) => l.split("\t") as [string, string]));
}

/** Established sockets accepted on one of `listeners` ("ip:port") whose peer is another member's address. */
function directSockets(listeners: readonly string[], memberHosts: readonly string[]): number {
    const out = execFileSync("ss", ["-tnH", "state", "established"], { encoding: "utf8" });
    let n = 0;
    for (const line of out.split("\n")) {
        const cols = line.trim().split(/\s+/);
        if (cols.length < 4) continue;
        const [local, peer] = cols.slice(-2);
        const peerHost = peer.slice(0, peer.lastIndexOf(":"));
        if (listeners.includes(local) && memberHosts.includes(peerHost) && !local.startsWith(`${peerHost}:`)) n += 1;
    }
    return n;
}

function nft(script: string): void {
    execFileSync("nft", ["-f", "-"], { input: script, stdio: ["pipe", "ignore", "pipe"] });
}

function dropNftTable(): void {
    spawnSync("nft", ["delete", "table", "ip", NFT_TABLE], { stdio: "ignore" });
}

/** A tiny deterministic PRNG (mulberry32), so a run's operation mix is reproducible. */
function prng(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
        s = (s + 0x6d2b79f5) >>> 0;
        let t = s;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/** One worker: operations against its region's node until `stop()`, each recorded. */
async function worker(session: SqlSession, region: Region, t0: number, stop: () => boolean, records: OpRecord[], claimsTried: Set<string>, seed: number): Promise<void> {
    const random = prng(seed);
    const now = () => performance.now() - t0;
    while (!stop()) {
        const roll = random();
        let kind: OpKind = roll < 0.3 ? "hot" : roll < 0.6 ? "counter" : roll < 0.8 ? "claim" : "cas";
        const claim = `c-${Math.floor(now() / CLAIM_WINDOW_MS)}`;
        if (kind === "claim" && claimsTried.has(claim)) kind = "hot";
        let rec: OpRecord;
        if (kind === "hot") {
            const t = now();
            const r = await session.run("BEGIN; SELECT value FROM cells WHERE name = 'hot' FOR UPDATE; UPDATE cells SET value = value + 1 WHERE name = 'hot'; COMMIT;", OP_TIMEOUT_MS);
            rec = { region, kind, t, ms: now() - t, outcome: r.ok ? "acked" : "failed", ...(r.ok ? {} : { error: r.error }) };
        } else if (kind === "counter") {
            const key = `counter-${Math.floor(random() * COUNTERS)}`;
            const t = now();
            const r = await session.run(`UPDATE cells SET value = value + 1 WHERE name = '${key}';`, OP_TIMEOUT_MS);
            rec = { region, kind, key, t, ms: now() - t, outcome: r.ok ? "acked" : "failed", ...(r.ok ? {} : { error: r.error }) };
        } else if (kind === "claim") {
            claimsTried.add(claim);
            const t = now();
            const r = await session.run(`INSERT INTO claims (value, region) VALUES ('${claim}', '${region}');`, OP_TIMEOUT_MS);
            const outcome = r.ok ? "acked" : r.error === "1062" ? "rejected" : "failed";
            rec = { region, kind, key: claim, t, ms: now() - t, outcome, ...(r.ok ? {} : { error: r.error }) };
        } else {
            const t = now();
            const read = await session.run("SELECT version FROM cells WHERE name = 'cas';", OP_TIMEOUT_MS);
            if (!read.ok) {
                rec = { region, kind, t, ms: now() - t, outcome: "failed", error: read.error };
            } else {
                const version = Number(read.lines[0]);
                const tw = now();
                const r = await session.run(`UPDATE cells SET value = value + 1, version = version + 1 WHERE name = 'cas' AND version = ${version}; SELECT ROW_COUNT();`, OP_TIMEOUT_MS);
                const hit = r.ok && r.lines[0] === "1";
                rec = { region, kind, version, t: tw, ms: now() - tw, outcome: hit ? "acked" : r.ok ? "rejected" : "failed", ...(hit ? {} : { error: r.ok ? "cas-mismatch" : r.error }) };
            }
        }
        rec.t = Math.round(rec.t * 100) / 100;
        rec.ms = Math.round(rec.ms * 100) / 100;
        records.push(rec);
        await sleep(rec.outcome === "failed" ? BACKOFF_MS : THINK_MS);
    }
}

/** Median of `n` single autocommit writes on `socket`, one after the other (ms). */
async function idleCommit(socket: string, n: number): Promise<number | null> {
    const s = new SqlSession(socket, "bench");
    const ms: number[] = [];
    try {
        for (let i = 0; i < n; i++) {
            const t = performance.now();
            const r = await s.run("UPDATE cells SET value = value + 1 WHERE name = 'probe';", OP_TIMEOUT_MS);
            if (r.ok) ms.push(performance.now() - t);
        }
    } finally {
        await s.close();
    }
    ms.sort((p, q) => p - q);
    return ms.length ? Math.round(ms[Math.floor(ms.length / 2)] * 10) / 10 : null;
}

/** Waits until both nodes agree (checksums equal, replication running) or it is clear they never will, or the wait ends. */
async function converge(sys: System, deadline: number, started: number): Promise<{ afterMs: number | null; reason: string }> {
    let stuck = 0;
    for (;;) {
        const [ca, cb] = await Promise.all([checksums(sys.sockets[0]), checksums(sys.sockets[1])]);
        const rep = await sys.replicating();
        if (ca !== undefined && ca === cb && rep.running) return { afterMs: performance.now() - started, reason: "agree" };
        if (rep.errno !== 0 && !rep.running) return { afterMs: null, reason: `replication stopped with error ${rep.errno}` };
        // Both hold everything and still differ: nothing left to apply, they stay apart.
        if (ca !== undefined && cb !== undefined && ca !== cb && rep.running && (await sys.caughtUp())) {
            if (++stuck >= 3) return { afterMs: null, reason: "diverged: both caught up, rows differ" };
        } else stuck = 0;
        if (performance.now() > deadline) return { afterMs: null, reason: `not within the wait (${await sys.describe()})` };
        await sleep(250);
    }
}

function skipped(reason: string): ScenarioOutcome {
    return {
        report: { name: NAME, description: `Skipped: ${reason}.`, figures: [], loads: [] },
        timeline: buildTimeline(0, []),
    };
}

/** The conflict scenario (runs on 127.0.0.x; no lab). */
export const conflictBench: Scenario = {
    name: NAME,
    async run(ctx: BenchContext): Promise<ScenarioOutcome> {
        const why = missing();
        if (why) {
            ctx.log(`conflict bench skipped: ${why}`);
            return skipped(why);
        }
        const { steadyMs, cutMs } = conflictPhases(ctx.durationSec);
        const root = mkdtempSync(path.join(os.tmpdir(), "dns-rr-ha-conflict-"));
        const proxies: DelayProxy[] = [];
        const sessions: SqlSession[] = [];
        let galera: GaleraLocal | undefined;
        let baseline: BaselinePair | undefined;
        dropNftTable();
        try {
            const proxy = async (name: string, target: { host: string; port: number }) => {
                const p = await startDelayProxy({ name, target, delayMs: ONE_WAY_MS, sourceAddress: PROXY_SOURCE });
                proxies.push(p);
                return p;
            };
            const member = async (host: string): Promise<MemberAddress> => ({ host, port: await freePort(), group: await freePort(), ist: await freePort(), sst: await freePort() });
            const ga = await member(GALERA_HOSTS.a);
            const gb = await member(GALERA_HOSTS.b);
            const arb = { host: GALERA_HOSTS.arbitrator, group: await freePort() };

            // Galera: one proxy per (from, to:port); nft sends each such connection to its proxy.
            const rules: string[] = [];
            const groupHop = async (from: string, to: { host: string; port: number }, name: string) => {
                const p = await proxy(name, to);
                rules.push(`ip saddr ${from} ip daddr ${to.host} tcp dport ${to.port} redirect to :${p.port}`);
                // A member records a peer under the address its connection came from (the proxies'
                // source) with the peer's advertised port, and gossips it: make that address lead to
                // the peer through the same link too (every member's port is its own).
                rules.push(`ip saddr ${from} ip daddr ${PROXY_SOURCE} tcp dport ${to.port} redirect to :${p.port}`);
                return p;
            };
            // IST and SST: the sender's source address is not necessarily its node's; only the other data node sends them.
            const transferHop = async (to: { host: string; port: number }, name: string) => {
                const p = await proxy(name, to);
                rules.push(`ip saddr != ${PROXY_SOURCE} ip daddr ${to.host} tcp dport ${to.port} redirect to :${p.port}`);
                return p;
            };
            const at = (m: MemberAddress, port: number) => ({ host: m.host, port });
            const galeraAB = delayLink("galera A↔B", [
                await groupHop(gb.host, at(ga, ga.group), "B→A group"),
                await groupHop(ga.host, at(gb, gb.group), "A→B group"),
                await transferHop(at(ga, ga.ist), "→A ist"), await transferHop(at(ga, ga.sst), "→A sst"),
                await transferHop(at(gb, gb.ist), "→B ist"), await transferHop(at(gb, gb.sst), "→B sst"),
            ]);
            const galeraAArb = delayLink("galera A↔arbitrator", [
                await groupHop(ga.host, { host: arb.host, port: arb.group }, "A→arb group"),
                await groupHop(arb.host, at(ga, ga.group), "arb→A group"),
            ]);
            const galeraBArb = delayLink("galera B↔arbitrator", [
                await groupHop(gb.host, { host: arb.host, port: arb.group }, "B→arb group"),
                await groupHop(arb.host, at(gb, gb.group), "arb→B group"),
            ]);
            nft([`table ip ${NFT_TABLE} {`, "  chain output {", "    type nat hook output priority -100; policy accept;", ...rules.map((r) => `    ${r}`), "  }", "}", ""].join("\n"));

            // Baseline: each node replicates from a proxy in front of its peer.
            const bPorts = [await freePort(), await freePort()];
            const toB0 = await proxy("→baseline node A", { host: BASELINE_HOSTS[0], port: bPorts[0] });
            const toB1 = await proxy("→baseline node B", { host: BASELINE_HOSTS[1], port: bPorts[1] });
            const baselineAB = delayLink("baseline A↔B", [toB0, toB1]);

            ctx.log(`conflict bench: starting Galera (2 nodes + garbd, ${ONE_WAY_MS} ms one way through nft-redirected proxies) and the semisync baseline`);
            const started = await Promise.allSettled([
                startGaleraLocal({ root: path.join(root, "galera"), nodes: [ga, gb], arbitrator: arb, timing: LOCAL_TIMING, clusterName: "bench-conflict", log: ctx.log }),
                startBaselinePair({
                    root: path.join(root, "baseline"),
                    nodes: BASELINE_HOSTS.map((host, i) => ({ host, port: bPorts[i] })),
                    peerVia: (i) => (i === 0 ? { host: toB1.host, port: toB1.port } : { host: toB0.host, port: toB0.port }),
                    semisyncTimeoutMs: SEMISYNC_TIMEOUT_MS,
                    log: ctx.log,
                }),
            ]);
            if (started[0].status === "fulfilled") galera = started[0].value;
            if (started[1].status === "fulfilled") baseline = started[1].value;
            for (const s of started) if (s.status === "rejected") throw s.reason;
            const g = galera!;
            const bl = baseline!;

            const galeraListeners = [ga, gb].flatMap((m) => [m.group, m.ist, m.sst].map((p) => `${m.host}:${p}`)).concat(`${arb.host}:${arb.group}`);
            const systems: [System, System] = [
                {
                    label: LABEL_A,
                    sockets: [g.nodes[0]!.socket, g.nodes[1]!.socket],
                    links: [galeraAB, galeraAArb, galeraBArb],
                    cut: () => { galeraAB.cut(); galeraBArb.cut(); },
                    heal: () => { galeraAB.heal(); galeraBArb.heal(); },
                    replicating: async () => {
                        const s = await Promise.all(g.nodes.map((n) => wsrepStatus(n.socket)));
                        return { running: s.every((x) => x.wsrep_cluster_status === "Primary" && x.wsrep_local_state === "4" && x.wsrep_cluster_size === "3"), errno: 0 };
                    },
                    caughtUp: async () => {
                        const s = await Promise.all(g.nodes.map((n) => wsrepStatus(n.socket)));
                        return s[0]!.wsrep_last_committed !== undefined && s[0]!.wsrep_last_committed === s[1]!.wsrep_last_committed;
                    },
                    direct: () => directSockets(galeraListeners, Object.values(GALERA_HOSTS)),
                    describe: async () => (await Promise.all(g.nodes.map(async (n) => {
                        const x = await wsrepStatus(n.socket);
                        return `${n.name}: ${x.wsrep_cluster_status ?? "no answer"} ${x.wsrep_local_state_comment ?? ""} size=${x.wsrep_cluster_size ?? "?"} committed=${x.wsrep_last_committed ?? "?"}`;
                    }))).join("; "),
                },
                {
                    label: LABEL_B,
                    sockets: [bl.nodes[0]!.socket, bl.nodes[1]!.socket],
                    links: [baselineAB],
                    cut: () => baselineAB.cut(),
                    heal: () => baselineAB.heal(),
                    replicating: async () => {
                        const st = await Promise.all(bl.nodes.map(async (n) => parseBatch((await query(n.socket, "SHOW ALL SLAVES STATUS;", { header: true })).out)[0]));
                        const running = st.every((r) => r?.Slave_IO_Running === "Yes" && r.Slave_SQL_Running === "Yes");
                        const errno = st.map((r) => Number(r?.Last_SQL_Errno || r?.Last_IO_Errno || 0)).find((e) => e !== 0) ?? 0;
                        return { running, errno };
                    },
                    caughtUp: async () => {
                        const pos = await Promise.all(bl.nodes.map(async (n) => (await query(n.socket, "SELECT @@gtid_binlog_pos;")).out.trim().split(",").sort().join(",")));
                        return pos[0] === pos[1];
                    },
                    direct: () => directSockets(BASELINE_HOSTS.map((h, i) => `${h}:${bPorts[i]}`), [...BASELINE_HOSTS]),
                    describe: async () => (await Promise.all(bl.nodes.map(async (n) => {
                        const r = parseBatch((await query(n.socket, "SHOW ALL SLAVES STATUS;", { header: true })).out)[0];
                        return `${n.name}: io=${r?.Slave_IO_Running ?? "?"} sql=${r?.Slave_SQL_Running ?? "?"} errno=${r?.Last_SQL_Errno ?? "?"}`;
                    }))).join("; "),
                },
            ];
            const direct = systems.map((s) => s.direct());
            ctx.log(`conflict bench: inter-region connections bypassing the proxies: Galera ${direct[0]}, baseline ${direct[1]}; bytes through the links so far (Galera's SST included): ${systems.map((s) => s.links.reduce((n, l) => n + l.bytes(), 0)).join(" / ")}`);

            for (const s of systems) {
                const r = await query(s.sockets[0], SCHEMA);
                if (!r.ok) throw new Error(`${s.label}: schema: ${r.out}`);
            }
            const deadline = Date.now() + 20_000;
            while (!(await Promise.all(systems.map(async (s) => (await query(s.sockets[1], "SELECT COUNT(*) FROM bench.cells;")).out.trim() === String(3 + COUNTERS)))).every(Boolean)) {
                if (Date.now() > deadline) throw new Error("the schema did not reach node B of both systems");
                await sleep(200);
            }
            const idle = [await idleCommit(systems[0].sockets[0], 7), await idleCommit(systems[1].sockets[0], 7)];
            ctx.log(`conflict bench: one commit alone on node A: Galera ${idle[0]} ms, baseline ${idle[1]} ms (one round trip is ${2 * ONE_WAY_MS} ms)`);

            // The load: both systems at once, the same workers on each, the same timeline.
            ctx.log(`conflict bench: ${WORKERS_PER_REGION} workers per region per system; steady ${steadyMs / 1000} s, region B cut off ${cutMs / 1000} s, then heal`);
            const records: [OpRecord[], OpRecord[]] = [[], []];
            const firstErrorAt: [number | null, number | null] = [null, null];
            let stopping = false;
            const linkBytesBefore = systems.map((s) => s.links.reduce((n, l) => n + l.bytes(), 0));
            const t0 = performance.now();
            const runs = systems.flatMap((sys, si) => (["A", "B"] as const).flatMap((region, ri) => {
                const tried = new Set<string>();
                return Array.from({ length: WORKERS_PER_REGION }, (_, w) => {
                    const session = new SqlSession(sys.sockets[ri]!, "bench");
                    sessions.push(session);
                    return worker(session, region, t0, () => stopping, records[si], tried, 1000 * ri + w + 1);
                });
            }));
            const watch = (async () => {
                while (!stopping) {
                    await Promise.all(systems.map(async (s, i) => {
                        if (firstErrorAt[i] !== null) return;
                        const r = await s.replicating();
                        if (r.errno !== 0) firstErrorAt[i] = performance.now() - t0;
                    }));
                    await sleep(500);
                }
            })();
            await sleep(steadyMs);
            const cutAt = performance.now() - t0;
            ctx.log(`conflict bench: cut region B off at ${(cutAt / 1000).toFixed(1)} s`);
            systems.forEach((s) => s.cut());
            await sleep(cutMs);
            const healAt = performance.now() - t0;
            systems.forEach((s) => s.heal());
            stopping = true;
            ctx.log(`conflict bench: healed at ${(healAt / 1000).toFixed(1)} s; waiting for both nodes to agree (at most ${CONVERGE_WAIT_MS / 1000} s)`);
            const healedAt = performance.now();
            const [healA, healB] = await Promise.all(systems.map((s) => converge(s, healedAt + CONVERGE_WAIT_MS, healedAt)));
            await Promise.all([...runs, watch]);
            await Promise.all(sessions.map((s) => s.close()));
            ctx.log(`conflict bench: Galera ${healA!.afterMs === null ? healA!.reason : `agrees after ${(healA!.afterMs / 1000).toFixed(1)} s`}; baseline ${healB!.afterMs === null ? healB!.reason : `agrees after ${(healB!.afterMs / 1000).toFixed(1)} s`}`);
            const endAt = performance.now() - t0;

            const runsOut: SystemRun[] = await Promise.all(systems.map(async (s, i): Promise<SystemRun> => {
                const [ra, rb] = await Promise.all([nodeRows(s.sockets[0]), nodeRows(s.sockets[1])]);
                const [ca, cb] = await Promise.all([checksums(s.sockets[0]), checksums(s.sockets[1])]);
                const rep = await s.replicating();
                return {
                    records: records[i]!, cutAt, healAt, nodes: [ra, rb],
                    tablesMismatched: mismatchedTables(ca, cb),
                    replicationRunning: rep.running, replicationErrno: rep.errno,
                    healedAfterMs: (i === 0 ? healA : healB)!.afterMs,
                    firstReplicationErrorAt: firstErrorAt[i] ?? null,
                    idleCommitMs: idle[i] ?? null,
                    linkBytes: s.links.reduce((n, l) => n + l.bytes(), 0) - linkBytesBefore[i]!,
                    // Checked once the members were connected, and again at the end (after the reconnections of the heal).
                    directConnections: direct[i]! + s.direct(),
                };
            }));
            const [fa, fb] = runsOut.map(systemFigures);
            ctx.saveRecords?.("conflict-galera", records[0]);
            ctx.saveRecords?.("conflict-semisync", records[1]);
            const seconds = Math.ceil(endAt / 1000);
            const markers: Marker[] = [
                { t: cutAt / 1000, label: "region B cut off (Galera: A↔B, B↔arbitrator)" },
                { t: healAt / 1000, label: "heal; load stops" },
                ...([[LABEL_A, healA!], [LABEL_B, healB!]] as const).filter(([, h]) => h.afterMs !== null).map(([l, h]) => ({ t: (healAt + h.afterMs!) / 1000, label: `${l}: nodes agree` })),
            ];
            const loadSec = healAt / 1000;
            return {
                report: {
                    name: NAME,
                    description: [
                        `A: ${LABEL_A} (components/db renderers, bench/db/galeraLocal.ts); B: ${LABEL_B} (the pre-Galera design, bench/db/baselineMasterMaster.ts: GTID, semisync AFTER_SYNC, ${SEMISYNC_TIMEOUT_MS} ms timeout).`,
                        `Two regions on loopback, ${ONE_WAY_MS} ms one way between them through a Node delay proxy (Galera's group, IST and SST connections are sent to it by nftables redirect rules; the baseline's replicas connect to it); the arbitrator is a third region, ${ONE_WAY_MS} ms from both.`,
                        `${WORKERS_PER_REGION} clients per region on each system, each on its own region's node: a hot row (SELECT ... FOR UPDATE + UPDATE in a transaction), ${COUNTERS} counters (autocommit increments), claims of the same values from both regions (UNIQUE, a new value every ${CLAIM_WINDOW_MS} ms), compare-and-set on a version.`,
                        `Steady ${steadyMs / 1000} s, then region B cut off for ${cutMs / 1000} s (existing connections stall, new ones hang; Galera's node A keeps the arbitrator), heal, load stops, wait up to ${CONVERGE_WAIT_MS / 1000} s for both nodes to agree (CHECKSUM TABLE).`,
                        `Lost = acknowledged minus what the node shows (per row); a claim or compare-and-set acknowledged to both regions is a write the other region's acknowledgement overwrote or contradicts.`,
                        `Convergence: Galera ${healA!.reason}; baseline ${healB!.reason}.`,
                    ].join(" "),
                    figures: conflictFigureRows({ label: LABEL_A, f: fa! }, { label: LABEL_B, f: fb! }, CONVERGE_WAIT_MS / 1000),
                    loads: [
                        { label: `${LABEL_A}: all writes (ok = acknowledged)`, stats: overallStats(asRequestRecords(records[0], "galera"), loadSec) },
                        { label: `${LABEL_B}: all writes (ok = acknowledged)`, stats: overallStats(asRequestRecords(records[1], "semisync"), loadSec) },
                    ],
                    markers,
                },
                timeline: buildTimeline(seconds, [...opSeries(records[0], seconds, "galera"), ...opSeries(records[1], seconds, "semisync")], markers),
            };
        } finally {
            await Promise.all(sessions.map((s) => s.close()));
            await Promise.all([galera?.stop(), baseline?.stop()]);
            await Promise.all(proxies.map((p) => p.close()));
            dropNftTable();
            rmSync(root, { recursive: true, force: true });
        }
    },
};

/**
 * What the lab's status, its e2e tests and the bench ask the Galera cluster: each node's state
 * (the stack's own `dns-rr-ha-db-health`), the arbitrator's service, SQL as root on a node, table
 * checksums, and the demo app's conflicting writes (`/db-op.json`) raced from an app server.
 */
import { execFile } from "child_process";
import * as path from "path";
import { LabHostState, LabState } from "../labState";
import { shellQuote } from "../../components/wiring/wiringScript";
import { inHost, inHostAsync } from "./labClient";
import type { DbOpDriverInput, DbOpRecord } from "./dbOpDriver";
import type { RaceRows } from "./dbOutcome";

export const DB_HEALTH = "/usr/local/sbin/dns-rr-ha-db-health";
export const WIRE_DB = "/usr/local/sbin/dns-rr-ha-wire-db";
export const GARBD_SERVICE = "dns-rr-ha-garbd";
/** The demo app's tables: what "every node holds the same rows" compares. */
export const APP_TABLES = ["app.counters", "app.claims", "app.cells", "app.kv", "app.visits"] as const;

const DRIVER = path.join(__dirname, "dbOpDriver.ts");
const TSX = require.resolve("tsx");

export function dbNodes(state: LabState): LabHostState[] {
    return state.hosts.filter((h) => h.role === "db");
}

/** The app servers of a region. */
export function appServers(state: LabState, region?: string): LabHostState[] {
    return state.hosts.filter((h) => h.role === "app" && (region === undefined || h.region === region));
}

/** What `dns-rr-ha-db-health` prints (components/db/scripts/db-health.sh), with its exit code. */
export interface DbHealth {
    /** 0 healthy, 1 a member missing, 3 not serving (non-primary, joining), 2 server down; 124 the script timed out; 255 no container to run it in. */
    readonly code: number;
    readonly healthy: boolean;
    /** wsrep_local_state_comment (Synced, Joining, Donor/Desynced, ...), "down", or "unreachable" (no answer from the host). */
    readonly state: string;
    readonly clusterStatus: string | null;
    readonly ready: boolean;
    readonly clusterSize: number | null;
    readonly expectedSize: number | null;
    readonly lastCommitted: number | null;
    readonly problems: readonly string[];
    /** Synced in the primary component and ready: the node takes the app's queries. */
    readonly serving: boolean;
    /**
     * Serving, or a donor or Joined member in the primary component and ready: what the app's DB
     * path (app_db in components/app/demo/lib.php) falls back to when no node of its list is Synced.
     */
    readonly fallback: boolean;
}

/** Parses db-health's output; anything else (no JSON: the host did not answer) is "unreachable". */
export function parseDbHealth(out: string, code: number): DbHealth {
    const start = out.indexOf("{");
    let j: Record<string, unknown> | undefined;
    try {
        j = start >= 0 ? (JSON.parse(out.slice(start, out.indexOf("\n", start) >= 0 ? out.indexOf("\n", start) : undefined)) as Record<string, unknown>) : undefined;
    } catch {
        j = undefined;
    }
    if (!j) {
        const why = code === 124 ? "no answer within the timeout" : out.trim().split("\n")[0] || `exit ${code}`;
        return { code, healthy: false, state: "unreachable", clusterStatus: null, ready: false, clusterSize: null, expectedSize: null, lastCommitted: null, problems: [why], serving: false, fallback: false };
    }
    const num = (k: string) => (typeof j![k] === "number" ? (j![k] as number) : null);
    const state = typeof j.state === "string" ? j.state : "?";
    const clusterStatus = typeof j.cluster_status === "string" && j.cluster_status !== "" ? j.cluster_status : null;
    const ready = j.ready === true;
    return {
        code, healthy: j.healthy === true, state, clusterStatus, ready,
        clusterSize: num("cluster_size"), expectedSize: num("expected_size"), lastCommitted: num("last_committed"),
        problems: Array.isArray(j.problems) ? j.problems.map(String) : [],
        serving: state === "Synced" && clusterStatus === "Primary" && ready,
        fallback: ["Synced", "Donor/Desynced", "Joined"].includes(state) && clusterStatus === "Primary" && ready,
    };
}

/** One node's health, now. */
export function dbHealth(state: LabState, host: string): DbHealth {
    const r = inHost(state, host, `timeout 8 ${DB_HEALTH}`);
    return parseDbHealth(r.out, r.code);
}

/** {@link dbHealth} without blocking (status asks every node at once). */
export async function dbHealthAsync(state: LabState, host: string, timeoutMs = 5_000): Promise<DbHealth> {
    const r = await inHostAsync(state, host, DB_HEALTH, timeoutMs);
    return parseDbHealth(r.out, r.code);
}

/** The arbitrator's unit on a host: `active (running)`, `failed (failed)`, `not installed`, or `unreachable`. */
export interface ArbitratorState {
    readonly host: string;
    readonly region: string;
    readonly installed: boolean;
    /** ActiveState (SubState), "not installed", or "unreachable". */
    readonly service: string;
    readonly active: boolean;
    readonly restarts: number | null;
}

export async function arbitratorState(state: LabState, host: LabHostState, timeoutMs = 5_000): Promise<ArbitratorState> {
    const r = await inHostAsync(state, host.name, `systemctl show -p LoadState,ActiveState,SubState,NRestarts ${GARBD_SERVICE}`, timeoutMs);
    const v = Object.fromEntries(r.out.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    if (r.code !== 0 || v.ActiveState === undefined) return { host: host.name, region: host.region, installed: true, service: "unreachable", active: false, restarts: null };
    if (v.LoadState === "not-found") return { host: host.name, region: host.region, installed: false, service: "not installed", active: false, restarts: null };
    return { host: host.name, region: host.region, installed: true, service: `${v.ActiveState} (${v.SubState})`, active: v.ActiveState === "active", restarts: v.NRestarts !== undefined ? Number(v.NRestarts) : null };
}

/** Runs SQL as root on a DB droplet; rows as tab-separated lines. Throws with the client's message. */
export function sql(state: LabState, host: string, query: string): string[] {
    const r = inHost(state, host, `mariadb --batch --skip-column-names -e ${shellQuote(query)}`);
    if (r.code !== 0) throw new Error(`SQL on ${host} failed: ${r.out.trim()}`);
    return r.out.split("\n").filter((l) => l !== "");
}

/** CHECKSUM TABLE of the demo app's tables on a node ("table\tchecksum; ..."); a missing table reads NULL. */
export function appChecksums(state: LabState, host: string): string {
    return sql(state, host, `CHECKSUM TABLE ${APP_TABLES.join(", ")} EXTENDED`).join("; ");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until every DB node is healthy (Synced, Primary, the cluster complete); returns how long it took. */
export async function waitClusterHealthy(state: LabState, timeoutMs: number): Promise<number> {
    const t = Date.now();
    for (;;) {
        const all = await Promise.all(dbNodes(state).map((d) => dbHealthAsync(state, d.name)));
        if (all.every((h) => h.code === 0)) return Date.now() - t;
        if (Date.now() - t > timeoutMs) throw new Error(`DB cluster not healthy after ${timeoutMs} ms: ${JSON.stringify(all)}`);
        await sleep(250);
    }
}

/**
 * Waits until every DB node returns the same checksums of the app's tables (a node still applying
 * write-sets, or not serving, differs or fails); returns the time it took and the values.
 */
export async function waitChecksumsEqual(state: LabState, timeoutMs: number): Promise<{ equal: boolean; ms: number; values: string[] }> {
    const t = Date.now();
    for (;;) {
        let values: string[];
        try {
            values = dbNodes(state).map((d) => appChecksums(state, d.name));
        } catch (e) {
            values = [(e as Error).message];
        }
        const equal = values.length === dbNodes(state).length && values.every((v) => v === values[0]);
        if (equal || Date.now() - t > timeoutMs) return { equal, ms: Date.now() - t, values };
        await sleep(250);
    }
}

/**
 * Runs the db-op driver (lab/testing/dbOpDriver.ts) in an app server's network namespace against
 * that server's own nginx: the writes go through the demo app's DB path (app_db, app_write).
 */
export function runDbOpsFrom(app: LabHostState, input: Omit<DbOpDriverInput, "base">): Promise<DbOpRecord[]> {
    const full: DbOpDriverInput = { ...input, base: `http://${app.privateIpv4}` };
    return new Promise((resolve, reject) => {
        execFile("ip", ["netns", "exec", path.basename(app.netns), process.execPath, "--import", TSX, DRIVER, JSON.stringify(full)],
            { encoding: "utf8", timeout: Math.max(60_000, full.untilEpochMs - Date.now() + 60_000), maxBuffer: 64 * 1024 * 1024 },
            (err, out, stderr) => (err ? reject(new Error(`db-op driver on ${app.name}: ${err.message}\n${stderr}`)) : resolve(JSON.parse(out) as DbOpRecord[])));
    });
}

/**
 * One race of conflicting writes: the driver on every app server given, `workers` loops each,
 * until `untilEpochMs`, all on the same names; resolves with every record, oldest first.
 */
export async function raceFrom(apps: readonly LabHostState[], names: RaceNames, o: { workers: number; untilEpochMs: number; ops?: DbOpDriverInput["ops"]; claimSlotMs?: number; timeoutMs?: number }): Promise<DbOpRecord[]> {
    const all = await Promise.all(apps.map((app) => runDbOpsFrom(app, {
        label: app.name, workers: o.workers, untilEpochMs: o.untilEpochMs, timeoutMs: o.timeoutMs ?? 20_000,
        ops: o.ops ?? ["incr", "claim", "cas"], claimSlotMs: o.claimSlotMs ?? 100, ...names,
    })));
    return all.flat().sort((a, b) => a.startEpochMs - b.startEpochMs);
}

/** The names one race of conflicting writes uses (new per race, so they start at nothing). */
export interface RaceNames {
    readonly counter: string;
    readonly claimPrefix: string;
    readonly cell: string;
}

/** Names for a race tagged `tag` (letters, digits and dashes only: they go into SQL as literals). */
export function raceNames(tag: string): RaceNames {
    if (!/^[A-Za-z0-9-]{1,60}$/.test(tag)) throw new Error(`race tag ${JSON.stringify(tag)}: letters, digits and dashes only`);
    return { counter: `ctr-${tag}`, claimPrefix: `claim-${tag}`, cell: `cell-${tag}` };
}

/** What a node holds of a race's names (see lab/testing/dbOutcome.ts judgeRace). */
export function raceRows(state: LabState, host: string, names: RaceNames): RaceRows {
    const counter = sql(state, host, `SELECT n FROM app.counters WHERE name = '${names.counter}'`)[0];
    const claims = sql(state, host, `SELECT value, host FROM app.claims WHERE value LIKE '${names.claimPrefix}-%' ORDER BY value`).map((l) => {
        const [value, h] = l.split("\t");
        return { value: value!, host: h! };
    });
    const cell = sql(state, host, `SELECT value, version FROM app.cells WHERE name = '${names.cell}'`)[0];
    return {
        counter: counter === undefined ? null : Number(counter),
        claims,
        cell: cell === undefined ? null : { value: cell.split("\t")[0]!, version: Number(cell.split("\t")[1]) },
    };
}

/** One health sample of one node. */
export interface HealthSample {
    readonly epochMs: number;
    readonly host: string;
    readonly health: DbHealth;
}

/**
 * Asks `hosts`' db-health every `everyMs` (all at once per round) until `stop()`; resolves with
 * every sample. The tests read from it when a node stopped or started serving.
 */
export function sampleHealth(state: LabState, hosts: readonly string[], everyMs = 200): { stop(): Promise<HealthSample[]> } {
    const samples: HealthSample[] = [];
    let running = true;
    const loop = (async () => {
        while (running) {
            const round = await Promise.all(hosts.map(async (host) => ({ epochMs: Date.now(), host, health: await dbHealthAsync(state, host, 3_000) })));
            samples.push(...round);
            await sleep(everyMs);
        }
    })();
    return { stop: async () => { running = false; await loop; return samples; } };
}

/** The first sample of `host` at or after `afterEpochMs` that satisfies `pred`. */
export function firstSample(samples: readonly HealthSample[], host: string, afterEpochMs: number, pred: (h: DbHealth) => boolean): HealthSample | undefined {
    return samples.find((s) => s.host === host && s.epochMs >= afterEpochMs && pred(s.health));
}

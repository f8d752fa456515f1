/**
 * The bench's own launcher of a local Galera cluster (system A of the conflict bench): like
 * components/db/testing/localMariadb.ts `startLocalCluster`, and with the same renderers
 * (dbNodeMyCnfSettings + renderMyCnf, garbdArgs), but each member on its own loopback address
 * (127.0.0.2, 127.0.0.3, ... all loopback on Linux), so the traffic between two members can be
 * told apart by its addresses and sent through the bench's delay links (see {@link galeraLinks}
 * in conflictBench.ts). The harness cannot be told to do that and components/ is not the bench's
 * to change; this file reuses its exported helpers instead.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { dbNodeMyCnfSettings, renderMyCnf, type GaleraTiming, type MyCnfSettings } from "../../components/db/myCnf";
import { garbdArgs } from "../../components/db/arbitrator";
import { isSyncedStatus, sleep, socketClient, wsrepStatus } from "../../components/db/testing/localMariadb";

/** Where one member listens: its own loopback address, MariaDB's port and the Galera ports. */
export interface MemberAddress {
    readonly host: string;
    readonly port: number;
    readonly group: number;
    readonly ist: number;
    readonly sst: number;
}

/** A running data node. */
export interface GaleraNode {
    readonly name: string;
    readonly settings: MyCnfSettings;
    readonly socket: string;
    readonly address: MemberAddress;
    readonly pid: number;
    /** Run SQL as root over the socket (batch output, no column names). */
    sql(text: string): string;
    /** The node's wsrep_* status (empty when it does not answer). */
    wsrep(): Record<string, string>;
    /** Stop it (SIGTERM, SIGKILL after 20 s). */
    stop(): Promise<void>;
}

/** A running local cluster (data nodes + optional arbitrator). */
export interface GaleraLocal {
    readonly nodes: GaleraNode[];
    readonly arbitrator?: { readonly host: string; readonly group: number; readonly pid: number };
    /** Stop every process it started (by PID) and delete its directory. */
    stop(): Promise<void>;
}

/** Options of {@link startGaleraLocal}. */
export interface GaleraLocalOptions {
    /** The directory everything goes in (created; deleted by stop()). */
    readonly root: string;
    /** One per data node. */
    readonly nodes: readonly MemberAddress[];
    /** The arbitrator's address and group port, if any. */
    readonly arbitrator?: { readonly host: string; readonly group: number };
    readonly timing: GaleraTiming;
    readonly clusterName: string;
    /** Progress lines. */
    readonly log?: (line: string) => void;
}

function exited(child: ChildProcess): boolean {
    return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
    if (exited(child)) return Promise.resolve(true);
    return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        child.once("exit", () => {
            clearTimeout(timer);
            resolve(true);
        });
    });
}

async function halt(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
    if (exited(child)) return;
    child.kill(signal);
    if (!(await waitForExit(child, graceMs))) {
        child.kill("SIGKILL");
        await waitForExit(child, 5_000);
    }
}

/**
 * Starts node 0 (bootstrap), then every other node (empty datadir, mariabackup SST), then the
 * arbitrator; resolves once all are Synced in one primary component of the expected size.
 * Stops what it started when anything fails.
 */
export async function startGaleraLocal(o: GaleraLocalOptions): Promise<GaleraLocal> {
    mkdirSync(o.root, { recursive: true });
    const members = [...o.nodes.map((n) => `${n.host}:${n.group}`), ...(o.arbitrator ? [`${o.arbitrator.host}:${o.arbitrator.group}`] : [])];
    const children: ChildProcess[] = [];
    const nodes: GaleraNode[] = [];
    let garbd: ChildProcess | undefined;
    const stop = async () => {
        if (garbd) await halt(garbd, "SIGINT", 5_000);
        await Promise.all(nodes.map((n) => n.stop()));
        for (const c of children) await halt(c, "SIGKILL", 5_000);
        rmSync(o.root, { recursive: true, force: true });
    };
    try {
        for (const [i, addr] of o.nodes.entries()) {
            const name = `node-${i}`;
            const dir = path.join(o.root, name);
            mkdirSync(path.join(dir, "tmp"), { recursive: true });
            const settings = dbNodeMyCnfSettings({
                nodeIndex: i,
                nodeCount: o.nodes.length,
                bindAddress: addr.host,
                datadir: path.join(dir, "data"),
                memoryMb: 256,
                port: addr.port,
                galeraPorts: { group: addr.group, ist: addr.ist, sst: addr.sst },
                socket: path.join(dir, "mysqld.sock"),
                pidFile: path.join(dir, "mysqld.pid"),
                logError: path.join(dir, "error.log"),
                tmpdir: path.join(dir, "tmp"),
                clusterName: o.clusterName,
                nodeName: name,
                clusterMembers: members,
                gcacheMb: 64,
                timing: o.timing,
            });
            const cnf = path.join(dir, "my.cnf");
            // mariabackup SST archives its logs in /tmp/sst_log_archive by default: keep them with the node.
            writeFileSync(cnf, `${renderMyCnf(settings)}\n[sst]\nsst-log-archive-dir = ${path.join(dir, "sst-log-archive")}\n`);
            const socket = settings.socket!;
            const errorLog = () => (existsSync(settings.logError) ? readFileSync(settings.logError, "utf8").slice(-3000) : "(no error log)");
            if (i === 0) {
                const install = spawnSync("mariadb-install-db", [`--defaults-file=${cnf}`, "--user=root", "--auth-root-authentication-method=socket", "--skip-test-db"], { encoding: "utf8" });
                if (install.status !== 0) throw new Error(`mariadb-install-db for ${name} exited ${install.status}:\n${install.stdout}${install.stderr}\n${errorLog()}`);
            } else {
                mkdirSync(settings.datadir, { recursive: true });
            }
            // --user=root: mariadbd refuses to run as root otherwise (as the harness does).
            const child = spawn("mariadbd", [`--defaults-file=${cnf}`, "--user=root", ...(i === 0 ? ["--wsrep-new-cluster"] : [])], { detached: true, stdio: "ignore", cwd: dir });
            children.push(child);
            const client = (args: string[], input: string) => socketClient(socket, args, input);
            const wsrep = () => wsrepStatus(socket);
            o.log?.(`galera: starting ${name} on ${addr.host}:${addr.port} (group ${addr.group})${i === 0 ? ", bootstrapping" : ", joining with an SST"}`);
            const deadline = Date.now() + 120_000;
            for (;;) {
                if (isSyncedStatus(wsrep())) break;
                if (exited(child) || Date.now() > deadline) throw new Error(`${name} did not become Synced (exit ${child.exitCode ?? child.signalCode ?? "none"}):\n${errorLog()}`);
                await sleep(200);
            }
            nodes.push({
                name, settings, socket, address: addr, pid: child.pid!,
                sql: (text) => client(["--batch", "--skip-column-names"], text),
                wsrep,
                stop: () => halt(child, "SIGTERM", 20_000),
            });
        }
        if (o.arbitrator) {
            const a = o.arbitrator;
            const args = garbdArgs({ clusterName: o.clusterName, nodeName: "arbitrator", listenAddress: a.host, port: a.group, segment: o.nodes.length, dataNodes: o.nodes.map((n) => `${n.host}:${n.group}`), timing: o.timing });
            // Its own cwd: garbd writes gvwstate.dat into the directory it runs in.
            const dir = path.join(o.root, "garbd");
            mkdirSync(dir, { recursive: true });
            garbd = spawn("garbd", [...args, "--log", path.join(dir, "garbd.log")], { detached: true, stdio: "ignore", cwd: dir });
            children.push(garbd);
            const expected = String(o.nodes.length + 1);
            const deadline = Date.now() + 30_000;
            while (nodes[0]!.wsrep().wsrep_cluster_size !== expected) {
                if (exited(garbd) || Date.now() > deadline) {
                    const log = existsSync(path.join(dir, "garbd.log")) ? readFileSync(path.join(dir, "garbd.log"), "utf8").slice(-2000) : "";
                    throw new Error(`the arbitrator did not join (cluster size ${nodes[0]!.wsrep().wsrep_cluster_size ?? "?"}):\n${log}`);
                }
                await sleep(200);
            }
        }
    } catch (e) {
        await stop();
        throw e;
    }
    return {
        nodes,
        ...(o.arbitrator && garbd ? { arbitrator: { ...o.arbitrator, pid: garbd.pid! } } : {}),
        stop,
    };
}

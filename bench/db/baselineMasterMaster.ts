/**
 * The bench's BASELINE ONLY: the pre-Galera database design ("today's" MariaDB master-master with
 * semi-synchronous replication), kept here so the conflict bench can run it side by side with the
 * Galera tier that replaced it. Not used by the program. A minimal copy of what
 * components/db/myCnf.ts, components/db/replicationSql.ts and the test harness's
 * startReplicatingCluster rendered before Galera (git history, the commit before the Galera tier):
 * GTID with one domain per node, disjoint auto-increment sequences, log_slave_updates,
 * gtid_strict_mode, semisync with AFTER_SYNC and a 1000 ms timeout, one named replication
 * connection per peer with MASTER_USE_GTID=slave_pos. No TLS (the bench's traffic stays on
 * loopback). Each node replicates from its peer through the address given, e.g. a delay proxy.
 */
import { spawn, spawnSync, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { clientArgs, parseBatch, sleep, waitUntil } from "../../components/db/testing/localMariadb";
import { sqlString } from "../../components/db/sqlString";

/** What one baseline node needs. */
export interface BaselineNodeSettings {
    /** 0-based slot: server_id, gtid_domain_id = slot + 1, auto_increment_offset = slot + 1. */
    readonly nodeIndex: number;
    readonly bindAddress: string;
    readonly port: number;
    readonly dir: string;
    /** rpl_semi_sync_master_timeout, ms (the old default: 1000). */
    readonly semisyncTimeoutMs: number;
}

/** The old design's fixed auto_increment_increment (headroom, not the node count). */
export const BASELINE_AUTO_INCREMENT_INCREMENT = 10;

/** The `[mariadbd]` config of a baseline node (the old renderMyCnf, semisync durability, no TLS). */
export function renderBaselineMyCnf(s: BaselineNodeSettings): string {
    const id = s.nodeIndex + 1;
    return [
        "# dns-rr-ha bench baseline: the pre-Galera master-master design (bench/db/baselineMasterMaster.ts).",
        "[mariadbd]",
        "log_basename = dns-rr-ha",
        `pid_file = ${path.join(s.dir, "mysqld.pid")}`,
        `log_error = ${path.join(s.dir, "error.log")}`,
        `bind_address = ${s.bindAddress}`,
        `port = ${s.port}`,
        `socket = ${path.join(s.dir, "mysqld.sock")}`,
        `tmpdir = ${path.join(s.dir, "tmp")}`,
        "skip_name_resolve = ON",
        "max_connections = 200",
        `datadir = ${path.join(s.dir, "data")}`,
        "innodb_buffer_pool_size = 128M",
        "innodb_flush_log_at_trx_commit = 1",
        "sync_binlog = 1",
        "# Identity: unique per node; every node writes its own GTID domain.",
        `server_id = ${id}`,
        `gtid_domain_id = ${id}`,
        "# Writes on every node: disjoint auto-increment sequences.",
        `auto_increment_increment = ${BASELINE_AUTO_INCREMENT_INCREMENT}`,
        `auto_increment_offset = ${id}`,
        "read_only = OFF",
        "log_bin = dns-rr-ha-bin",
        "binlog_format = ROW",
        "log_slave_updates = ON",
        "binlog_expire_logs_seconds = 604800",
        "relay_log = dns-rr-ha-relay-bin",
        "relay_log_index = dns-rr-ha-relay-bin.index",
        "relay_log_recovery = ON",
        "gtid_ignore_duplicates = ON",
        "gtid_strict_mode = ON",
        "slave_parallel_threads = 4",
        "slave_net_timeout = 30",
        "master_retry_count = 100000000",
        "# Durability: semi-synchronous; a commit returns once the peer has it in its relay log, or after the timeout.",
        "rpl_semi_sync_master_enabled = ON",
        "rpl_semi_sync_slave_enabled = ON",
        "rpl_semi_sync_master_wait_point = AFTER_SYNC",
        `rpl_semi_sync_master_timeout = ${s.semisyncTimeoutMs}`,
        "rpl_semi_sync_master_wait_no_slave = ON",
        "sync_relay_log = 1",
        "",
    ].join("\n");
}

/** The replication account (node-local, sql_log_bin=0, as the old renderUsersSql did). */
export function renderBaselineUsersSql(user: string, password: string, hostPattern: string): string {
    const who = `${sqlString(user)}@${sqlString(hostPattern)}`;
    return [
        "SET SESSION sql_log_bin = 0;",
        `CREATE USER IF NOT EXISTS ${who} IDENTIFIED BY ${sqlString(password)};`,
        `GRANT REPLICATION SLAVE ON *.* TO ${who};`,
        "",
    ].join("\n");
}

/** One named, GTID-based replication connection to the peer at `host:port` (the old renderReplicationSql, one peer). */
export function renderBaselineReplicationSql(peer: { name: string; host: string; port: number }, user: string, password: string): string {
    const name = sqlString(peer.name);
    return [
        "SET SESSION sql_log_bin = 0;",
        `CHANGE MASTER ${name} TO MASTER_HOST = ${sqlString(peer.host)}, MASTER_PORT = ${peer.port},` +
            ` MASTER_USER = ${sqlString(user)}, MASTER_PASSWORD = ${sqlString(password)},` +
            " MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 5;",
        `START SLAVE ${name};`,
        "",
    ].join("\n");
}

/** A running baseline node. */
export interface BaselineNode {
    readonly name: string;
    readonly socket: string;
    readonly host: string;
    readonly port: number;
    readonly pid: number;
    sql(text: string): string;
    rows(query: string): Record<string, string>[];
    /** Its replication connection's state. */
    replication(): { io: string; sql: string; errno: number; error: string } | undefined;
    stop(): Promise<void>;
}

/** A running pair. */
export interface BaselinePair {
    readonly nodes: BaselineNode[];
    stop(): Promise<void>;
}

/** Options of {@link startBaselinePair}. */
export interface BaselinePairOptions {
    readonly root: string;
    /** Where each node listens. */
    readonly nodes: readonly { readonly host: string; readonly port: number }[];
    /** Where node i reaches its peer (a delay proxy in front of the peer's port). */
    readonly peerVia: (nodeIndex: number) => { host: string; port: number };
    readonly semisyncTimeoutMs: number;
    readonly log?: (line: string) => void;
}

const REPL_USER = "repl";
const REPL_PASSWORD = "bench-repl-pw";

function exited(c: ChildProcess): boolean {
    return c.exitCode !== null || c.signalCode !== null;
}

async function halt(c: ChildProcess, graceMs: number): Promise<void> {
    if (exited(c)) return;
    const gone = new Promise<void>((resolve) => c.once("exit", () => resolve()));
    c.kill("SIGTERM");
    const timer = setTimeout(() => c.kill("SIGKILL"), graceMs);
    await gone;
    clearTimeout(timer);
}

/** Starts both nodes, then each one replicating from the other through `peerVia`; resolves once both connections run. */
export async function startBaselinePair(o: BaselinePairOptions): Promise<BaselinePair> {
    mkdirSync(o.root, { recursive: true });
    const nodes: BaselineNode[] = [];
    const children: ChildProcess[] = [];
    const stop = async () => {
        await Promise.all(children.map((c) => halt(c, 20_000)));
        rmSync(o.root, { recursive: true, force: true });
    };
    try {
        await Promise.all(o.nodes.map(async (addr, i) => {
            const name = `node-${i}`;
            const dir = path.join(o.root, name);
            mkdirSync(path.join(dir, "tmp"), { recursive: true });
            const cnf = path.join(dir, "my.cnf");
            writeFileSync(cnf, renderBaselineMyCnf({ nodeIndex: i, bindAddress: addr.host, port: addr.port, dir, semisyncTimeoutMs: o.semisyncTimeoutMs }));
            const errorLog = () => {
                const f = path.join(dir, "error.log");
                return existsSync(f) ? readFileSync(f, "utf8").slice(-3000) : "(no error log)";
            };
            const install = spawnSync("mariadb-install-db", [`--defaults-file=${cnf}`, "--user=root", "--auth-root-authentication-method=socket", "--skip-test-db"], { encoding: "utf8" });
            if (install.status !== 0) throw new Error(`mariadb-install-db for baseline ${name} exited ${install.status}:\n${install.stdout}${install.stderr}\n${errorLog()}`);
            o.log?.(`baseline: starting ${name} on ${addr.host}:${addr.port}`);
            const child = spawn("mariadbd", [`--defaults-file=${cnf}`, "--user=root"], { detached: true, stdio: "ignore", cwd: dir });
            children.push(child);
            const socket = path.join(dir, "mysqld.sock");
            const client = (args: string[], input: string) => execFileSync("mariadb", [...clientArgs(socket), ...args], { input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
            const deadline = Date.now() + 60_000;
            for (;;) {
                try {
                    client([], "SELECT 1;");
                    break;
                } catch {
                    if (exited(child) || Date.now() > deadline) throw new Error(`baseline ${name} did not come up:\n${errorLog()}`);
                    await sleep(200);
                }
            }
            const rows = (q: string) => parseBatch(client(["--batch"], q));
            nodes[i] = {
                name, socket, host: addr.host, port: addr.port, pid: child.pid!,
                sql: (text) => client(["--batch", "--skip-column-names"], text),
                rows,
                replication: () => {
                    const r = rows("SHOW ALL SLAVES STATUS")[0];
                    return r ? { io: r.Slave_IO_Running ?? "", sql: r.Slave_SQL_Running ?? "", errno: Number(r.Last_SQL_Errno || r.Last_IO_Errno || 0), error: r.Last_SQL_Error || r.Last_IO_Error || "" } : undefined;
                },
                stop: () => halt(child, 20_000),
            };
        }));
        // The proxies connect from another loopback address than the nodes': any 127.x host.
        for (const n of nodes) n.sql(renderBaselineUsersSql(REPL_USER, REPL_PASSWORD, "127.%"));
        nodes.forEach((n, i) => {
            const via = o.peerVia(i);
            n.sql(renderBaselineReplicationSql({ name: `node-${1 - i}`, host: via.host, port: via.port }, REPL_USER, REPL_PASSWORD));
        });
        await waitUntil("baseline replication running both ways", () => nodes.every((n) => {
            const r = n.replication();
            return r?.io === "Yes" && r.sql === "Yes";
        }), 30_000, () => nodes.map((n) => `${n.name}: ${JSON.stringify(n.replication())}`).join("\n"));
    } catch (e) {
        await stop();
        throw e;
    }
    return { nodes, stop };
}

/**
 * Test helper: throw-away MariaDB servers on 127.0.0.1, each in its own temp
 * dir (datadir, unix socket, pid file, error log), configured by a config
 * rendered with {@link renderMyCnf}. Used by the db component's tests only.
 */
import { spawn, spawnSync, execFileSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { dbNodeMyCnfSettings, renderMyCnf, type MyCnfSettings } from "../myCnf";
import { cidrToMariaDbHost } from "../mariaDbHost";
import { renderReplicationSql, renderUsersSql } from "../replicationSql";
import { dbScriptSourcePath } from "../dbScripts";

/** A running test server. */
export interface LocalMariadb {
  /** Settings its config was rendered from. */
  readonly settings: MyCnfSettings;
  /** Temp dir holding everything of this server. */
  readonly dir: string;
  /** Unix socket for root access. */
  readonly socket: string;
  /** TCP port on 127.0.0.1. */
  readonly port: number;
  /** Run SQL (may contain DELIMITER lines) as root over the socket; returns batch output without column names. */
  sql(text: string): string;
  /** Rows of a query as objects keyed by column name. */
  rows(query: string): Record<string, string>[];
  /** Stop the server (SIGTERM, then SIGKILL after 15 s) and delete its temp dir. */
  stop(): Promise<void>;
}

/** Options of {@link startLocalMariadb}. */
export interface LocalMariadbOptions {
  readonly nodeIndex: number;
  readonly nodeCount: number;
  /** Extra settings overrides. */
  readonly overrides?: Partial<MyCnfSettings>;
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Promise-based sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Arguments for the `mariadb` client reaching a test server as root over its socket. */
export function clientArgs(socket: string): string[] {
  // --no-defaults: the host's /etc/mysql client config must not influence tests.
  return ["--no-defaults", `--socket=${socket}`, "--user=root", "--default-character-set=utf8mb4"];
}

/** Parse `mariadb --batch` output with a header line into objects. */
export function parseBatch(output: string): Record<string, string>[] {
  const lines = output.split("\n").filter((l) => l.length > 0);
  if (lines.length === 0) return [];
  const header = lines[0].split("\t");
  return lines.slice(1).map((line) => {
    const cells = line.split("\t");
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ""]));
  });
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Initialise and start one server (mariadb-install-db with socket auth for
 * root, then mariadbd in the background) and wait until it answers.
 */
export async function startLocalMariadb(options: LocalMariadbOptions): Promise<LocalMariadb> {
  const dir = mkdtempSync(path.join(tmpdir(), "dns-rr-ha-db-"));
  const socket = path.join(dir, "mysqld.sock");
  const port = await freePort();
  const tmp = path.join(dir, "tmp");
  mkdirSync(tmp);
  const settings = dbNodeMyCnfSettings({
    nodeIndex: options.nodeIndex,
    nodeCount: options.nodeCount,
    bindAddress: "127.0.0.1",
    datadir: path.join(dir, "data"),
    memoryMb: 256,
    port,
    socket,
    pidFile: path.join(dir, "mysqld.pid"),
    logError: path.join(dir, "error.log"),
    // Its own: a server starting deletes the `#sql*` temporary files of another bootstrapping in a shared /tmp.
    tmpdir: tmp,
    ...options.overrides,
  });
  const cnf = path.join(dir, "my.cnf");
  writeFileSync(cnf, renderMyCnf(settings));
  let child: ChildProcess | undefined;
  try {
    const installArgs = [`--defaults-file=${cnf}`, "--user=root", "--auth-root-authentication-method=socket", "--skip-test-db"];
    const install = spawnSync("mariadb-install-db", installArgs, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
    if (install.status !== 0) {
      // Its own output rarely says why; the server's error log does.
      const log = existsSync(settings.logError) ? readFileSync(settings.logError, "utf8") : "(no error log)";
      throw new Error(`mariadb-install-db ${installArgs.join(" ")} exited ${install.status ?? install.signal}:\n${`${install.stdout}${install.stderr}`.slice(-2000)}\nerror log:\n${log.slice(-3000)}`);
    }
    // --user=root: mariadbd refuses to run as root otherwise; this is a test box.
    child = spawn("mariadbd", [`--defaults-file=${cnf}`, "--user=root"], { detached: true, stdio: "ignore" });
    const started = child;
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        execFileSync("mariadb", [...clientArgs(socket), "-e", "SELECT 1"], { stdio: "ignore" });
        break;
      } catch {
        if (started.exitCode !== null || Date.now() > deadline) {
          const log = existsSync(settings.logError) ? readFileSync(settings.logError, "utf8") : "(no error log)";
          throw new Error(`mariadbd in ${dir} did not come up:\n${log.slice(-3000)}`);
        }
        await sleep(100);
      }
    }
  } catch (error) {
    if (child) {
      child.kill("SIGKILL");
      await waitForExit(child, 5_000);
    }
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const server = child;
  const sql = (text: string): string =>
    execFileSync("mariadb", [...clientArgs(socket), "--batch", "--skip-column-names"], { input: text, encoding: "utf8" });
  return {
    settings,
    dir,
    socket,
    port,
    sql,
    rows: (query) =>
      parseBatch(execFileSync("mariadb", [...clientArgs(socket), "--batch"], { input: query, encoding: "utf8" })),
    stop: async () => {
      server.kill("SIGTERM");
      if (!(await waitForExit(server, 15_000))) {
        server.kill("SIGKILL");
        await waitForExit(server, 5_000);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Settings overrides of every node, or per node (e.g. each its own TLS files). */
export type ClusterOverrides = Partial<MyCnfSettings> | ((nodeIndex: number) => Partial<MyCnfSettings>);

/** Start several servers in parallel; stops the ones that started if any fails. */
export async function startLocalCluster(nodeCount: number, overrides?: ClusterOverrides): Promise<LocalMariadb[]> {
  const results = await Promise.allSettled(
    Array.from({ length: nodeCount }, (_, nodeIndex) => {
      const own = typeof overrides === "function" ? overrides(nodeIndex) : overrides;
      return startLocalMariadb({ nodeIndex, nodeCount, ...(own ? { overrides: own } : {}) });
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.all(results.map((r) => (r.status === "fulfilled" ? r.value.stop() : undefined)));
    throw failed.reason;
  }
  return results.map((r) => (r as PromiseFulfilledResult<LocalMariadb>).value);
}

/** Poll `check` every 200 ms until it returns true; throws with `describe()` after `ms`. */
export async function waitUntil(what: string, check: () => boolean, ms: number, describe?: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${describe ? `:\n${describe()}` : ""}`);
    await sleep(200);
  }
}

/** Name of node i of a local cluster (its replication connection name on the peers). */
export function localNodeName(i: number): string {
  return `node-${i}`;
}

/** Password of the replication account of {@link startReplicatingCluster} (quotes and backslash on purpose). */
export const LOCAL_REPLICATION_PASSWORD = `r'e"p\\l;pw`;

/** Whether every replication connection of `db` runs (exactly `peers` of them). */
export function replicationRunning(db: LocalMariadb, peers: number): boolean {
  const rows = db.rows("SHOW ALL SLAVES STATUS");
  return rows.length === peers && rows.every((r) => r.Slave_IO_Running === "Yes" && r.Slave_SQL_Running === "Yes");
}

/** Binlog position and connection states of every node, for failure messages. */
export function describeCluster(nodes: readonly LocalMariadb[]): string {
  return nodes
    .map((db, i) => {
      const status = db
        .rows("SHOW ALL SLAVES STATUS")
        .map((r) => `  ${r.Connection_name}: io=${r.Slave_IO_Running} sql=${r.Slave_SQL_Running} ${r.Last_IO_Error} ${r.Last_SQL_Error}`);
      return [`${localNodeName(i)} binlog=${db.sql("SELECT @@gtid_binlog_pos;").trim()}`, ...status].join("\n");
    })
    .join("\n");
}

/**
 * Start n nodes and wire them as the wiring does (renderUsersSql, then renderReplicationSql with
 * every other node as a peer, named {@link localNodeName}); resolves once every connection runs.
 * With `tls`, as the program does: accounts REQUIRE SSL, replication verifies the peers with the CA.
 * Stops the nodes if the wiring fails.
 */
export async function startReplicatingCluster(
  nodeCount: number,
  overrides?: ClusterOverrides,
  tls?: { readonly caPath: string },
): Promise<LocalMariadb[]> {
  const nodes = await startLocalCluster(nodeCount, overrides);
  try {
    const hosts = cidrToMariaDbHost("127.0.0.0/8");
    for (const db of nodes) {
      db.sql(
        renderUsersSql({
          replicationUser: "repl",
          replicationPassword: LOCAL_REPLICATION_PASSWORD,
          appUser: "app",
          appPassword: "app-pw",
          appDatabase: "app",
          appHostPattern: hosts,
          replicationHostPattern: hosts,
          requireSsl: tls !== undefined,
        }),
      );
    }
    nodes.forEach((db, i) => {
      const peers = nodes
        .map((peer, j) => ({ name: localNodeName(j), host: "127.0.0.1", port: peer.port }))
        .filter((_, j) => j !== i);
      db.sql(renderReplicationSql({ self: localNodeName(i), peers, user: "repl", password: LOCAL_REPLICATION_PASSWORD, ...(tls ? { tls } : {}) }));
    });
    await waitUntil("all replication connections running", () => nodes.every((db) => replicationRunning(db, nodeCount - 1)), 20_000, () => describeCluster(nodes));
    return nodes;
  } catch (error) {
    await Promise.all(nodes.map((db) => db.stop()));
    throw error;
  }
}

/** A db-heartbeat writer running against a local server. */
export interface LocalHeartbeat {
  /** Stop the writer (SIGTERM to its process group) and wait for it. */
  stop(): Promise<void>;
}

/** Run scripts/db-heartbeat.sh against `db`, beating every `intervalSeconds`. */
export function startHeartbeat(db: LocalMariadb, intervalSeconds: number): LocalHeartbeat {
  const child = spawn("bash", [dbScriptSourcePath("heartbeat"), "--interval", String(intervalSeconds), "--", ...clientArgs(db.socket)], {
    detached: true,
    stdio: "ignore",
  });
  return {
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(-child.pid, "SIGTERM");
      await waitForExit(child, 5_000);
    },
  };
}

/** What scripts/db-replication-health.sh prints. */
export interface ReplicationHealthReport {
  readonly server_id: number;
  readonly max_lag_seconds: number;
  readonly healthy: boolean;
  readonly degraded: boolean;
  readonly semisync: {
    readonly master_enabled: boolean;
    readonly master_status: string;
    readonly slave_status: string;
    readonly clients: number;
    readonly yes_tx: number;
    readonly no_tx: number;
  };
  readonly connections: readonly {
    readonly name: string;
    readonly io_running: string;
    readonly sql_running: string;
    readonly seconds_behind_master: number | null;
    readonly master_server_id: number | null;
    readonly heartbeat_age_seconds: number | null;
    readonly last_error: string | null;
    readonly healthy: boolean;
    readonly problems: readonly string[];
  }[];
}

/** Run scripts/db-replication-health.sh against `db` (exit status, parsed report, raw output). */
export function replicationHealth(db: LocalMariadb, maxLagSeconds: number): { status: number | null; report: ReplicationHealthReport; output: string } {
  const r = spawnSync("bash", [dbScriptSourcePath("replicationHealth"), "--max-lag", String(maxLagSeconds), "--", ...clientArgs(db.socket)], { encoding: "utf8" });
  const output = r.stdout + r.stderr;
  let report: ReplicationHealthReport;
  try {
    report = JSON.parse(r.stdout) as ReplicationHealthReport;
  } catch {
    throw new Error(`db-replication-health printed no JSON (exit ${r.status}):\n${output}`);
  }
  return { status: r.status, report, output };
}

/**
 * Test helper: throw-away Galera clusters on 127.0.0.1. Each node lives in its own temp dir
 * (datadir, unix socket, pid file, error log, tmpdir) with its own ports, configured by a config
 * rendered with {@link renderMyCnf}; the first node bootstraps, the others join empty and are
 * seeded by a real mariabackup SST, as on the droplets. An optional garbd (configured by
 * {@link garbdArgs}) is the arbitrator. TLS certificates come from openssl, one CA per cluster.
 * Used by the db component's tests and the bench's local scenarios.
 */
import { spawn, spawnSync, execFileSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync, chmodSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { dbNodeMyCnfSettings, renderMyCnf, type GaleraTiming, type MyCnfSettings, type MyCnfTls } from "../myCnf";
import { garbdArgs } from "../arbitrator";

/** A running (or stopped, restartable) test node. */
export interface LocalMariadb {
  /** Settings its config was rendered from. */
  readonly settings: MyCnfSettings;
  /** Temp dir holding everything of this node. */
  readonly dir: string;
  /** Unix socket for root access. */
  readonly socket: string;
  /** MariaDB's TCP port on 127.0.0.1. */
  readonly port: number;
  /** Run SQL as root over the socket; returns batch output without column names. */
  sql(text: string): string;
  /** Rows of a query as objects keyed by column name. */
  rows(query: string): Record<string, string>[];
  /** The node's wsrep_* status variables (empty when the server does not answer). */
  wsrep(): Record<string, string>;
  /** Whether the node is Synced in the primary component. */
  synced(): boolean;
  /** SIGKILL the server (a crash); the datadir stays. */
  kill(): Promise<void>;
  /** Stop the server cleanly (SIGTERM); the datadir stays. */
  shutdown(): Promise<void>;
  /** Start the server again on its datadir (after kill/shutdown/wipe); resolves once it answers. */
  restart(): Promise<void>;
  /** Delete the datadir (a node rebuilt with an empty volume); only while stopped. */
  wipe(): void;
  /** Stop the server and delete its temp dir. */
  stop(): Promise<void>;
}

/** A running test arbitrator. */
export interface LocalGarbd {
  /** Its group address. */
  readonly member: string;
  /** SIGKILL it. */
  kill(): Promise<void>;
}

/** A local cluster. */
export interface LocalCluster {
  readonly nodes: LocalMariadb[];
  readonly arbitrator: LocalGarbd | undefined;
  /** The cluster CA's certificate (PEM file), when started with TLS. */
  readonly caFile: string | undefined;
  /** Stop every process and delete every temp dir. */
  stop(): Promise<void>;
}

/** Options of {@link startLocalCluster}. */
export interface LocalClusterOptions {
  /** Number of data nodes (default 1). */
  readonly nodes?: number;
  /** Start a garbd arbitrator too (default false). */
  readonly arbitrator?: boolean;
  /** Serve and replicate over TLS with a throwaway CA (default true, as the program does). */
  readonly tls?: boolean;
  /** Group timing (default: short, for tests on one machine). */
  readonly timing?: GaleraTiming;
  /** Extra settings overrides of every node, or per node. */
  readonly overrides?: Partial<MyCnfSettings> | ((nodeIndex: number) => Partial<MyCnfSettings>);
}

/** Timing for members on one machine: a dead member is noticed in ~2 s. */
export const LOCAL_TIMING: GaleraTiming = { keepaliveMs: 500, suspectMs: 2000, inactiveMs: 4000, installMs: 4000 };

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
  const header = lines[0]!.split("\t");
  return lines.slice(1).map((line) => {
    const cells = line.split("\t");
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ""]));
  });
}

/** The `mariadb` client as root over `socket`: `args`, then `input` on stdin; its stdout. */
export function socketClient(socket: string, args: string[], input: string): string {
  return execFileSync("mariadb", [...clientArgs(socket), ...args], { input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
}

/** The wsrep_* status of the server at `socket` (empty when it does not answer). */
export function wsrepStatus(socket: string): Record<string, string> {
  try {
    return Object.fromEntries(parseBatch(socketClient(socket, ["--batch"], "SHOW GLOBAL STATUS LIKE 'wsrep%'")).map((r) => [r.Variable_name!, r.Value!]));
  } catch {
    return {};
  }
}

/** Synced (state 4) in the primary component and ready: a member that serves. */
export function isSyncedStatus(s: Readonly<Record<string, string>>): boolean {
  return s.wsrep_cluster_status === "Primary" && s.wsrep_local_state === "4" && s.wsrep_ready === "ON";
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

/** Poll `check` every 200 ms until it returns true; throws with `describe()` after `ms`. */
export async function waitUntil(what: string, check: () => boolean, ms: number, describe?: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${describe ? `:\n${describe()}` : ""}`);
    await sleep(200);
  }
}

/** A throwaway CA (openssl) that issues certificates for 127.0.0.1. */
function makeTestCa(dir: string): { caFile: string; issue(name: string): MyCnfTls } {
  const run = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  const caKey = path.join(dir, "ca-key.pem");
  const caFile = path.join(dir, "ca.pem");
  run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", caKey, "-out", caFile, "-days", "2", "-subj", "/CN=dns-rr-ha test database CA"]);
  const ext = path.join(dir, "ext.cnf");
  writeFileSync(ext, "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
  return {
    caFile,
    issue(name: string): MyCnfTls {
      const key = path.join(dir, `${name}-key.pem`);
      const cert = path.join(dir, `${name}-cert.pem`);
      const csr = path.join(dir, `${name}.csr`);
      run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"]);
      run(["x509", "-req", "-in", csr, "-CA", caFile, "-CAkey", caKey, "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext]);
      chmodSync(key, 0o600);
      return { ca: caFile, cert, key };
    },
  };
}

interface NodePlan {
  readonly nodeIndex: number;
  readonly dir: string;
  readonly settings: MyCnfSettings;
}

/** Name of node i of a local cluster. */
export function localNodeName(i: number): string {
  return `node-${i}`;
}

/**
 * Start a cluster: node 0 is initialised and bootstraps it, every other node joins with an empty
 * datadir (mariabackup SST from a running member), one after the other; then the arbitrator.
 * Stops whatever started if anything fails.
 */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const count = options.nodes ?? 1;
  const withTls = options.tls ?? true;
  const root = mkdtempSync(path.join(tmpdir(), "dns-rr-ha-galera-"));
  const ca = withTls ? makeTestCa(root) : undefined;
  const ports = await Promise.all(Array.from({ length: count * 4 + 1 }, () => freePort()));
  const groupPort = (i: number) => ports[i * 4 + 1]!;
  const garbdPort = ports[count * 4]!;
  const members = [...Array.from({ length: count }, (_, i) => `127.0.0.1:${groupPort(i)}`), ...(options.arbitrator ? [`127.0.0.1:${garbdPort}`] : [])];
  const plans: NodePlan[] = Array.from({ length: count }, (_, i) => {
    const dir = path.join(root, localNodeName(i));
    mkdirSync(path.join(dir, "tmp"), { recursive: true });
    const own = typeof options.overrides === "function" ? options.overrides(i) : options.overrides;
    const settings = dbNodeMyCnfSettings({
      nodeIndex: i,
      nodeCount: count,
      bindAddress: "127.0.0.1",
      datadir: path.join(dir, "data"),
      memoryMb: 256,
      port: ports[i * 4]!,
      galeraPorts: { group: groupPort(i), ist: ports[i * 4 + 2]!, sst: ports[i * 4 + 3]! },
      socket: path.join(dir, "mysqld.sock"),
      pidFile: path.join(dir, "mysqld.pid"),
      logError: path.join(dir, "error.log"),
      // Its own: a server starting deletes the `#sql*` temporary files of another in a shared /tmp.
      tmpdir: path.join(dir, "tmp"),
      clusterName: "dns-rr-ha-test",
      nodeName: localNodeName(i),
      clusterMembers: members,
      gcacheMb: 64,
      timing: options.timing ?? LOCAL_TIMING,
      ...(ca ? { tls: ca.issue(localNodeName(i)) } : {}),
      ...own,
    });
    return { nodeIndex: i, dir, settings };
  });
  const nodes: LocalMariadb[] = [];
  let arbitrator: { garbd: LocalGarbd; child: ChildProcess } | undefined;
  const stopAll = async () => {
    if (arbitrator) await arbitrator.garbd.kill();
    await Promise.all(nodes.map((n) => n.shutdown()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    for (const plan of plans) nodes.push(await startNode(plan, plan.nodeIndex === 0));
    if (options.arbitrator) {
      arbitrator = startGarbd(root, `127.0.0.1:${garbdPort}`, members.filter((m) => !m.endsWith(`:${garbdPort}`)), options.timing ?? LOCAL_TIMING, ca?.issue("garbd"), count);
      const expected = count + 1;
      await waitUntil(`the arbitrator to join (cluster size ${expected})`, () => nodes[0]!.wsrep().wsrep_cluster_size === String(expected), 30_000,
        () => readFileSync(path.join(root, "garbd.log"), "utf8").slice(-2000));
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  return { nodes, arbitrator: arbitrator?.garbd, caFile: ca?.caFile, stop: stopAll };
}

/** Start one node; `bootstrap`: initialise the datadir and form a new cluster, else join with an empty datadir. */
async function startNode(plan: NodePlan, bootstrap: boolean): Promise<LocalMariadb> {
  const { settings, dir } = plan;
  const cnf = path.join(dir, "my.cnf");
  // mariabackup SST archives its logs in /tmp/sst_log_archive by default: keep them with the node.
  writeFileSync(cnf, `${renderMyCnf(settings)}\n[sst]\nsst-log-archive-dir = ${path.join(dir, "sst-log-archive")}\n`);
  const socket = settings.socket!;
  const errorLog = () => (existsSync(settings.logError) ? readFileSync(settings.logError, "utf8").slice(-4000) : "(no error log)");
  let child: ChildProcess | undefined;
  const client = (args: string[], input: string) => socketClient(socket, args, input);
  const wsrep = () => wsrepStatus(socket);
  const synced = () => isSyncedStatus(wsrep());
  const launch = async (newCluster: boolean) => {
    // --user=root: mariadbd refuses to run as root otherwise; this is a test box.
    child = spawn("mariadbd", [`--defaults-file=${cnf}`, "--user=root", ...(newCluster ? ["--wsrep-new-cluster"] : [])], { detached: true, stdio: "ignore" });
    const started = child;
    // A joiner answers only after its SST: allow for it.
    const deadline = Date.now() + 120_000;
    while (!synced()) {
      if (started.exitCode !== null || started.signalCode !== null || Date.now() > deadline) {
        throw new Error(`mariadbd in ${dir} did not become Synced (exit ${started.exitCode ?? started.signalCode ?? "none"}):\n${errorLog()}`);
      }
      await sleep(200);
    }
  };
  const halt = async (signal: NodeJS.Signals) => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill(signal);
    if (!(await waitForExit(c, 30_000))) {
      c.kill("SIGKILL");
      await waitForExit(c, 5_000);
    }
  };
  if (bootstrap) {
    const installArgs = [`--defaults-file=${cnf}`, "--user=root", "--auth-root-authentication-method=socket", "--skip-test-db"];
    const install = spawnSync("mariadb-install-db", installArgs, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
    if (install.status !== 0) {
      throw new Error(`mariadb-install-db ${installArgs.join(" ")} exited ${install.status ?? install.signal}:\n${`${install.stdout}${install.stderr}`.slice(-2000)}\nerror log:\n${errorLog()}`);
    }
  } else {
    mkdirSync(settings.datadir, { recursive: true });
  }
  try {
    await launch(bootstrap);
  } catch (error) {
    await halt("SIGKILL");
    throw error;
  }
  return {
    settings,
    dir,
    socket,
    port: settings.port,
    sql: (text) => client(["--batch", "--skip-column-names"], text),
    rows: (query) => parseBatch(client(["--batch"], query)),
    wsrep,
    synced,
    kill: () => halt("SIGKILL"),
    shutdown: () => halt("SIGTERM"),
    restart: async () => {
      if (child && child.exitCode === null && child.signalCode === null) throw new Error(`${settings.nodeName} is still running`);
      mkdirSync(settings.datadir, { recursive: true });
      await launch(false);
    },
    wipe: () => {
      if (child && child.exitCode === null && child.signalCode === null) throw new Error(`${settings.nodeName} is still running`);
      rmSync(settings.datadir, { recursive: true, force: true });
    },
    stop: async () => {
      await halt("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function startGarbd(root: string, member: string, nodes: readonly string[], timing: GaleraTiming, tls: MyCnfTls | undefined, segment: number): { garbd: LocalGarbd; child: ChildProcess } {
  const [host, port] = member.split(":");
  const args = garbdArgs({ clusterName: "dns-rr-ha-test", nodeName: "arbitrator", listenAddress: host!, port: Number(port), segment, dataNodes: nodes, timing, ...(tls ? { tls } : {}) });
  // Its working directory gets its gvwstate.dat: keep it in the cluster's temp dir.
  const child = spawn("garbd", [...args, "--log", path.join(root, "garbd.log")], { cwd: root, detached: true, stdio: "ignore" });
  return {
    child,
    garbd: {
      member,
      kill: async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGKILL");
          await waitForExit(child, 5_000);
        }
      },
    },
  };
}

/** Each node's name, state and position, for failure messages. */
export function describeCluster(nodes: readonly LocalMariadb[]): string {
  return nodes
    .map((db) => {
      const s = db.wsrep();
      return `${db.settings.nodeName}: ${s.wsrep_cluster_status ?? "down"} ${s.wsrep_local_state_comment ?? ""} size=${s.wsrep_cluster_size ?? "?"} seqno=${s.wsrep_last_committed ?? "?"}`;
    })
    .join("\n");
}

/** One-node cluster without TLS: a plain server for tests of SQL rendering. */
export async function startLocalMariadb(): Promise<LocalMariadb & { cluster: LocalCluster }> {
  const cluster = await startLocalCluster({ nodes: 1, tls: false });
  const node = cluster.nodes[0]!;
  return { ...node, cluster, stop: () => cluster.stop() };
}

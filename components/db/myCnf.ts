/**
 * Renderer for the MariaDB server config of one database node
 * (installed as /etc/mysql/mariadb.conf.d/60-dns-rr-ha.cnf, so it is read
 * after Debian's 50-server.cnf and wins over it).
 */
import { isIPv4 } from "node:net";

/** Largest value of server_id / gtid_domain_id (both are 32-bit unsigned). */
const UINT32_MAX = 2 ** 32 - 1;

/**
 * How far a commit is replicated before the client hears "OK" (see DURABILITY.md):
 * - `semisync`: after a peer acknowledged it (in its relay log, on disk), or after the timeout;
 * - `async`: as soon as it is durable on this node; a crash can lose what the peers had not fetched.
 */
export type DbDurability = "async" | "semisync";

/** Every {@link DbDurability}, for validators. */
export const DB_DURABILITIES: readonly DbDurability[] = ["async", "semisync"];

/**
 * Allowed `rpl_semi_sync_master_timeout` (ms) and its default. Below ~100 ms an inter-region
 * round trip alone exceeds it and every commit degrades to async; above 5 min a dead peer
 * stalls the writes that long.
 */
export const SEMISYNC_TIMEOUT_MS = { min: 100, max: 300_000, default: 1000 } as const;

/**
 * Everything that varies between database nodes or deployments.
 * Build it with {@link dbNodeMyCnfSettings} to get the documented defaults.
 */
export interface MyCnfSettings {
  /**
   * Stable 0-based slot of this node (one per region). Gives
   * auto_increment_offset = nodeIndex + 1. Must never be renumbered while the
   * node holds data: removing a region leaves a gap instead.
   */
  readonly nodeIndex: number;
  /** Number of database nodes currently in the cluster (for validation only). */
  readonly nodeCount: number;
  /** server_id: unique per node, 1..2^32-1; also how a node recognises its own events coming back. */
  readonly serverId: number;
  /** gtid_domain_id: unique per node so every node writes its own GTID stream. */
  readonly gtidDomainId: number;
  /**
   * auto_increment_increment. A fixed headroom (default 10), NOT the node
   * count: changing the increment while nodes run with different values lets
   * their id sequences collide (e.g. increment 2 offset 1 and increment 3
   * offset 3 both produce 3, 9, ...), so it is chosen once for the maximum
   * cluster size. Must be >= nodeCount and >= nodeIndex + 1.
   */
  readonly autoIncrementIncrement: number;
  /** bind_address: the node's private VPC IPv4 address (127.0.0.1 in tests). */
  readonly bindAddress: string;
  /** TCP port MariaDB listens on. */
  readonly port: number;
  /** Absolute datadir, on the block volume in production (`/mnt/<volume>/mysql`). */
  readonly datadir: string;
  /** Droplet RAM in MiB; the InnoDB buffer pool gets half of it (see {@link innodbBufferPoolMb}). */
  readonly memoryMb: number;
  /** max_connections. */
  readonly maxConnections: number;
  /** Absolute path of the error log. */
  readonly logError: string;
  /**
   * log_basename: prefix of binlog/relay log names. Fixed (not the default
   * hostname) so renaming a droplet does not orphan its logs.
   */
  readonly logBasename: string;
  /** slave_parallel_threads (per replication connection). 0 disables parallel apply. */
  readonly slaveParallelThreads: number;
  /** slave_net_timeout: seconds without data before a replica reconnects (heartbeats run at half of it). */
  readonly slaveNetTimeoutSeconds: number;
  /** master_retry_count: reconnect attempts before a replica gives up; large so a long region outage heals by itself. */
  readonly masterRetryCount: number;
  /** binlog_expire_logs_seconds: how long binlogs are kept (bounds disk use; a peer offline longer needs a rebuild). */
  readonly binlogExpireSeconds: number;
  /** Absolute pid file path (rendered explicitly because log_basename would otherwise move it into the datadir). */
  readonly pidFile: string;
  /** Unix socket path; omitted to keep the distribution default (/run/mysqld/mysqld.sock). */
  readonly socket?: string;
  /**
   * tmpdir; omitted to keep the default (/tmp). A server deletes every `#sql*` file in its tmpdir
   * when it starts, so servers sharing one host (tests) each need their own.
   */
  readonly tmpdir?: string;
  /** Replication durability; a single node (nodeCount 1) has no peer to acknowledge and is always async. */
  readonly durability: DbDurability;
  /** rpl_semi_sync_master_timeout: ms a commit waits for a peer's ack before the node degrades to async. */
  readonly semisyncTimeoutMs: number;
  /**
   * TLS files (PEM; see dbTls.ts). When set, the node serves TLS and refuses every TCP client
   * that does not use it (require_secure_transport; the unix socket counts as secure).
   */
  readonly tls?: MyCnfTls;
}

/** Paths of a node's TLS files. */
export interface MyCnfTls {
  /** CA certificate (ssl_ca). */
  readonly ca: string;
  /** Server certificate (ssl_cert). */
  readonly cert: string;
  /** Its private key (ssl_key), readable by the mysql user. */
  readonly key: string;
}

/** The per-node inputs {@link dbNodeMyCnfSettings} cannot default. */
export interface DbNodeMyCnfInput {
  /** See {@link MyCnfSettings.nodeIndex}. */
  readonly nodeIndex: number;
  /** See {@link MyCnfSettings.nodeCount}. */
  readonly nodeCount: number;
  /** See {@link MyCnfSettings.bindAddress}. */
  readonly bindAddress: string;
  /** See {@link MyCnfSettings.datadir}. */
  readonly datadir: string;
  /** See {@link MyCnfSettings.memoryMb}. */
  readonly memoryMb: number;
}

/** Defaults used by {@link dbNodeMyCnfSettings} for everything but identity and placement. */
export const MY_CNF_DEFAULTS = {
  autoIncrementIncrement: 10,
  port: 3306,
  maxConnections: 200,
  logError: "/var/log/mysql/error.log",
  logBasename: "dns-rr-ha",
  slaveParallelThreads: 4,
  slaveNetTimeoutSeconds: 30,
  // With MASTER_CONNECT_RETRY=5 this is years of retrying: an outage never
  // needs a manual START SLAVE.
  masterRetryCount: 100_000_000,
  binlogExpireSeconds: 7 * 24 * 3600,
  pidFile: "/run/mysqld/mysqld.pid",
  durability: "semisync" as DbDurability,
  semisyncTimeoutMs: SEMISYNC_TIMEOUT_MS.default,
} as const;

/**
 * Full settings for one node: server_id and gtid_domain_id are derived from
 * the stable slot (nodeIndex + 1, avoiding the default domain 0 so a node
 * running without this config is obvious), the rest from {@link MY_CNF_DEFAULTS}
 * unless overridden.
 */
export function dbNodeMyCnfSettings(input: DbNodeMyCnfInput & Partial<MyCnfSettings>): MyCnfSettings {
  // Drop explicit `undefined`s so `{ port: undefined }` keeps the default.
  const overrides = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  return {
    ...MY_CNF_DEFAULTS,
    serverId: input.nodeIndex + 1,
    gtidDomainId: input.nodeIndex + 1,
    ...(overrides as DbNodeMyCnfInput & Partial<MyCnfSettings>),
  };
}

/** InnoDB buffer pool size for a dedicated DB droplet: half the RAM in whole 128 MiB chunks, at least 128 MiB. */
export function innodbBufferPoolMb(memoryMb: number): number {
  return Math.max(128, Math.floor(memoryMb / 2 / 128) * 128);
}

const SAFE_PATH = /^\/[A-Za-z0-9._/-]+$/;
const SAFE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function checkInt(problems: string[], name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be an integer in ${min}..${max} (got ${value})`);
  }
}

function checkPath(problems: string[], name: string, value: string | undefined): void {
  if (value !== undefined && !SAFE_PATH.test(value)) {
    problems.push(`${name} must be an absolute path of [A-Za-z0-9._/-] characters (got ${JSON.stringify(value)})`);
  }
}

/**
 * Check one node's settings.
 * @throws Error listing every problem found, one per line.
 */
export function validateMyCnfSettings(s: MyCnfSettings): void {
  const problems: string[] = [];
  checkInt(problems, "nodeCount", s.nodeCount, 1, 65535);
  checkInt(problems, "nodeIndex", s.nodeIndex, 0, 65534);
  checkInt(problems, "serverId", s.serverId, 1, UINT32_MAX);
  checkInt(problems, "gtidDomainId", s.gtidDomainId, 0, UINT32_MAX);
  checkInt(problems, "autoIncrementIncrement", s.autoIncrementIncrement, 1, 65535);
  if (Number.isInteger(s.autoIncrementIncrement)) {
    if (s.nodeCount > s.autoIncrementIncrement) {
      problems.push(
        `autoIncrementIncrement (${s.autoIncrementIncrement}) must be >= nodeCount (${s.nodeCount}) or nodes generate colliding ids`,
      );
    }
    if (s.nodeIndex + 1 > s.autoIncrementIncrement) {
      problems.push(
        `auto_increment_offset = nodeIndex + 1 (${s.nodeIndex + 1}) must be <= autoIncrementIncrement (${s.autoIncrementIncrement})`,
      );
    }
  }
  if (!isIPv4(s.bindAddress)) problems.push(`bindAddress must be an IPv4 address (got ${JSON.stringify(s.bindAddress)})`);
  checkInt(problems, "port", s.port, 1, 65535);
  checkPath(problems, "datadir", s.datadir);
  checkPath(problems, "logError", s.logError);
  checkPath(problems, "pidFile", s.pidFile);
  checkPath(problems, "socket", s.socket);
  checkPath(problems, "tmpdir", s.tmpdir);
  if (s.tls !== undefined) {
    for (const key of ["ca", "cert", "key"] as const) {
      if (s.tls[key] === undefined) problems.push(`tls.${key} is required`);
      else checkPath(problems, `tls.${key}`, s.tls[key]);
    }
  }
  checkInt(problems, "memoryMb", s.memoryMb, 256, 16 * 1024 * 1024);
  checkInt(problems, "maxConnections", s.maxConnections, 10, 100000);
  if (!SAFE_NAME.test(s.logBasename)) {
    problems.push(`logBasename must match ${SAFE_NAME} (got ${JSON.stringify(s.logBasename)})`);
  }
  checkInt(problems, "slaveParallelThreads", s.slaveParallelThreads, 0, 16383);
  checkInt(problems, "slaveNetTimeoutSeconds", s.slaveNetTimeoutSeconds, 2, 31536000);
  checkInt(problems, "masterRetryCount", s.masterRetryCount, 1, UINT32_MAX);
  checkInt(problems, "binlogExpireSeconds", s.binlogExpireSeconds, 3600, 8553600);
  if (!DB_DURABILITIES.includes(s.durability)) {
    problems.push(`durability must be one of ${DB_DURABILITIES.join(", ")} (got ${JSON.stringify(s.durability)})`);
  }
  checkInt(problems, "semisyncTimeoutMs", s.semisyncTimeoutMs, SEMISYNC_TIMEOUT_MS.min, SEMISYNC_TIMEOUT_MS.max);
  if (problems.length > 0) {
    throw new Error(`invalid MariaDB settings for node ${s.nodeIndex}:\n  - ${problems.join("\n  - ")}`);
  }
}

/**
 * Check that the nodes of one cluster fit together: identities unique,
 * same auto_increment_increment everywhere, nodeCount matching.
 * Also validates each node.
 * @throws Error listing every problem found.
 */
export function validateDbCluster(nodes: readonly MyCnfSettings[]): void {
  nodes.forEach(validateMyCnfSettings);
  const problems: string[] = [];
  const unique = (label: string, pick: (n: MyCnfSettings) => number): void => {
    const seen = new Map<number, number>();
    nodes.forEach((n, i) => {
      const value = pick(n);
      const first = seen.get(value);
      if (first !== undefined) problems.push(`${label} ${value} is used by nodes #${first} and #${i}`);
      else seen.set(value, i);
    });
  };
  unique("nodeIndex", (n) => n.nodeIndex);
  unique("serverId", (n) => n.serverId);
  unique("gtidDomainId", (n) => n.gtidDomainId);
  const increments = new Set(nodes.map((n) => n.autoIncrementIncrement));
  if (increments.size > 1) {
    problems.push(`autoIncrementIncrement differs between nodes (${[...increments].join(", ")}): ids would collide`);
  }
  nodes.forEach((n, i) => {
    if (n.nodeCount !== nodes.length) {
      problems.push(`node #${i} has nodeCount ${n.nodeCount} but the cluster has ${nodes.length} nodes`);
    }
  });
  if (problems.length > 0) throw new Error(`invalid MariaDB cluster:\n  - ${problems.join("\n  - ")}`);
}

/**
 * Render the `[mariadbd]` config of one node.
 * @throws if the settings are invalid (see {@link validateMyCnfSettings}).
 */
export function renderMyCnf(s: MyCnfSettings): string {
  validateMyCnfSettings(s);
  const lines = [
    "# Managed by dns-rr-ha (components/db/myCnf.ts); local edits are overwritten by the wiring.",
    "[mariadbd]",
    "# Must come first: it resets the names of all logs and the pid file, later lines override it.",
    `log_basename = ${s.logBasename}`,
    `pid_file = ${s.pidFile}`,
    `log_error = ${s.logError}`,
    "",
    "# Network: only the private VPC address; accounts are IP/netmask based, no DNS.",
    `bind_address = ${s.bindAddress}`,
    `port = ${s.port}`,
    ...(s.socket !== undefined ? [`socket = ${s.socket}`] : []),
    ...(s.tmpdir !== undefined ? [`tmpdir = ${s.tmpdir}`] : []),
    "skip_name_resolve = ON",
    `max_connections = ${s.maxConnections}`,
    "",
    ...tlsLines(s.tls),
    "# Storage: datadir on the block volume, durable commits (a lost binlog event means a diverged peer).",
    `datadir = ${s.datadir}`,
    `innodb_buffer_pool_size = ${innodbBufferPoolMb(s.memoryMb)}M`,
    "innodb_flush_log_at_trx_commit = 1",
    "sync_binlog = 1",
    "",
    "# Identity: unique per node; every node writes its own GTID domain.",
    `server_id = ${s.serverId}`,
    `gtid_domain_id = ${s.gtidDomainId}`,
    "",
    "# Writes on every node: disjoint auto-increment sequences.",
    `auto_increment_increment = ${s.autoIncrementIncrement}`,
    `auto_increment_offset = ${s.nodeIndex + 1}`,
    "read_only = OFF",
    "",
    "# Binary log: row based; replicated events are logged too so any node can seed or feed another.",
    `log_bin = ${s.logBasename}-bin`,
    "binlog_format = ROW",
    "log_slave_updates = ON",
    `binlog_expire_logs_seconds = ${s.binlogExpireSeconds}`,
    "",
    "# Replication (multi-source, one named connection per peer, MASTER_USE_GTID=slave_pos).",
    `relay_log = ${s.logBasename}-relay-bin`,
    `relay_log_index = ${s.logBasename}-relay-bin.index`,
    "# Refetch relay logs after a crash instead of trusting a half-written one.",
    "relay_log_recovery = ON",
    "# With log_slave_updates every peer forwards every other peer's events, so with 3+",
    "# nodes the same GTID arrives on several connections: apply only the first copy.",
    "gtid_ignore_duplicates = ON",
    "# Each domain has exactly one writer (its node), so out-of-order GTIDs can only mean",
    "# an errant write or a loop: stop replication rather than silently diverge.",
    "gtid_strict_mode = ON",
    `slave_parallel_threads = ${s.slaveParallelThreads}`,
    `slave_net_timeout = ${s.slaveNetTimeoutSeconds}`,
    `master_retry_count = ${s.masterRetryCount}`,
    "",
    ...durabilityLines(s),
  ];
  return lines.join("\n");
}

/** The TLS section: peers and app servers verify this node's certificate against the cluster CA. */
function tlsLines(tls: MyCnfTls | undefined): string[] {
  if (tls === undefined) return [];
  return [
    "# TLS (components/db/dbTls.ts): certificate with this node's private IP as SAN, signed by the cluster CA.",
    `ssl_ca = ${tls.ca}`,
    `ssl_cert = ${tls.cert}`,
    `ssl_key = ${tls.key}`,
    "tls_version = TLSv1.2,TLSv1.3",
    "# Every TCP client (replicas, the app) must use TLS; the unix socket (root, wiring, health checks) is secure already.",
    "require_secure_transport = ON",
    "",
  ];
}

/** The replication durability section (semi-synchronous is built into MariaDB since 10.3.3: no plugin to load). */
function durabilityLines(s: MyCnfSettings): string[] {
  if (s.durability === "async" || s.nodeCount < 2) {
    return [
      `# Durability: asynchronous${s.nodeCount < 2 ? " (a single node has no peer to acknowledge)" : ""}. A commit returns once`,
      "# it is durable here; what the peers had not fetched yet is lost if this node dies.",
      "rpl_semi_sync_master_enabled = OFF",
      "rpl_semi_sync_slave_enabled = OFF",
      "",
    ];
  }
  return [
    "# Durability: semi-synchronous (components/db/DURABILITY.md). A commit returns only once a",
    "# peer has the transaction in its relay log, or after the timeout (then the node degrades",
    "# to async, logs it and Rpl_semi_sync_master_status turns OFF until a peer catches up).",
    "rpl_semi_sync_master_enabled = ON",
    "# Every node is also a replica of its peers and acknowledges what it receives from them.",
    "rpl_semi_sync_slave_enabled = ON",
    "# Wait after the binlog sync, before the engine commit: no client ever reads a row that",
    "# no peer has (with AFTER_COMMIT it could, and then lose it with this node).",
    "rpl_semi_sync_master_wait_point = AFTER_SYNC",
    `rpl_semi_sync_master_timeout = ${s.semisyncTimeoutMs}`,
    "# ON (the default, made explicit): with every peer disconnected a commit still waits the",
    "# timeout once before degrading, as with a silent peer, instead of going async at once.",
    "rpl_semi_sync_master_wait_no_slave = ON",
    "# An acknowledgement means the peer has the events on disk, not only in its page cache.",
    "sync_relay_log = 1",
    "",
  ];
}

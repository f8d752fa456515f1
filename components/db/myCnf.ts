/**
 * Renderer for the MariaDB server config of one database node, a member of a Galera 4 cluster
 * that spans the stack's regions (installed as /etc/mysql/mariadb.conf.d/60-dns-rr-ha.cnf, so it
 * is read after Debian's 50-server.cnf and 60-galera.cnf and wins over them). Why Galera, and
 * what it guarantees: components/db/DURABILITY.md.
 */
import { isIPv4 } from "node:net";

/** Largest value of server_id / gtid_domain_id (both are 32-bit unsigned). */
const UINT32_MAX = 2 ** 32 - 1;

/** The ports a Galera member listens on (besides MariaDB's own). */
export const GALERA_PORTS = {
  /** Group communication (gcomm, TCP; TLS with the cluster CA): every member and the arbitrator. */
  group: 4567,
  /** Incremental state transfer: a rejoining node receives the write-sets it missed here. */
  ist: 4568,
  /** Full state transfer (mariabackup streamed over socat TLS): a new or rebuilt node receives a copy here. */
  sst: 4444,
} as const;

/**
 * Group-communication timing for members in different regions, after Codership's WAN advice
 * (keepalives well above the round trip, suspicion after seconds, not milliseconds). The suspect
 * timeout is how long writes stall when a member vanishes before the survivors with quorum go on
 * without it, and how long a cut-off minority takes to stop taking writes.
 */
export interface GaleraTiming {
  /** evs.keepalive_period, ms: how often an idle member says it is alive. */
  readonly keepaliveMs: number;
  /** evs.suspect_timeout, ms: silence after which a member is suspected (and dropped once all others agree). */
  readonly suspectMs: number;
  /** evs.inactive_timeout, ms: silence after which a member is dropped unconditionally. */
  readonly inactiveMs: number;
  /** evs.install_timeout, ms: how long a membership change may take to agree on. */
  readonly installMs: number;
}

/** The defaults of {@link GaleraTiming} and their allowed ranges (ms). */
export const GALERA_TIMING = {
  default: { keepaliveMs: 1000, suspectMs: 5000, inactiveMs: 15000, installMs: 15000 } satisfies GaleraTiming,
  /** suspectMs bounds: below ~1 s a WAN hiccup evicts a healthy region; above a minute writes stall that long. */
  suspectMs: { min: 1000, max: 60_000 },
} as const;

/**
 * The timing for a chosen suspect timeout (the one knob the stack config exposes): keepalives stay
 * at their default (at most a third of the suspect timeout, Galera's limit), a member is dropped
 * unconditionally after three suspect periods (at least the default), and a membership change may
 * take as long.
 */
export function galeraTimingFor(suspectMs: number): GaleraTiming {
  const d = GALERA_TIMING.default;
  const inactiveMs = Math.max(d.inactiveMs, suspectMs * 3);
  return { keepaliveMs: Math.min(d.keepaliveMs, Math.floor(suspectMs / 3)), suspectMs, inactiveMs, installMs: inactiveMs };
}

/** The Galera provider library installed by Debian's galera-4. */
export const GALERA_PROVIDER = "/usr/lib/galera/libgalera_smm.so";

/**
 * The GTID domain every Galera write-set carries, on every node (wsrep_gtid_mode): one cluster,
 * one ordered stream, so the nodes' binlogs agree and point-in-time recovery can follow any of them.
 * Each node's own gtid_domain_id (slot + 1) only tags what a node writes outside the cluster.
 */
export const WSREP_GTID_DOMAIN_ID = 1000;

/**
 * Everything that varies between database nodes or deployments.
 * Build it with {@link dbNodeMyCnfSettings} to get the documented defaults.
 */
export interface MyCnfSettings {
  /**
   * Stable 0-based slot of this node (its region's position in DigitalOcean's region list). Gives
   * auto_increment_offset = nodeIndex + 1, gtid_domain_id and the Galera segment. Must never be
   * renumbered while the node holds data: removing a region leaves a gap instead.
   */
  readonly nodeIndex: number;
  /** Number of database nodes in the cluster (for validation only; the arbitrator is not counted). */
  readonly nodeCount: number;
  /**
   * server_id: the same on every member of the cluster (MariaDB's advice for wsrep_gtid_mode, so a
   * write-set gets the same GTID on every node).
   */
  readonly serverId: number;
  /** gtid_domain_id: unique per node, for what a node writes with wsrep off (never the cluster's domain). */
  readonly gtidDomainId: number;
  /**
   * auto_increment_increment. A fixed headroom larger than any cluster, NOT the node count: Galera's
   * own wsrep_auto_increment_control would change the increment with every membership change; a
   * fixed increment with a per-region offset never hands out the same id twice. Must be >=
   * nodeCount and >= nodeIndex + 1.
   */
  readonly autoIncrementIncrement: number;
  /** bind_address and the Galera addresses: the node's private VPC IPv4 address (127.0.0.1 in tests). */
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
   * log_basename: prefix of binlog names. Fixed (not the default hostname) so renaming a droplet
   * does not orphan its logs.
   */
  readonly logBasename: string;
  /** binlog_expire_logs_seconds: how long binlogs are kept (point-in-time recovery window on the node). */
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
  /** wsrep_cluster_name: members of different clusters never join each other. */
  readonly clusterName: string;
  /** wsrep_node_name: how this node shows in the cluster's status and logs. */
  readonly nodeName: string;
  /**
   * wsrep_cluster_address members, "ip:port" of the group port of every data node (this one
   * included) and of the arbitrator. A node joins whichever of them it reaches first.
   */
  readonly clusterMembers: readonly string[];
  /** Galera ports of this node (tests run several nodes on one address). Default {@link GALERA_PORTS}. */
  readonly galeraPorts: { readonly group: number; readonly ist: number; readonly sst: number };
  /** gcache.size in MiB: write-sets kept for IST; a node away longer than it covers gets a full SST. */
  readonly gcacheMb: number;
  /** wsrep_slave_threads: parallel appliers. */
  readonly applierThreads: number;
  /** Group-communication timing (see {@link GaleraTiming}). */
  readonly timing: GaleraTiming;
  /**
   * TLS files (PEM; see dbTls.ts). When set, the node serves TLS and refuses every TCP client
   * that does not use it (require_secure_transport; the unix socket counts as secure), and the
   * group traffic, IST and SST are encrypted and verified against the same CA.
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
  /** See {@link MyCnfSettings.clusterName}. */
  readonly clusterName: string;
  /** See {@link MyCnfSettings.nodeName}. */
  readonly nodeName: string;
  /** See {@link MyCnfSettings.clusterMembers}. */
  readonly clusterMembers: readonly string[];
}

/** Defaults used by {@link dbNodeMyCnfSettings} for everything but identity and placement. */
export const MY_CNF_DEFAULTS = {
  autoIncrementIncrement: 10,
  port: 3306,
  maxConnections: 200,
  logError: "/var/log/mysql/error.log",
  logBasename: "dns-rr-ha",
  binlogExpireSeconds: 7 * 24 * 3600,
  pidFile: "/run/mysqld/mysqld.pid",
  serverId: 1,
  galeraPorts: GALERA_PORTS,
  gcacheMb: 512,
  applierThreads: 4,
  timing: GALERA_TIMING.default,
} as const;

/**
 * Full settings for one node: gtid_domain_id is derived from the stable slot (nodeIndex + 1,
 * avoiding the default domain 0 so a node running without this config is obvious), the rest from
 * {@link MY_CNF_DEFAULTS} unless overridden.
 */
export function dbNodeMyCnfSettings(input: DbNodeMyCnfInput & Partial<MyCnfSettings>): MyCnfSettings {
  // Drop explicit `undefined`s so `{ port: undefined }` keeps the default.
  const overrides = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  return {
    ...MY_CNF_DEFAULTS,
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
const MEMBER = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/;

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

/** Check a {@link GaleraTiming}; problems are pushed as `<prefix>.<field> ...`. */
export function galeraTimingProblems(prefix: string, t: GaleraTiming): string[] {
  const problems: string[] = [];
  const { min, max } = GALERA_TIMING.suspectMs;
  checkInt(problems, `${prefix}.suspectMs`, t.suspectMs, min, max);
  checkInt(problems, `${prefix}.keepaliveMs`, t.keepaliveMs, 100, 60_000);
  checkInt(problems, `${prefix}.inactiveMs`, t.inactiveMs, 1000, 600_000);
  checkInt(problems, `${prefix}.installMs`, t.installMs, 1000, 600_000);
  if (problems.length > 0) return problems;
  // A member must say it is alive several times before anyone suspects it, and be suspected before it is dropped.
  // Galera refuses to start with a keepalive above a third of the suspect timeout, or an install timeout outside keepalive..inactive.
  if (t.keepaliveMs * 3 > t.suspectMs) problems.push(`${prefix}.keepaliveMs (${t.keepaliveMs}) must be at most a third of suspectMs (${t.suspectMs})`);
  if (t.suspectMs > t.inactiveMs) problems.push(`${prefix}.suspectMs (${t.suspectMs}) must not exceed inactiveMs (${t.inactiveMs})`);
  if (t.installMs > t.inactiveMs) problems.push(`${prefix}.installMs (${t.installMs}) must not exceed inactiveMs (${t.inactiveMs})`);
  if (t.installMs < t.keepaliveMs) problems.push(`${prefix}.installMs (${t.installMs}) must not be shorter than keepaliveMs (${t.keepaliveMs})`);
  return problems;
}

/**
 * Check one node's settings.
 * @throws Error listing every problem found, one per line.
 */
export function validateMyCnfSettings(s: MyCnfSettings): void {
  const problems: string[] = [];
  checkInt(problems, "nodeCount", s.nodeCount, 1, 255);
  checkInt(problems, "nodeIndex", s.nodeIndex, 0, 254);
  checkInt(problems, "serverId", s.serverId, 1, UINT32_MAX);
  checkInt(problems, "gtidDomainId", s.gtidDomainId, 0, UINT32_MAX);
  if (s.gtidDomainId === WSREP_GTID_DOMAIN_ID) problems.push(`gtidDomainId must not be the cluster's domain ${WSREP_GTID_DOMAIN_ID}`);
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
  for (const key of ["group", "ist", "sst"] as const) checkInt(problems, `galeraPorts.${key}`, s.galeraPorts[key], 1, 65535);
  const ports = [s.port, s.galeraPorts.group, s.galeraPorts.ist, s.galeraPorts.sst];
  if (new Set(ports).size !== ports.length) problems.push(`port and galeraPorts must all differ (got ${ports.join(", ")})`);
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
  if (!SAFE_NAME.test(s.logBasename)) problems.push(`logBasename must match ${SAFE_NAME} (got ${JSON.stringify(s.logBasename)})`);
  if (!SAFE_NAME.test(s.clusterName)) problems.push(`clusterName must match ${SAFE_NAME} (got ${JSON.stringify(s.clusterName)})`);
  if (!SAFE_NAME.test(s.nodeName)) problems.push(`nodeName must match ${SAFE_NAME} (got ${JSON.stringify(s.nodeName)})`);
  checkInt(problems, "binlogExpireSeconds", s.binlogExpireSeconds, 3600, 8553600);
  checkInt(problems, "gcacheMb", s.gcacheMb, 16, 1024 * 1024);
  checkInt(problems, "applierThreads", s.applierThreads, 1, 512);
  problems.push(...galeraTimingProblems("timing", s.timing));
  if (!Array.isArray(s.clusterMembers) || s.clusterMembers.length === 0) {
    problems.push("clusterMembers must list the group address of every member (this node included)");
  } else {
    for (const m of s.clusterMembers) {
      const match = MEMBER.exec(m);
      if (!match || !isIPv4(match[1]!) || Number(match[2]) < 1 || Number(match[2]) > 65535) problems.push(`clusterMembers entry ${JSON.stringify(m)} must be "<IPv4>:<port>"`);
    }
    if (new Set(s.clusterMembers).size !== s.clusterMembers.length) problems.push(`clusterMembers lists a member twice (${s.clusterMembers.join(", ")})`);
    if (!s.clusterMembers.includes(`${s.bindAddress}:${s.galeraPorts.group}`)) {
      problems.push(`clusterMembers must include this node's own group address ${s.bindAddress}:${s.galeraPorts.group}`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`invalid MariaDB settings for node ${s.nodeIndex}:\n  - ${problems.join("\n  - ")}`);
  }
}

/**
 * Check that the nodes of one cluster fit together: slots and names unique, one cluster name,
 * one member list, one server_id, the same auto_increment_increment everywhere, nodeCount matching.
 * Also validates each node.
 * @throws Error listing every problem found.
 */
export function validateDbCluster(nodes: readonly MyCnfSettings[]): void {
  nodes.forEach(validateMyCnfSettings);
  const problems: string[] = [];
  const unique = (label: string, pick: (n: MyCnfSettings) => number | string): void => {
    const seen = new Map<number | string, number>();
    nodes.forEach((n, i) => {
      const value = pick(n);
      const first = seen.get(value);
      if (first !== undefined) problems.push(`${label} ${value} is used by nodes #${first} and #${i}`);
      else seen.set(value, i);
    });
  };
  const same = (label: string, pick: (n: MyCnfSettings) => string | number): void => {
    const values = new Set(nodes.map(pick));
    if (values.size > 1) problems.push(`${label} differs between nodes (${[...values].join(" / ")})`);
  };
  unique("nodeIndex", (n) => n.nodeIndex);
  unique("gtidDomainId", (n) => n.gtidDomainId);
  unique("nodeName", (n) => n.nodeName);
  same("autoIncrementIncrement", (n) => n.autoIncrementIncrement);
  same("clusterName", (n) => n.clusterName);
  same("serverId", (n) => n.serverId);
  same("clusterMembers", (n) => [...n.clusterMembers].sort().join(","));
  nodes.forEach((n, i) => {
    if (n.nodeCount !== nodes.length) problems.push(`node #${i} has nodeCount ${n.nodeCount} but the cluster has ${nodes.length} nodes`);
  });
  if (problems.length > 0) throw new Error(`invalid MariaDB cluster:\n  - ${problems.join("\n  - ")}`);
}

/** An ISO 8601 duration of whole or fractional seconds, as Galera's evs.* options take them. */
function isoDuration(ms: number): string {
  return `PT${ms % 1000 === 0 ? ms / 1000 : (ms / 1000).toFixed(3)}S`;
}

/** wsrep_provider_options: group addresses, WAN timing, gcache, TLS on the group channel. */
export function galeraProviderOptions(s: MyCnfSettings): string {
  const t = s.timing;
  const options = [
    `gmcast.listen_addr=tcp://${s.bindAddress}:${s.galeraPorts.group}`,
    `ist.recv_addr=${s.bindAddress}:${s.galeraPorts.ist}`,
    // One segment per region: write-sets cross the WAN once per region, not once per member.
    `gmcast.segment=${s.nodeIndex}`,
    `evs.keepalive_period=${isoDuration(t.keepaliveMs)}`,
    `evs.suspect_timeout=${isoDuration(t.suspectMs)}`,
    `evs.inactive_timeout=${isoDuration(t.inactiveMs)}`,
    `evs.install_timeout=${isoDuration(t.installMs)}`,
    // WAN: more write-sets in flight per round trip (Codership's WAN advice).
    "evs.send_window=512",
    "evs.user_send_window=512",
    `gcache.size=${s.gcacheMb}M`,
    // After a crash, keep the write-sets in gcache so a peer can still get an IST from this node.
    "gcache.recover=yes",
    // After every member went down at once (power loss), the last primary component forms again by
    // itself once all its members are back: no one has to pick a node to bootstrap from.
    "pc.recovery=TRUE",
    ...(s.tls !== undefined ? [`socket.ssl_key=${s.tls.key}`, `socket.ssl_cert=${s.tls.cert}`, `socket.ssl_ca=${s.tls.ca}`] : []),
  ];
  return options.join(";");
}

/**
 * Render the `[mariadbd]` and `[sst]` config of one node.
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
    "# Storage: datadir on the block volume, durable commits.",
    `datadir = ${s.datadir}`,
    "default_storage_engine = InnoDB",
    `innodb_buffer_pool_size = ${innodbBufferPoolMb(s.memoryMb)}M`,
    "innodb_flush_log_at_trx_commit = 1",
    "sync_binlog = 1",
    "# Galera certifies row changes: interleaved auto-increment locks are required.",
    "innodb_autoinc_lock_mode = 2",
    "",
    "# Identity: one server_id and one GTID domain for the whole cluster (wsrep_gtid_mode), so every",
    "# node logs a write-set under the same GTID; this node's own domain for anything else.",
    `server_id = ${s.serverId}`,
    `gtid_domain_id = ${s.gtidDomainId}`,
    "wsrep_gtid_mode = ON",
    `wsrep_gtid_domain_id = ${WSREP_GTID_DOMAIN_ID}`,
    "",
    "# Writes on every node: disjoint auto-increment sequences that never change with the membership.",
    "wsrep_auto_increment_control = OFF",
    `auto_increment_increment = ${s.autoIncrementIncrement}`,
    `auto_increment_offset = ${s.nodeIndex + 1}`,
    "",
    "# Binary log: row based, every node logs every write-set (point-in-time recovery from any node).",
    `log_bin = ${s.logBasename}-bin`,
    "binlog_format = ROW",
    "log_slave_updates = ON",
    `binlog_expire_logs_seconds = ${s.binlogExpireSeconds}`,
    "",
    "# Galera: synchronous, certified replication (components/db/DURABILITY.md). A commit returns once",
    "# every member has the write-set and it passed certification; a conflicting commit fails (1213).",
    "wsrep_on = ON",
    `wsrep_provider = ${GALERA_PROVIDER}`,
    `wsrep_cluster_name = ${s.clusterName}`,
    `wsrep_cluster_address = gcomm://${s.clusterMembers.join(",")}`,
    `wsrep_node_name = ${s.nodeName}`,
    `wsrep_node_address = ${s.bindAddress}:${s.galeraPorts.group}`,
    `wsrep_node_incoming_address = ${s.bindAddress}:${s.port}`,
    `wsrep_sst_receive_address = ${s.bindAddress}:${s.galeraPorts.sst}`,
    `wsrep_provider_options = "${galeraProviderOptions(s)}"`,
    "# A new or rebuilt node copies a running peer with mariabackup (the donor keeps serving);",
    "# it authenticates over the unix socket as the mysql user, so no password is needed here.",
    "wsrep_sst_method = mariabackup",
    `wsrep_slave_threads = ${s.applierThreads}`,
    "# An autocommit statement that lost certification is retried once by the server itself.",
    "wsrep_retry_autocommit = 1",
    "# Log every certification conflict: the operator sees which rows two regions fought over.",
    "wsrep_log_conflicts = ON",
    "# DDL is applied everywhere in the same order (total order isolation); see DURABILITY.md for big tables.",
    "wsrep_OSU_method = TOI",
    "",
    ...sstLines(s.tls),
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
    "# Every TCP client (the app) must use TLS; the unix socket (root, wiring, health checks) is secure already.",
    "require_secure_transport = ON",
    "",
  ];
}

/** The state transfer stream: TLS with the cluster's certificates, the peer verified against the CA. */
function sstLines(tls: MyCnfTls | undefined): string[] {
  if (tls === undefined) return [];
  return [
    "[sst]",
    "# socat with TLS, both ends presenting their certificate; VERIFY_CA checks the chain against the",
    "# cluster's own CA (which signs nothing else), not the peer's name.",
    "encrypt = 3",
    "ssl-mode = VERIFY_CA",
    `tkey = ${tls.key}`,
    `tcert = ${tls.cert}`,
    `tca = ${tls.ca}`,
    "",
  ];
}

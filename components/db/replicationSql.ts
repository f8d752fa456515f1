/**
 * Renderers for the SQL the wiring applies on every database node (as root,
 * through the unix socket, with the `mariadb` command-line client, which
 * understands the `DELIMITER` lines used around compound statements).
 *
 * Both files are idempotent: re-running them converges the node to the
 * rendered state (passwords rotated, stale accounts and replication
 * connections removed) and never fails because something already exists.
 */
import { isIPv4 } from "node:net";
import { sqlIdentifier, sqlString } from "./sqlString";

/**
 * Node-local schema holding the wiring's own bookkeeping (which replication
 * connections it created), because MariaDB 10.11 offers no SELECT-able list of
 * replication connections to find the stale ones. Never replicated.
 */
export const DB_META_SCHEMA = "dns_rr_ha_meta";

/** Privileges of the application account on its database. CREATE is for the demo's `CREATE TABLE IF NOT EXISTS`. */
export const APP_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE"] as const;

/** Inputs of {@link renderUsersSql}. Host patterns come from {@link cidrToMariaDbHost}. */
export interface UsersSqlSettings {
  /** Account peers use to replicate from this node (gets only REPLICATION SLAVE). */
  readonly replicationUser: string;
  /** Its password (any characters; rotated by re-running). */
  readonly replicationPassword: string;
  /** Account the PHP application uses. */
  readonly appUser: string;
  /** Its password (any characters; rotated by re-running). */
  readonly appPassword: string;
  /** Database the application owns; created on every node. */
  readonly appDatabase: string;
  /** MariaDB host pattern(s) the app servers connect from, e.g. `10.10.0.0/255.255.240.0`. */
  readonly appHostPattern: string | readonly string[];
  /** MariaDB host pattern(s) the peer database nodes connect from (all peered VPCs). */
  readonly replicationHostPattern: string | readonly string[];
  /** Both accounts `REQUIRE SSL` (set on create and on every re-run, so existing accounts are converted). */
  readonly requireSsl?: boolean;
}

/** One replication source of this node. */
export interface ReplicationPeer {
  /** Peer name (e.g. its region); becomes the replication connection name. */
  readonly name: string;
  /** Peer's private IPv4 address. */
  readonly host: string;
  /** Peer's MariaDB port. */
  readonly port: number;
}

/** Inputs of {@link renderReplicationSql}. */
export interface ReplicationSqlSettings {
  /** Name of this node (only used to reject a peer list that contains the node itself). */
  readonly self: string;
  /** Every other node. May be empty (single-region deployment: all connections are removed). */
  readonly peers: readonly ReplicationPeer[];
  /** Replication account that exists on every peer (see {@link renderUsersSql}). */
  readonly user: string;
  /** Its password. */
  readonly password: string;
  /**
   * Replicate over TLS, verifying each peer's certificate against this CA file and its
   * address (the peer's `host` must be in its certificate's SANs).
   */
  readonly tls?: { readonly caPath: string };
}

const ACCOUNT_NAME = /^[A-Za-z0-9_]{1,32}$/;
const DATABASE_NAME = /^[A-Za-z0-9_]{1,64}$/;
const CONNECTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const HOST_PATTERN = /^[A-Za-z0-9.:/%_-]{1,255}$/;

/** Seconds between a replica's reconnect attempts: short, so a peer's restart is caught up quickly. */
const MASTER_CONNECT_RETRY_SECONDS = 5;

function fail(what: string, problems: string[]): void {
  if (problems.length > 0) throw new Error(`${what}:\n  - ${problems.join("\n  - ")}`);
}

function asList(patterns: string | readonly string[]): readonly string[] {
  return typeof patterns === "string" ? [patterns] : patterns;
}

/** A database name as the object of GRANT, where `_` and `%` are wildcards unless escaped. */
function grantDatabase(name: string): string {
  return sqlIdentifier(name.replace(/[_%]/g, "\\$&"));
}

function account(user: string, host: string): string {
  return `${sqlString(user)}@${sqlString(host)}`;
}

/** `x NOT IN (...)`, or TRUE for an empty list (SQL has no empty IN list). */
function notIn(expr: string, values: readonly string[]): string {
  return values.length === 0 ? "TRUE" : `${expr} NOT IN (${values.map(sqlString).join(", ")})`;
}

/**
 * Statements creating (or updating the password and privileges of) one
 * account. CREATE IF NOT EXISTS + ALTER makes password rotation work on re-run.
 */
function accountSql(user: string, host: string, password: string, grant: string, requireSsl: boolean): string[] {
  const who = account(user, host);
  const auth = `IDENTIFIED BY ${sqlString(password)}${requireSsl ? " REQUIRE SSL" : ""}`;
  return [
    `CREATE USER IF NOT EXISTS ${who} ${auth};`,
    `ALTER USER ${who} ${auth};`,
    `GRANT ${grant} TO ${who};`,
  ];
}

/**
 * Validate {@link UsersSqlSettings}.
 * @throws Error listing every problem.
 */
export function validateUsersSqlSettings(s: UsersSqlSettings): void {
  const problems: string[] = [];
  for (const [label, value] of [["replicationUser", s.replicationUser], ["appUser", s.appUser]] as const) {
    if (!ACCOUNT_NAME.test(value)) problems.push(`${label} must match ${ACCOUNT_NAME} (got ${JSON.stringify(value)})`);
  }
  if (s.replicationUser === s.appUser) problems.push("replicationUser and appUser must differ");
  for (const [label, value] of [["replicationPassword", s.replicationPassword], ["appPassword", s.appPassword]] as const) {
    if (value.length === 0) problems.push(`${label} must not be empty`);
  }
  if (!DATABASE_NAME.test(s.appDatabase)) {
    problems.push(`appDatabase must match ${DATABASE_NAME} (got ${JSON.stringify(s.appDatabase)})`);
  }
  if (s.appDatabase.toLowerCase() === DB_META_SCHEMA) problems.push(`appDatabase must not be ${DB_META_SCHEMA}`);
  for (const [label, patterns] of [["appHostPattern", s.appHostPattern], ["replicationHostPattern", s.replicationHostPattern]] as const) {
    const list = asList(patterns);
    if (list.length === 0) problems.push(`${label} must list at least one host pattern`);
    for (const p of list) {
      if (!HOST_PATTERN.test(p)) problems.push(`${label} ${JSON.stringify(p)} is not a host pattern like 10.10.0.0/255.255.240.0`);
    }
  }
  fail("invalid database users settings", problems);
}

/**
 * SQL creating the application database and the two accounts of one node.
 *
 * Runs with `sql_log_bin=0`: every node applies it itself, and a replicated
 * CREATE USER would stop the peers' SQL threads with error 1396 (account
 * already exists). Accounts with these user names at hosts no longer listed
 * are dropped, so shrinking the host list revokes access.
 */
export function renderUsersSql(s: UsersSqlSettings): string {
  validateUsersSqlSettings(s);
  const replHosts = [...new Set(asList(s.replicationHostPattern))];
  const appHosts = [...new Set(asList(s.appHostPattern))];
  const stale =
    `(User = ${sqlString(s.replicationUser)} AND ${notIn("Host", replHosts)})` +
    ` OR (User = ${sqlString(s.appUser)} AND ${notIn("Host", appHosts)})`;
  return [
    "-- Managed by dns-rr-ha (components/db/replicationSql.ts). Applied on every node by the wiring.",
    "-- Node-local on purpose: peers apply the same file themselves.",
    "SET SESSION sql_log_bin = 0;",
    `CREATE DATABASE IF NOT EXISTS ${sqlIdentifier(s.appDatabase)};`,
    "",
    "-- Peers replicate from this node with this account; a replica needs nothing more on its source.",
    ...replHosts.flatMap((h) => accountSql(s.replicationUser, h, s.replicationPassword, "REPLICATION SLAVE ON *.*", s.requireSsl === true)),
    "",
    "-- The application: data manipulation plus CREATE for its CREATE TABLE IF NOT EXISTS, on its database only.",
    ...appHosts.flatMap((h) =>
      accountSql(s.appUser, h, s.appPassword, `${APP_PRIVILEGES.join(", ")} ON ${grantDatabase(s.appDatabase)}.*`, s.requireSsl === true),
    ),
    "",
    "-- Drop our accounts at hosts no longer listed (one at a time: no cursor over a table being changed).",
    "DELIMITER $$",
    "BEGIN NOT ATOMIC",
    "  DECLARE stale VARCHAR(400);",
    "  prune: LOOP",
    `    SET stale = (SELECT CONCAT(QUOTE(User), '@', QUOTE(Host)) FROM mysql.global_priv WHERE ${stale} LIMIT 1);`,
    "    IF stale IS NULL THEN LEAVE prune; END IF;",
    "    EXECUTE IMMEDIATE CONCAT('DROP USER ', stale);",
    "  END LOOP prune;",
    "END$$",
    "DELIMITER ;",
    "",
  ].join("\n");
}

/**
 * Validate {@link ReplicationSqlSettings}.
 * @throws Error listing every problem.
 */
export function validateReplicationSqlSettings(s: ReplicationSqlSettings): void {
  const problems: string[] = [];
  if (!CONNECTION_NAME.test(s.self)) problems.push(`self must match ${CONNECTION_NAME} (got ${JSON.stringify(s.self)})`);
  if (!ACCOUNT_NAME.test(s.user)) problems.push(`user must match ${ACCOUNT_NAME} (got ${JSON.stringify(s.user)})`);
  if (s.password.length === 0) problems.push("password must not be empty");
  if (s.tls !== undefined && !/^\/[A-Za-z0-9._/-]+$/.test(s.tls.caPath)) {
    problems.push(`tls.caPath must be an absolute path of [A-Za-z0-9._/-] characters (got ${JSON.stringify(s.tls.caPath)})`);
  }
  const names = new Set<string>();
  const endpoints = new Set<string>();
  for (const p of s.peers) {
    // Connection names are case-insensitive in MariaDB.
    const key = p.name.toLowerCase();
    if (!CONNECTION_NAME.test(p.name)) problems.push(`peer name must match ${CONNECTION_NAME} (got ${JSON.stringify(p.name)})`);
    if (key === s.self.toLowerCase()) problems.push(`peer ${p.name} is this node itself`);
    if (names.has(key)) problems.push(`peer name ${p.name} is listed twice`);
    names.add(key);
    if (!isIPv4(p.host)) problems.push(`peer ${p.name}: host must be an IPv4 address (got ${JSON.stringify(p.host)})`);
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) problems.push(`peer ${p.name}: port must be 1..65535 (got ${p.port})`);
    const endpoint = `${p.host}:${p.port}`;
    if (endpoints.has(endpoint)) problems.push(`peer ${p.name}: ${endpoint} is used by another peer`);
    endpoints.add(endpoint);
  }
  fail("invalid replication settings", problems);
}

/**
 * SQL making this node replicate from exactly the given peers: one named
 * connection per peer (also for two nodes, so there is a single code path),
 * GTID based (`MASTER_USE_GTID=slave_pos`), and removal of the connections
 * to peers that are no longer listed.
 */
export function renderReplicationSql(s: ReplicationSqlSettings): string {
  validateReplicationSqlSettings(s);
  const meta = `${sqlIdentifier(DB_META_SCHEMA)}.\`replication_connections\``;
  const peerNames = s.peers.map((p) => p.name);
  // Every option is set on each run (CHANGE MASTER keeps the ones it is not given).
  const ssl = s.tls === undefined ? "" : `, MASTER_SSL = 1, MASTER_SSL_CA = ${sqlString(s.tls.caPath)}, MASTER_SSL_VERIFY_SERVER_CERT = 1`;
  const perPeer = s.peers.flatMap((p) => {
    const name = sqlString(p.name);
    return [
      `-- Peer ${p.name} at ${p.host}:${p.port}.`,
      // Recorded before it exists, so a failure below still leaves it prunable.
      `INSERT IGNORE INTO ${meta} (name) VALUES (${name})$$`,
      "BEGIN NOT ATOMIC",
      "  -- 1617: no such connection yet (first run).",
      "  DECLARE CONTINUE HANDLER FOR 1617 BEGIN END;",
      `  STOP SLAVE ${name};`,
      "END$$",
      `CHANGE MASTER ${name} TO MASTER_HOST = ${sqlString(p.host)}, MASTER_PORT = ${p.port},` +
        ` MASTER_USER = ${sqlString(s.user)}, MASTER_PASSWORD = ${sqlString(s.password)},` +
        ` MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = ${MASTER_CONNECT_RETRY_SECONDS}${ssl}$$`,
      `START SLAVE ${name}$$`,
    ];
  });
  return [
    `-- Managed by dns-rr-ha (components/db/replicationSql.ts). Replication sources of node ${s.self}.`,
    "SET SESSION sql_log_bin = 0;",
    `CREATE DATABASE IF NOT EXISTS ${sqlIdentifier(DB_META_SCHEMA)};`,
    `CREATE TABLE IF NOT EXISTS ${meta} (name VARCHAR(64) NOT NULL PRIMARY KEY) ENGINE = InnoDB;`,
    "DELIMITER $$",
    "-- Remove the connections to peers that left the cluster.",
    "BEGIN NOT ATOMIC",
    "  DECLARE stale VARCHAR(64);",
    "  -- 1617: the connection is already gone; only the bookkeeping row is left.",
    "  DECLARE CONTINUE HANDLER FOR 1617 BEGIN END;",
    "  prune: LOOP",
    `    SET stale = (SELECT name FROM ${meta} WHERE ${notIn("name", peerNames)} LIMIT 1);`,
    "    IF stale IS NULL THEN LEAVE prune; END IF;",
    "    EXECUTE IMMEDIATE CONCAT('STOP SLAVE ', QUOTE(stale));",
    "    EXECUTE IMMEDIATE CONCAT('RESET SLAVE ', QUOTE(stale), ' ALL');",
    `    DELETE FROM ${meta} WHERE name = stale;`,
    "  END LOOP prune;",
    "END$$",
    ...perPeer,
    "DELIMITER ;",
    "",
  ].join("\n");
}

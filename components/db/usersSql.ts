/**
 * Renderer for the accounts SQL the wiring applies on every database node (as root, through the
 * unix socket, with the `mariadb` command-line client, which understands the `DELIMITER` lines
 * used around compound statements).
 *
 * Idempotent: re-running it converges the node to the rendered state (passwords rotated, stale
 * accounts removed) and never fails because something already exists. In a Galera cluster
 * account statements replicate as DDL (total order), so every node applying it too is harmless.
 */
import { sqlIdentifier, sqlString } from "./sqlString";

/** Privileges of the application account on its database. CREATE is for the demo's `CREATE TABLE IF NOT EXISTS`. */
export const APP_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE"] as const;

/** Inputs of {@link renderUsersSql}. Host patterns come from {@link cidrToMariaDbHost}. */
export interface UsersSqlSettings {
  /** Account the PHP application uses. */
  readonly appUser: string;
  /** Its password (any characters; rotated by re-running). */
  readonly appPassword: string;
  /** Database the application owns. */
  readonly appDatabase: string;
  /** MariaDB host pattern(s) the app servers connect from, e.g. `10.10.0.0/255.255.240.0`. */
  readonly appHostPattern: string | readonly string[];
  /** The account `REQUIRE SSL` (set on create and on every re-run, so an existing account is converted). */
  readonly requireSsl?: boolean;
  /**
   * Accounts (user names, every host) that must not exist: e.g. `replicator`, the replication
   * account of the master-master design, which a Galera cluster does not need.
   */
  readonly dropUsers?: readonly string[];
}

const ACCOUNT_NAME = /^[A-Za-z0-9_]{1,32}$/;
const DATABASE_NAME = /^[A-Za-z0-9_]{1,64}$/;
const HOST_PATTERN = /^[A-Za-z0-9.:/%_-]{1,255}$/;

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
  if (!ACCOUNT_NAME.test(s.appUser)) problems.push(`appUser must match ${ACCOUNT_NAME} (got ${JSON.stringify(s.appUser)})`);
  if (s.appPassword.length === 0) problems.push("appPassword must not be empty");
  if (!DATABASE_NAME.test(s.appDatabase)) problems.push(`appDatabase must match ${DATABASE_NAME} (got ${JSON.stringify(s.appDatabase)})`);
  const list = asList(s.appHostPattern);
  if (list.length === 0) problems.push("appHostPattern must list at least one host pattern");
  for (const p of list) {
    if (!HOST_PATTERN.test(p)) problems.push(`appHostPattern ${JSON.stringify(p)} is not a host pattern like 10.10.0.0/255.255.240.0`);
  }
  for (const u of s.dropUsers ?? []) {
    if (!ACCOUNT_NAME.test(u)) problems.push(`dropUsers entry ${JSON.stringify(u)} must match ${ACCOUNT_NAME}`);
    if (u === s.appUser) problems.push(`dropUsers must not name appUser ${JSON.stringify(u)}`);
  }
  fail("invalid database users settings", problems);
}

/**
 * SQL creating the application database and account. With `sql_log_bin=0` the statements stay out
 * of the binlogs, so a point-in-time replay never touches accounts. Accounts of this user name at
 * hosts no longer listed, and every account of `dropUsers`, are dropped, so shrinking the host
 * list revokes access.
 */
export function renderUsersSql(s: UsersSqlSettings): string {
  validateUsersSqlSettings(s);
  const appHosts = [...new Set(asList(s.appHostPattern))];
  const stale = [
    `(User = ${sqlString(s.appUser)} AND ${notIn("Host", appHosts)})`,
    ...(s.dropUsers ?? []).map((u) => `User = ${sqlString(u)}`),
  ].join(" OR ");
  return [
    "-- Managed by dns-rr-ha (components/db/usersSql.ts). Applied on every node by the wiring.",
    "SET SESSION sql_log_bin = 0;",
    `CREATE DATABASE IF NOT EXISTS ${sqlIdentifier(s.appDatabase)};`,
    "",
    "-- The application: data manipulation plus CREATE for its CREATE TABLE IF NOT EXISTS, on its database only.",
    ...appHosts.flatMap((h) =>
      accountSql(s.appUser, h, s.appPassword, `${APP_PRIVILEGES.join(", ")} ON ${grantDatabase(s.appDatabase)}.*`, s.requireSsl === true),
    ),
    "",
    "-- Drop our accounts at hosts no longer listed, and retired ones (one at a time: no cursor over a table being changed).",
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

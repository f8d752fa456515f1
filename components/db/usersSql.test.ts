/**
 * The accounts SQL: rendering and validation, then applied (as the wiring does, through the
 * `mariadb` client) to a real Galera node: exact privileges, REQUIRE SSL, password rotation,
 * stale hosts and retired accounts dropped, idempotence, passwords of any characters.
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { APP_PRIVILEGES, renderUsersSql, validateUsersSqlSettings, type UsersSqlSettings } from "./usersSql";
import { cidrToMariaDbHost } from "./mariaDbHost";
import { startLocalMariadb, type LocalMariadb } from "./testing/localMariadb";

const loopback = cidrToMariaDbHost("127.0.0.0/8");
const users: UsersSqlSettings = {
  appUser: "app",
  appPassword: `a'p"p\\pw`,
  appDatabase: "app_db",
  appHostPattern: loopback,
};

describe("rendering (pure)", () => {
  test("node-local, idempotent by construction, the password quoted", () => {
    const sql = renderUsersSql(users);
    const statements = sql.split("\n").filter((l) => l !== "" && !l.startsWith("--"));
    assert.equal(statements[0], "SET SESSION sql_log_bin = 0;");
    assert.equal(statements[1], "CREATE DATABASE IF NOT EXISTS `app_db`;");
    assert.match(sql, /^CREATE USER IF NOT EXISTS 'app'@'127\.0\.0\.0\/255\.0\.0\.0' IDENTIFIED BY 'a\\'p"p\\\\pw';$/m);
    assert.match(sql, /^ALTER USER 'app'@'127\.0\.0\.0\/255\.0\.0\.0' IDENTIFIED BY 'a\\'p"p\\\\pw';$/m);
    assert.match(sql, new RegExp(`^GRANT ${APP_PRIVILEGES.join(", ")} ON \`app\\\\_db\`\\.\\* TO 'app'@'127\\.0\\.0\\.0/255\\.0\\.0\\.0';$`, "m"));
    assert.doesNotMatch(sql, /REQUIRE/);
  });

  test("REQUIRE SSL on create and on every re-run (converts an existing account)", () => {
    const sql = renderUsersSql({ ...users, requireSsl: true, appHostPattern: [loopback, "10.10.0.0/255.255.240.0"] });
    for (const host of [loopback, "10.10.0.0/255.255.240.0"].map((h) => h.replace(/[./]/g, "\\$&"))) {
      assert.match(sql, new RegExp(`^CREATE USER IF NOT EXISTS 'app'@'${host}' IDENTIFIED BY '[^\\n]*' REQUIRE SSL;$`, "m"));
      assert.match(sql, new RegExp(`^ALTER USER 'app'@'${host}' IDENTIFIED BY '[^\\n]*' REQUIRE SSL;$`, "m"));
    }
  });

  test("settings are validated, every problem named", () => {
    const bad: UsersSqlSettings = { appUser: "app-user", appPassword: "", appDatabase: "app-db", appHostPattern: ["10.0.0.0/8'; DROP USER root; --", ""], dropUsers: ["app-user", "x'y"] };
    assert.throws(() => validateUsersSqlSettings(bad), (e: Error) => {
      for (const w of ["appUser must match", "appPassword must not be empty", "appDatabase must match", `appHostPattern "10.0.0.0/8'; DROP USER root; --"`, 'appHostPattern ""', 'dropUsers entry "x\'y"', 'dropUsers must not name appUser "app-user"']) {
        assert.ok(e.message.includes(w), `${w} missing from:\n${e.message}`);
      }
      return e.message.startsWith("invalid database users settings:\n  - ");
    });
    assert.throws(() => renderUsersSql({ ...users, appHostPattern: [] }), /at least one host pattern/);
    assert.throws(() => renderUsersSql({ ...users, dropUsers: ["app"] }), /dropUsers must not name appUser/);
  });
});

describe("against a real Galera node", () => {
  let db: LocalMariadb;
  before(async () => {
    db = await startLocalMariadb();
  });
  after(async () => {
    await db?.stop();
  });

  /** Log in over TCP as an account; returns whether the query succeeded. */
  const tcp = (user: string, password: string, query: string): { ok: boolean; out: string } => {
    const r = spawnSync(
      "mariadb",
      ["--no-defaults", "-h", "127.0.0.1", "-P", String(db.port), "-u", user, `--password=${password}`, "--skip-ssl", "--batch", "-N", "-e", query],
      { encoding: "utf8" },
    );
    return { ok: r.status === 0, out: r.stdout + r.stderr };
  };
  // --batch output doubles backslashes; undo that to compare with what MariaDB shows.
  const grants = (user: string, host: string): string[] =>
    db.sql(`SHOW GRANTS FOR '${user}'@'${host}';`).trim().split("\n").map((g) => g.replace(/ IDENTIFIED BY PASSWORD '[^']*'/, "").replace(/\\\\/g, "\\"));
  const binlogPos = (): string => db.sql("SELECT @@gtid_binlog_pos;").trim();
  const hostsOf = (user: string): string[] =>
    db.sql(`SELECT Host FROM mysql.global_priv WHERE User = '${user}' ORDER BY Host;`).trim().split("\n").filter(Boolean);
  /** Every account and its privileges (less the time of the last ALTER USER, which every run renews). */
  const accounts = (): string => db.sql("SELECT User, Host, JSON_REMOVE(Priv, '$.password_last_changed') FROM mysql.global_priv ORDER BY User, Host;");

  test("exact privileges, nothing binlogged, a second run changes nothing", () => {
    const pos = binlogPos();
    db.sql(renderUsersSql(users));
    const first = accounts();
    db.sql(renderUsersSql(users));
    assert.equal(accounts(), first, "idempotent");
    assert.equal(binlogPos(), pos, "node-local: a point-in-time replay never touches accounts");
    assert.deepEqual(grants("app", loopback), [
      `GRANT USAGE ON *.* TO \`app\`@\`${loopback}\``,
      `GRANT ${APP_PRIVILEGES.join(", ")} ON \`app\\_db\`.* TO \`app\`@\`${loopback}\``,
    ]);
  });

  test("the app account works over TCP with its quoted password, on its database only", () => {
    const ok = tcp("app", users.appPassword, "CREATE TABLE IF NOT EXISTS app_db.t (id INT PRIMARY KEY); INSERT INTO app_db.t VALUES (1); SELECT COUNT(*) FROM app_db.t;");
    assert.ok(ok.ok, ok.out);
    assert.equal(ok.out.trim(), "1");
    // `_` in the grant is escaped, so a look-alike database is not covered.
    db.sql("CREATE DATABASE IF NOT EXISTS appXdb; CREATE TABLE IF NOT EXISTS appXdb.t (id INT);");
    assert.ok(!tcp("app", users.appPassword, "SELECT * FROM appXdb.t;").ok);
    assert.ok(!tcp("app", users.appPassword, "CREATE DATABASE other;").ok);
    assert.ok(!tcp("app", users.appPassword, "DROP TABLE app_db.t;").ok);
    assert.ok(!tcp("app", "wrong", "SELECT 1;").ok);
  });

  test("re-running with a new password rotates it", () => {
    db.sql(renderUsersSql({ ...users, appPassword: "new\\'pw" }));
    assert.ok(tcp("app", "new\\'pw", "SELECT 1;").ok);
    assert.ok(!tcp("app", users.appPassword, "SELECT 1;").ok);
  });

  test("passwords of any characters work (quotes, backslashes, the DELIMITER, newlines, non-ASCII)", () => {
    for (const password of [`'`, `\\`, `\\'`, `"'\\"`, "x;y$$z", "END$$\nDELIMITER ;", "'; DROP USER 'app'@'%'; --", "a\tb\r\nc", "é€😀", "%_*"]) {
      db.sql(renderUsersSql({ ...users, appPassword: password }));
      const r = tcp("app", password, "SELECT CURRENT_USER();");
      assert.ok(r.ok, `${JSON.stringify(password)}: ${r.out}`);
      assert.equal(r.out.trim(), `app@${loopback}`);
    }
    assert.deepEqual(hostsOf("app"), [loopback]);
  });

  test("accounts at hosts no longer listed are dropped, other accounts untouched", () => {
    db.sql("CREATE USER IF NOT EXISTS 'someone'@'127.0.0.1' IDENTIFIED BY 'x'; CREATE USER IF NOT EXISTS 'app'@'10.9.%' IDENTIFIED BY 'y';");
    const pos = binlogPos();
    db.sql(renderUsersSql({ ...users, appHostPattern: ["127.0.0.1", "10.0.0.0/255.0.0.0"] }));
    assert.deepEqual(hostsOf("app"), ["10.0.0.0/255.0.0.0", "127.0.0.1"]);
    assert.deepEqual(hostsOf("someone"), ["127.0.0.1"]);
    assert.ok(tcp("app", users.appPassword, "SELECT 1;").ok, "127.0.0.1 still works");
    assert.equal(binlogPos(), pos, "dropping stale accounts is node-local too");
  });

  test("dropUsers: the master-master design's replicator is dropped at every host, nothing else", () => {
    db.sql(["'replicator'@'10.0.0.0/255.0.0.0'", "'replicator'@'%'", "'replicator'@'localhost'", "'replicator2'@'%'"].map((a) => `CREATE USER IF NOT EXISTS ${a} IDENTIFIED BY 'r';`).join("\n")
      + "GRANT REPLICATION SLAVE ON *.* TO 'replicator'@'%';");
    assert.equal(hostsOf("replicator").length, 3);
    const settings = { ...users, appHostPattern: ["127.0.0.1", "10.0.0.0/255.0.0.0"], dropUsers: ["replicator"] };
    db.sql(renderUsersSql(settings));
    assert.deepEqual(hostsOf("replicator"), []);
    assert.deepEqual(hostsOf("replicator2"), ["%"], "only the exact user name");
    assert.deepEqual(hostsOf("someone"), ["127.0.0.1"]);
    assert.deepEqual(hostsOf("app"), ["10.0.0.0/255.0.0.0", "127.0.0.1"]);
    const after = accounts();
    db.sql(renderUsersSql(settings));
    assert.equal(accounts(), after, "with nothing left to drop, a re-run is a no-op");
  });

  // Last: the accounts stay REQUIRE SSL (a re-run without requireSsl never weakens them).
  test("REQUIRE SSL: set on a new account and on an existing one; a plain login is refused", () => {
    db.sql(renderUsersSql({ ...users, appPassword: "pw" }));
    assert.ok(tcp("app", "pw", "SELECT 1;").ok, "before: plain text allowed");
    db.sql(renderUsersSql({ ...users, appPassword: "pw", requireSsl: true, appHostPattern: [loopback, "127.0.0.1"] }));
    for (const host of [loopback, "127.0.0.1"]) assert.match(db.sql(`SHOW CREATE USER 'app'@'${host}';`), /REQUIRE SSL/, host);
    const plain = tcp("app", "pw", "SELECT 1;");
    assert.ok(!plain.ok, plain.out);
    assert.match(plain.out, /Access denied/);
  });
});

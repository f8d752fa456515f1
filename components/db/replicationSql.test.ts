import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  DB_META_SCHEMA,
  renderReplicationSql,
  renderUsersSql,
  type ReplicationSqlSettings,
  type UsersSqlSettings,
} from "./replicationSql";
import { cidrToMariaDbHost } from "./mariaDbHost";
import { startLocalMariadb, type LocalMariadb } from "./testing/localMariadb";

const users: UsersSqlSettings = {
  replicationUser: "repl",
  replicationPassword: "repl-pw",
  appUser: "app",
  appPassword: `a'p"p\\pw`,
  appDatabase: "app_db",
  appHostPattern: cidrToMariaDbHost("127.0.0.0/8"),
  replicationHostPattern: cidrToMariaDbHost("127.0.0.0/8"),
};

const replication: ReplicationSqlSettings = {
  self: "nyc3",
  peers: [
    { name: "fra1", host: "10.20.0.5", port: 3306 },
    { name: "sgp1", host: "10.30.0.5", port: 3306 },
  ],
  user: "repl",
  password: "x'y\\z",
};

describe("rendering (pure)", () => {
  test("users SQL is node-local and idempotent by construction", () => {
    const sql = renderUsersSql(users);
    assert.match(sql.split("\n").find((l) => !l.startsWith("--")) ?? "", /^SET SESSION sql_log_bin = 0;$/);
    assert.match(sql, /CREATE USER IF NOT EXISTS 'repl'@'127\.0\.0\.0\/255\.0\.0\.0' IDENTIFIED BY 'repl-pw';/);
    assert.match(sql, /ALTER USER 'app'@'127\.0\.0\.0\/255\.0\.0\.0' IDENTIFIED BY 'a\\'p"p\\\\pw';/);
    assert.match(sql, /GRANT SELECT, INSERT, UPDATE, DELETE, CREATE ON `app\\_db`\.\* TO 'app'@/);
  });

  test("replication SQL: one named GTID connection per peer", () => {
    const sql = renderReplicationSql(replication);
    for (const peer of replication.peers) {
      assert.match(
        sql,
        new RegExp(
          `CHANGE MASTER '${peer.name}' TO MASTER_HOST = '${peer.host.replace(/\./g, "\\.")}', MASTER_PORT = 3306, ` +
            `MASTER_USER = 'repl', MASTER_PASSWORD = 'x\\\\'y\\\\\\\\z', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 5\\$\\$`,
        ),
      );
      assert.match(sql, new RegExp(`START SLAVE '${peer.name}'\\$\\$`));
    }
  });

  test("with TLS: accounts REQUIRE SSL on create and on re-run; replication verifies the peer against the CA", () => {
    const plain = renderUsersSql(users);
    assert.doesNotMatch(plain, /REQUIRE/);
    const sql = renderUsersSql({ ...users, requireSsl: true });
    for (const who of ["'repl'", "'app'"]) {
      assert.match(sql, new RegExp(`CREATE USER IF NOT EXISTS ${who}@'127\\.0\\.0\\.0/255\\.0\\.0\\.0' IDENTIFIED BY '[^\\n]*' REQUIRE SSL;`));
      assert.match(sql, new RegExp(`ALTER USER ${who}@'127\\.0\\.0\\.0/255\\.0\\.0\\.0' IDENTIFIED BY '[^\\n]*' REQUIRE SSL;`));
    }
    const repl = renderReplicationSql({ ...replication, tls: { caPath: "/etc/mysql/tls/ca.pem" } });
    const changes = repl.split("\n").filter((l) => l.startsWith("CHANGE MASTER"));
    assert.equal(changes.length, 2);
    for (const line of changes) {
      assert.match(line, /, MASTER_SSL = 1, MASTER_SSL_CA = '\/etc\/mysql\/tls\/ca\.pem', MASTER_SSL_VERIFY_SERVER_CERT = 1\$\$$/);
    }
    assert.throws(() => renderReplicationSql({ ...replication, tls: { caPath: "ca.pem' , MASTER_SSL = 0" } }), /tls\.caPath must be an absolute path/);
  });

  test("replication settings are validated", () => {
    const bad = (patch: Partial<ReplicationSqlSettings>, message: RegExp): void => {
      assert.throws(() => renderReplicationSql({ ...replication, ...patch }), message);
    };
    bad({ peers: [{ name: "NYC3", host: "10.0.0.1", port: 3306 }] }, /this node itself/);
    bad({ peers: [replication.peers[0], { ...replication.peers[0], name: "FRA1", host: "10.0.0.9" }] }, /listed twice/);
    bad({ peers: [replication.peers[0], { ...replication.peers[1], host: "10.20.0.5" }] }, /used by another peer/);
    bad({ peers: [{ name: "x", host: "db.example", port: 3306 }] }, /IPv4/);
    bad({ peers: [{ name: "x", host: "10.0.0.1", port: 0 }] }, /port/);
    bad({ peers: [{ name: "a'b", host: "10.0.0.1", port: 1 }] }, /peer name/);
    bad({ password: "" }, /password must not be empty/);
  });

  test("users settings are validated", () => {
    const bad = (patch: Partial<UsersSqlSettings>, message: RegExp): void => {
      assert.throws(() => renderUsersSql({ ...users, ...patch }), message);
    };
    bad({ appUser: "repl" }, /must differ/);
    bad({ appDatabase: "app-db" }, /appDatabase/);
    bad({ appDatabase: DB_META_SCHEMA }, /must not be/);
    bad({ appHostPattern: [] }, /at least one/);
    bad({ replicationHostPattern: "10.0.0.0/8'; DROP" }, /not a host pattern/);
    bad({ appPassword: "" }, /appPassword must not be empty/);
  });
});

describe("against a real MariaDB", () => {
  let db: LocalMariadb;
  before(async () => {
    db = await startLocalMariadb({ nodeIndex: 0, nodeCount: 1 });
  });
  after(async () => {
    await db?.stop();
  });

  /** Log in over TCP as an account; returns whether the query succeeded. */
  const tcp = (user: string, password: string, query: string): { ok: boolean; out: string } => {
    const r = spawnSync(
      "mariadb",
      ["--no-defaults", "-h", "127.0.0.1", "-P", String(db.port), "-u", user, `--password=${password}`, "--batch", "-N", "-e", query],
      { encoding: "utf8" },
    );
    return { ok: r.status === 0, out: r.stdout + r.stderr };
  };
  // --batch output doubles backslashes; undo that to compare with what MariaDB shows.
  const grants = (user: string, host: string): string[] =>
    db
      .sql(`SHOW GRANTS FOR '${user}'@'${host}';`)
      .trim()
      .split("\n")
      .map((g) => g.replace(/ IDENTIFIED BY PASSWORD '[^']*'/, "").replace(/\\\\/g, "\\"));
  const binlogPos = (): string => db.sql("SELECT @@gtid_binlog_pos;").trim();
  const hostsOf = (user: string): string[] =>
    db.sql(`SELECT Host FROM mysql.global_priv WHERE User = '${user}' ORDER BY Host;`).trim().split("\n").filter(Boolean);

  test("users: exact privileges, nothing binlogged, safe to re-run", () => {
    db.sql(renderUsersSql(users));
    db.sql(renderUsersSql(users));
    assert.equal(binlogPos(), "");
    assert.deepEqual(grants("repl", "127.0.0.0/255.0.0.0"), ["GRANT REPLICATION SLAVE ON *.* TO `repl`@`127.0.0.0/255.0.0.0`"]);
    assert.deepEqual(grants("app", "127.0.0.0/255.0.0.0"), [
      "GRANT USAGE ON *.* TO `app`@`127.0.0.0/255.0.0.0`",
      "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE ON `app\\_db`.* TO `app`@`127.0.0.0/255.0.0.0`",
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
    assert.ok(tcp("repl", users.replicationPassword, "SELECT 1;").ok);
  });

  test("re-running with new passwords rotates them", () => {
    db.sql(renderUsersSql({ ...users, appPassword: "new\\'pw", replicationPassword: "repl-2" }));
    assert.ok(tcp("app", "new\\'pw", "SELECT 1;").ok);
    assert.ok(!tcp("app", users.appPassword, "SELECT 1;").ok);
    assert.ok(tcp("repl", "repl-2", "SELECT 1;").ok);
    assert.ok(!tcp("repl", users.replicationPassword, "SELECT 1;").ok);
  });

  test("accounts at hosts no longer listed are dropped, other accounts untouched", () => {
    db.sql("CREATE USER IF NOT EXISTS 'someone'@'127.0.0.1' IDENTIFIED BY 'x';");
    const before = binlogPos();
    db.sql(renderUsersSql({ ...users, appHostPattern: ["127.0.0.1", "10.0.0.0/255.0.0.0"], replicationHostPattern: "10.9.0.0/255.255.0.0" }));
    assert.deepEqual(hostsOf("app"), ["10.0.0.0/255.0.0.0", "127.0.0.1"]);
    assert.deepEqual(hostsOf("repl"), ["10.9.0.0/255.255.0.0"]);
    assert.deepEqual(hostsOf("someone"), ["127.0.0.1"]);
    assert.ok(!tcp("repl", users.replicationPassword, "SELECT 1;").ok, "old repl host pattern must be gone");
    assert.equal(binlogPos(), before, "dropping stale accounts is node-local too");
  });

  const connections = (): Record<string, string>[] =>
    db.rows("SHOW ALL SLAVES STATUS").sort((a, b) => a.Connection_name.localeCompare(b.Connection_name));
  const peer = (name: string, port: number) => ({ name, host: "127.0.0.1", port });
  const apply = (peers: ReplicationSqlSettings["peers"]): void => {
    db.sql(renderReplicationSql({ self: "me", peers, user: "repl", password: "p'w" }));
  };

  test("replication: creates named GTID connections, re-runs cleanly", () => {
    apply([peer("x", 1), peer("y", 2)]);
    apply([peer("x", 1), peer("y", 2)]);
    const rows = connections();
    assert.deepEqual(rows.map((r) => r.Connection_name), ["x", "y"]);
    for (const [i, r] of rows.entries()) {
      assert.equal(r.Master_Host, "127.0.0.1");
      assert.equal(r.Master_Port, String(i + 1));
      assert.equal(r.Master_User, "repl");
      assert.equal(r.Using_Gtid, "Slave_Pos");
      assert.equal(r.Connect_Retry, "5");
      assert.equal(r.Slave_SQL_Running, "Yes", "started");
    }
  });

  test("replication: peers that left are removed, changed peers updated, foreign connections kept", () => {
    db.sql("CHANGE MASTER 'manual' TO MASTER_HOST = '127.0.0.1', MASTER_PORT = 3;");
    apply([peer("y", 4)]);
    assert.deepEqual(connections().map((r) => `${r.Connection_name}:${r.Master_Port}`), ["manual:3", "y:4"]);
    assert.equal(db.sql(`SELECT name FROM ${DB_META_SCHEMA}.replication_connections;`).trim(), "y");
    apply([]);
    assert.deepEqual(connections().map((r) => r.Connection_name), ["manual"]);
    assert.equal(db.sql(`SELECT COUNT(*) FROM ${DB_META_SCHEMA}.replication_connections;`).trim(), "0");
  });

  test("replication: a recorded connection that vanished by hand does not break pruning", () => {
    const before = binlogPos();
    apply([peer("z", 5)]);
    db.sql("STOP SLAVE 'z'; RESET SLAVE 'z' ALL;");
    apply([]);
    assert.deepEqual(connections().map((r) => r.Connection_name), ["manual"]);
    assert.equal(binlogPos(), before, "bookkeeping is node-local");
  });
});

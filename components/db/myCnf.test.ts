import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  dbNodeMyCnfSettings,
  innodbBufferPoolMb,
  renderMyCnf,
  validateDbCluster,
  validateMyCnfSettings,
  type MyCnfSettings,
} from "./myCnf";
import { dbScriptSourcePath } from "./dbScripts";
import {
  clientArgs,
  describeCluster,
  localNodeName,
  replicationRunning,
  startReplicatingCluster,
  waitUntil,
  type LocalMariadb,
} from "./testing/localMariadb";

const production = dbNodeMyCnfSettings({
  nodeIndex: 2,
  nodeCount: 3,
  bindAddress: "10.10.0.5",
  datadir: "/mnt/vol-a/mysql",
  memoryMb: 2048,
});

/** Run `mariadbd --help --verbose` on a config file; returns exit status, the variables table and stderr. */
function mariadbdHelp(cnf: string): { status: number | null; variables: Map<string, string>; stderr: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "dns-rr-ha-cnf-"));
  try {
    const file = path.join(dir, "my.cnf");
    writeFileSync(file, cnf);
    // --user=root: mariadbd refuses to run as root otherwise, even for --help.
    const r = spawnSync("mariadbd", [`--defaults-file=${file}`, "--user=root", "--help", "--verbose"], { encoding: "utf8" });
    const variables = new Map<string, string>();
    const lines = r.stdout.split("\n");
    const start = lines.findIndex((l) => /^-{10,} -{10,}/.test(l));
    for (const line of start >= 0 ? lines.slice(start + 1) : []) {
      const m = /^(\S+)\s+(.*)$/.exec(line);
      if (m) variables.set(m[1], m[2].trim());
    }
    return { status: r.status, variables, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Option names (dash form) set by a rendered config. */
function renderedOptions(cnf: string): Map<string, string> {
  const options = new Map<string, string>();
  for (const line of cnf.split("\n")) {
    const m = /^([a-z_]+) = (.*)$/.exec(line);
    if (m) options.set(m[1].replace(/_/g, "-"), m[2]);
  }
  return options;
}

describe("renderMyCnf accepted by mariadbd", () => {
  const cnf = renderMyCnf(production);

  test("mariadbd --help --verbose accepts the rendered config", () => {
    const r = mariadbdHelp(cnf);
    assert.equal(r.status, 0, r.stderr);
  });

  test("an unknown option makes the same check fail (the check catches typos)", () => {
    const r = mariadbdHelp(`${cnf}bogus_option = 1\n`);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /unknown variable 'bogus_option/);
  });

  test("every option is a full option name (mariadbd would also accept a unique prefix)", () => {
    const { variables } = mariadbdHelp(cnf);
    const options = renderedOptions(cnf);
    assert.ok(options.size >= 25, `parsed only ${options.size} options`);
    for (const name of options.keys()) assert.ok(variables.has(name), `${name} is not a mariadbd variable`);
  });

  test("tmpdir: the default unless set; set, mariadbd takes it; a bad one is refused", () => {
    assert.doesNotMatch(cnf, /^tmpdir/m);
    const own = renderMyCnf({ ...production, tmpdir: "/var/tmp/mariadb-a" });
    assert.equal(mariadbdHelp(own).variables.get("tmpdir"), "/var/tmp/mariadb-a");
    assert.throws(() => renderMyCnf({ ...production, tmpdir: "tmp\nskip_grant_tables" }), /tmpdir must be an absolute path/);
  });

  test("mariadbd ends up with the intended values", () => {
    const { variables } = mariadbdHelp(cnf);
    const expected: Record<string, string> = {
      "server-id": "3",
      "gtid-domain-id": "3",
      "auto-increment-increment": "10",
      "auto-increment-offset": "3",
      "log-bin": "dns-rr-ha-bin",
      "binlog-format": "ROW",
      "log-slave-updates": "TRUE",
      "sync-binlog": "1",
      "innodb-flush-log-at-trx-commit": "1",
      "innodb-buffer-pool-size": String(1024 * 1024 * 1024),
      "bind-address": "10.10.0.5",
      port: "3306",
      datadir: "/mnt/vol-a/mysql/",
      "skip-name-resolve": "TRUE",
      "read-only": "FALSE",
      "gtid-strict-mode": "TRUE",
      "gtid-ignore-duplicates": "TRUE",
      "relay-log": "dns-rr-ha-relay-bin",
      "relay-log-recovery": "TRUE",
      "pid-file": "/run/mysqld/mysqld.pid",
      "log-error": "/var/log/mysql/error.log",
      "master-retry-count": "100000000",
      "slave-net-timeout": "30",
      "slave-parallel-threads": "4",
      "max-connections": "200",
      "binlog-expire-logs-seconds": "604800",
      "rpl-semi-sync-master-enabled": "TRUE",
      "rpl-semi-sync-slave-enabled": "TRUE",
      "rpl-semi-sync-master-wait-point": "AFTER_SYNC",
      "rpl-semi-sync-master-timeout": "1000",
      "rpl-semi-sync-master-wait-no-slave": "TRUE",
      "sync-relay-log": "1",
    };
    for (const [name, value] of Object.entries(expected)) assert.equal(variables.get(name), value, name);
  });

  test("durability async, or a single node: no semisync, relay log synced by the OS", () => {
    for (const settings of [{ ...production, durability: "async" as const }, { ...production, nodeIndex: 0, nodeCount: 1 }]) {
      const r = mariadbdHelp(renderMyCnf(settings));
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.variables.get("rpl-semi-sync-master-enabled"), "FALSE");
      assert.equal(r.variables.get("rpl-semi-sync-slave-enabled"), "FALSE");
      assert.equal(r.variables.get("sync-relay-log"), "10000", "the server default");
      assert.equal(r.variables.get("sync-binlog"), "1", "commits stay durable locally");
    }
  });

  test("the semisync timeout comes from the settings", () => {
    const r = mariadbdHelp(renderMyCnf({ ...production, semisyncTimeoutMs: 250 }));
    assert.equal(r.variables.get("rpl-semi-sync-master-timeout"), "250");
  });

  test("with TLS: the files, TLS 1.2+ only and require_secure_transport, all accepted by mariadbd", () => {
    const tls = { ca: "/etc/mysql/tls/ca.pem", cert: "/etc/mysql/tls/cert.pem", key: "/etc/mysql/tls/key.pem" };
    const withTls = renderMyCnf({ ...production, tls });
    const r = mariadbdHelp(withTls);
    assert.equal(r.status, 0, r.stderr);
    for (const name of renderedOptions(withTls).keys()) assert.ok(r.variables.has(name), `${name} is not a mariadbd variable`);
    assert.equal(r.variables.get("ssl-ca"), tls.ca);
    assert.equal(r.variables.get("ssl-cert"), tls.cert);
    assert.equal(r.variables.get("ssl-key"), tls.key);
    assert.equal(r.variables.get("require-secure-transport"), "TRUE");
    assert.equal(r.variables.get("tls-version"), "TLSv1.2,TLSv1.3");
    assert.equal(mariadbdHelp(cnf).variables.get("require-secure-transport"), "FALSE", "without TLS nothing changes");
    assert.throws(() => renderMyCnf({ ...production, tls: { ...tls, key: "key.pem\nskip_grant_tables" } }), /tls\.key must be an absolute path/);
  });
});

describe("settings validation", () => {
  test("buffer pool is half the RAM in 128 MiB chunks, at least 128 MiB", () => {
    assert.equal(innodbBufferPoolMb(1024), 512);
    assert.equal(innodbBufferPoolMb(2000), 896);
    assert.equal(innodbBufferPoolMb(256), 128);
  });

  test("rejects bad values with every problem named", () => {
    const bad: MyCnfSettings = { ...production, serverId: 0, bindAddress: "10.0.0", datadir: "relative/dir", logBasename: "a b" };
    assert.throws(
      () => validateMyCnfSettings(bad),
      (e: Error) => ["serverId", "bindAddress", "datadir", "logBasename"].every((w) => e.message.includes(w)),
    );
    assert.throws(() => renderMyCnf(bad), /serverId must be an integer in 1\.\.4294967295 \(got 0\)/);
  });

  test("auto_increment_increment must leave room for every node", () => {
    assert.throws(() => validateMyCnfSettings({ ...production, nodeCount: 11 }), /must be >= nodeCount \(11\)/);
    assert.throws(() => validateMyCnfSettings({ ...production, nodeIndex: 10 }), /auto_increment_offset = nodeIndex \+ 1 \(11\)/);
    assert.doesNotThrow(() => validateMyCnfSettings({ ...production, nodeIndex: 9 }));
  });

  test("durability and semisync timeout are checked", () => {
    assert.throws(() => validateMyCnfSettings({ ...production, durability: "sync" as never }), /durability must be one of async, semisync \(got "sync"\)/);
    assert.throws(() => validateMyCnfSettings({ ...production, semisyncTimeoutMs: 99 }), /semisyncTimeoutMs must be an integer in 100\.\.300000 \(got 99\)/);
    assert.throws(() => validateMyCnfSettings({ ...production, semisyncTimeoutMs: 1.5 }), /semisyncTimeoutMs/);
    assert.equal(production.durability, "semisync");
    assert.equal(production.semisyncTimeoutMs, 1000);
  });

  test("paths cannot inject config lines", () => {
    assert.throws(() => validateMyCnfSettings({ ...production, logError: "/x\nread_only = ON" }), /logError/);
  });

  test("cluster validation catches shared identities and differing increments", () => {
    const nodes = [0, 1].map((nodeIndex) =>
      dbNodeMyCnfSettings({ nodeIndex, nodeCount: 2, bindAddress: "10.10.0.5", datadir: "/mnt/v/mysql", memoryMb: 1024 }),
    );
    assert.doesNotThrow(() => validateDbCluster(nodes));
    assert.throws(() => validateDbCluster([nodes[0], { ...nodes[1], serverId: 1 }]), /serverId 1 is used by nodes #0 and #1/);
    assert.throws(() => validateDbCluster([nodes[0], { ...nodes[1], gtidDomainId: 1 }]), /gtidDomainId 1/);
    assert.throws(() => validateDbCluster([nodes[0], { ...nodes[1], autoIncrementIncrement: 20 }]), /differs/);
    assert.throws(() => validateDbCluster([nodes[0]]), /nodeCount 2 but the cluster has 1/);
  });

  test("undefined overrides keep the defaults", () => {
    assert.equal(dbNodeMyCnfSettings({ ...production, port: undefined }).port, 3306);
  });
});

const ROWS_PER_NODE = 5;
const nodeName = localNodeName;

function dbHealth(db: LocalMariadb): { status: number | null; stdout: string } {
  const r = spawnSync("bash", [dbScriptSourcePath("health"), ...clientArgs(db.socket)], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout };
}

/**
 * Wire n local nodes with this component's config and SQL, write on every
 * node and check that everything arrives exactly once everywhere.
 */
async function exerciseCluster(n: number): Promise<void> {
  const nodes = await startReplicatingCluster(n);
  try {
    validateDbCluster(nodes.map((db) => db.settings));
    // The bootstrap (accounts, database, connections) is node-local: had it been binlogged, peers would replay it.
    for (const db of nodes) assert.equal(db.sql("SELECT @@gtid_binlog_pos;").trim(), "");
    const healthy = (db: LocalMariadb, peers: number): boolean => replicationRunning(db, peers);
    const show = (): string => describeCluster(nodes);

    nodes[0].sql("CREATE TABLE app.t (id INT AUTO_INCREMENT PRIMARY KEY, origin INT NOT NULL, n INT NOT NULL DEFAULT 0);");
    await waitUntil("table on every node", () => nodes.every((db) => db.sql("SHOW TABLES FROM app;").trim() === "t"), 10_000, show);

    for (let round = 0; round < ROWS_PER_NODE; round++) {
      nodes.forEach((db, i) => db.sql(`INSERT INTO app.t (origin) VALUES (${i});`));
    }
    const total = n * ROWS_PER_NODE;
    const count = (db: LocalMariadb): number => Number(db.sql("SELECT COUNT(*) FROM app.t;").trim());
    await waitUntil(`${total} rows on every node`, () => nodes.every((db) => count(db) === total), 15_000, show);

    // Each node increments only its own rows: a loop or double apply would
    // leave n = 2 somewhere or stop an SQL thread (row not found).
    nodes.forEach((db, i) => db.sql(`UPDATE app.t SET n = n + 1 WHERE origin = ${i};`));
    const sumN = (db: LocalMariadb): number => Number(db.sql("SELECT SUM(n) FROM app.t;").trim());
    await waitUntil("updates on every node", () => nodes.every((db) => sumN(db) === total), 15_000, show);
    await waitUntil(
      "identical GTID positions",
      () => new Set(nodes.map((db) => db.sql("SELECT @@gtid_binlog_pos;").trim())).size === 1,
      10_000,
      show,
    );

    const reference = nodes[0].sql("SELECT id, origin, n FROM app.t ORDER BY id;");
    for (const db of nodes) {
      assert.equal(count(db), total, "no duplicates");
      assert.equal(db.sql("SELECT id, origin, n FROM app.t ORDER BY id;"), reference, "same rows everywhere");
      assert.equal(db.sql("SELECT COUNT(*) FROM app.t WHERE n <> 1;").trim(), "0", "every row updated exactly once");
      // Ids follow each node's offset (origin + 1) with the shared increment of 10.
      assert.equal(db.sql("SELECT COUNT(*) FROM app.t WHERE id % 10 <> origin + 1;").trim(), "0", reference);
      assert.ok(healthy(db, n - 1), show());
    }
    // One GTID domain per node, each with exactly the transactions that node made
    // (node 0 also made the CREATE TABLE): nothing was re-logged under a new GTID.
    const positions = nodes[0].sql("SELECT @@gtid_binlog_pos;").trim().split(",").sort();
    const expected = nodes
      .map((db, i) => `${db.settings.gtidDomainId}-${db.settings.serverId}-${ROWS_PER_NODE + 1 + (i === 0 ? 1 : 0)}`)
      .sort();
    assert.deepEqual(positions, expected);

    for (const db of nodes) {
      const r = dbHealth(db);
      assert.equal(r.status, 0, r.stdout);
      const lines = r.stdout.trim().split("\n");
      assert.equal(lines.length, n - 1);
      for (const line of lines) assert.match(line, /^node-\d\tYes\tYes\t0\t-$/);
    }
    nodes[0].sql(`STOP SLAVE '${nodeName(1)}';`);
    const stopped = dbHealth(nodes[0]);
    assert.equal(stopped.status, 1, "a stopped connection is unhealthy");
    assert.match(stopped.stdout, /^node-1\tNo\tNo\tNULL\t-$/m);
  } finally {
    await Promise.all(nodes.map((db) => db.stop()));
  }
}

describe("real replication between local MariaDB servers", () => {
  test("two nodes: master-master through named connections", async () => {
    await exerciseCluster(2);
  });

  test("three nodes: full multi-source mesh without duplicates or loops", async () => {
    await exerciseCluster(3);
  });
});

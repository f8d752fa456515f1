/**
 * The guarantees the DB tier is built on, shown with real servers: two Galera nodes and a garbd
 * arbitrator on 127.0.0.1, configured by renderMyCnf / garbdArgs with TLS on every channel.
 * Conflicting writes from two nodes, a node cut off (gmcast.isolate: the group traffic of that
 * node is dropped, as by a partition), a node SIGKILLed under writes, a node rebuilt from an empty
 * datadir after the binlogs were purged, and two nodes without an arbitrator.
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { clientArgs, describeCluster, sleep, startLocalCluster, waitUntil, type LocalCluster, type LocalMariadb } from "./testing/localMariadb";

/** Run SQL in a client process; resolves with its exit code and stderr (does not throw). */
function sqlAsync(db: LocalMariadb, text: string): Promise<{ code: number | null; stderr: string; stdout: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn("mariadb", [...clientArgs(db.socket), "--batch", "--skip-column-names"], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stderr, stdout, ms: Date.now() - started }));
    child.stdin.end(text);
  });
}

function checksums(nodes: readonly LocalMariadb[], tables: string): string[] {
  return nodes.map((n) => n.sql(`CHECKSUM TABLE ${tables} EXTENDED;`).trim());
}

describe("Galera: two nodes and an arbitrator (real servers, TLS)", () => {
  let cluster: LocalCluster;
  let a: LocalMariadb;
  let b: LocalMariadb;
  before(async () => {
    cluster = await startLocalCluster({ nodes: 2, arbitrator: true });
    [a, b] = cluster.nodes as [LocalMariadb, LocalMariadb];
    a.sql("CREATE DATABASE t; CREATE TABLE t.cells (name VARCHAR(64) PRIMARY KEY, value INT NOT NULL, version INT NOT NULL);"
      + "CREATE TABLE t.claims (id BIGINT AUTO_INCREMENT PRIMARY KEY, value VARCHAR(64) NOT NULL UNIQUE, node VARCHAR(16));"
      + "INSERT INTO t.cells VALUES ('hot', 0, 0);");
    await waitUntil("the schema on b", () => b.sql("SELECT COUNT(*) FROM t.cells;").trim() === "1", 10_000);
  });
  after(async () => {
    await cluster?.stop();
  });

  test("three members, every channel over TLS; the joiner was seeded by mariabackup", () => {
    for (const n of [a, b]) {
      const s = n.wsrep();
      assert.equal(s.wsrep_cluster_size, "3", describeCluster([a, b]));
      assert.equal(s.wsrep_cluster_status, "Primary");
    }
    const log = readFileSync(b.settings.logError, "utf8");
    assert.match(log, /mariabackup SST started on joiner/);
    assert.match(log, /Using openssl based encryption with socat/);
    assert.match(a.rows("SHOW GLOBAL VARIABLES LIKE 'wsrep_provider_options'")[0]!.Value!, /socket\.ssl = YES/);
  });

  test("two transactions updating the same row on two nodes: one commits, the other gets 1213; nothing is overwritten", async () => {
    const before = Number(a.sql("SELECT value FROM t.cells WHERE name = 'hot';"));
    // a holds its transaction open while b commits the same row: a's commit must fail certification.
    const slow = sqlAsync(a, "BEGIN; UPDATE t.cells SET value = value + 1, version = version + 1 WHERE name = 'hot'; DO SLEEP(1); COMMIT;");
    await sleep(300);
    const fast = await sqlAsync(b, "BEGIN; UPDATE t.cells SET value = value + 10, version = version + 1 WHERE name = 'hot'; COMMIT;");
    const late = await slow;
    assert.equal(fast.code, 0, fast.stderr);
    assert.notEqual(late.code, 0, "the second committer must not win");
    assert.match(late.stderr, /ERROR 1213/);
    for (const n of [a, b]) assert.equal(Number(n.sql("SELECT value FROM t.cells WHERE name = 'hot';")), before + 10);
  });

  test("counters incremented from both nodes at once end exact on both: no failed commit counted, no acknowledged one lost", async () => {
    const start = Number(a.sql("SELECT value FROM t.cells WHERE name = 'hot';"));
    const attempts = 40;
    const results = await Promise.all(Array.from({ length: attempts }, (_, i) =>
      sqlAsync(i % 2 === 0 ? a : b, "BEGIN; SELECT value FROM t.cells WHERE name = 'hot' FOR UPDATE; UPDATE t.cells SET value = value + 1 WHERE name = 'hot'; COMMIT;")));
    const acked = results.filter((r) => r.code === 0).length;
    // A loser gets 1213; under load the client of an aborted session may also just exit 1 without a
    // word. Either way it was told nothing was committed, and the count below proves it was not.
    const unexplained = results.filter((r) => r.code !== 0 && !/ERROR 1213/.test(r.stderr) && (r.stderr.trim() !== "" || r.code !== 1));
    assert.deepEqual(unexplained.map((r) => `exit ${r.code}: ${r.stderr}`), [], "every failure is a conflict");
    await waitUntil("both nodes applied everything", () => a.sql("SELECT value FROM t.cells WHERE name = 'hot';") === b.sql("SELECT value FROM t.cells WHERE name = 'hot';"), 10_000);
    assert.equal(Number(b.sql("SELECT value FROM t.cells WHERE name = 'hot';")), start + acked, `${acked} of ${attempts} acknowledged`);
  });

  test("the same UNIQUE value claimed on both nodes at once: exactly one claim exists, the other was refused", async () => {
    const slow = sqlAsync(a, "BEGIN; INSERT INTO t.claims (value, node) VALUES ('seat-1', 'a'); DO SLEEP(1); COMMIT;");
    await sleep(300);
    const fast = await sqlAsync(b, "INSERT INTO t.claims (value, node) VALUES ('seat-1', 'b');");
    const late = await slow;
    assert.equal([fast, late].filter((r) => r.code === 0).length, 1, `${fast.stderr} ${late.stderr}`);
    assert.match(late.stderr, /ERROR 1213/);
    for (const n of [a, b]) assert.equal(n.sql("SELECT node FROM t.claims WHERE value = 'seat-1';").trim(), "b");
  });

  test("a node cut off from the group refuses fast (1047) while the side with the arbitrator goes on; it rejoins and agrees", async () => {
    b.sql("SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1';");
    try {
      await waitUntil("b to leave the primary component", () => b.wsrep().wsrep_cluster_status === "non-Primary", 20_000, () => describeCluster([a, b]));
      await waitUntil("a to go on with the arbitrator", () => a.wsrep().wsrep_cluster_size === "2" && a.synced(), 20_000, () => describeCluster([a, b]));
      const refused = await sqlAsync(b, "UPDATE t.cells SET value = value + 1000 WHERE name = 'hot';");
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /ERROR 1047.*WSREP has not yet prepared node for application use/);
      assert.ok(refused.ms < 1000, `refused in ${refused.ms} ms`);
      const ok = await sqlAsync(a, "INSERT INTO t.claims (value, node) VALUES ('during-partition', 'a');");
      assert.equal(ok.code, 0, ok.stderr);
    } finally {
      b.sql("SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0';");
    }
    await waitUntil("b to rejoin", () => b.synced() && b.wsrep().wsrep_cluster_size === "3", 30_000, () => describeCluster([a, b]));
    assert.equal(b.sql("SELECT node FROM t.claims WHERE value = 'during-partition';").trim(), "a");
    assert.notEqual(b.sql("SELECT value FROM t.cells WHERE name = 'hot';"), "", "the refused update left no trace");
    assert.deepEqual(checksums([b], "t.cells, t.claims"), checksums([a], "t.cells, t.claims"));
  });

  test("a node SIGKILLed under writes restarts, catches up by IST and agrees", async () => {
    let writes = 0;
    let stop = false;
    const writer = (async () => {
      while (!stop) {
        const r = await sqlAsync(a, `INSERT INTO t.claims (value, node) VALUES ('w-${writes}', 'a');`);
        if (r.code === 0) writes++;
      }
    })();
    await sleep(500);
    await b.kill();
    await sleep(1500);
    await b.restart();
    await sleep(500);
    stop = true;
    await writer;
    await waitUntil("b synced", () => b.synced(), 30_000, () => describeCluster([a, b]));
    assert.match(readFileSync(b.settings.logError, "utf8"), /IST received|Receiving IST/);
    await waitUntil("b caught up", () => b.sql("SELECT COUNT(*) FROM t.claims WHERE value LIKE 'w-%';").trim() === String(writes), 10_000);
    assert.deepEqual(checksums([b], "t.cells, t.claims"), checksums([a], "t.cells, t.claims"));
  });

  test("a node rebuilt with an empty datadir after the peers purged their binlogs is seeded by SST and agrees", async () => {
    await b.shutdown();
    a.sql("INSERT INTO t.claims (value, node) VALUES ('while-b-was-gone', 'a'); FLUSH BINARY LOGS; FLUSH BINARY LOGS;");
    const last = a.sql("SHOW BINARY LOGS;").trim().split("\n").pop()!.split("\t")[0]!;
    a.sql(`PURGE BINARY LOGS TO '${last}';`);
    assert.equal(a.sql("SHOW BINARY LOGS;").trim().split("\n").length, 1, "only the current binlog is left");
    b.wipe();
    await b.restart();
    assert.equal(b.sql("SELECT node FROM t.claims WHERE value = 'while-b-was-gone';").trim(), "a");
    assert.deepEqual(checksums([b], "t.cells, t.claims"), checksums([a], "t.cells, t.claims"));
    // Writes made on the rebuilt node reach the other one.
    b.sql("INSERT INTO t.claims (value, node) VALUES ('from-rebuilt-b', 'b');");
    await waitUntil("a has b's write", () => a.sql("SELECT COUNT(*) FROM t.claims WHERE value = 'from-rebuilt-b';").trim() === "1", 10_000);
  });
});

describe("Galera: two nodes without an arbitrator cannot tell a dead peer from a partition", () => {
  let cluster: LocalCluster;
  before(async () => {
    cluster = await startLocalCluster({ nodes: 2, tls: false });
  });
  after(async () => {
    await cluster?.stop();
  });

  test("cutting one off leaves neither side writable: why two regions need the witness's vote", async () => {
    const [a, b] = cluster.nodes as [LocalMariadb, LocalMariadb];
    b.sql("SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1';");
    try {
      await waitUntil("both sides to lose quorum", () => a.wsrep().wsrep_cluster_status === "non-Primary" && b.wsrep().wsrep_cluster_status === "non-Primary", 20_000, () => describeCluster([a, b]));
    } finally {
      b.sql("SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0';");
    }
    await waitUntil("both to re-form the cluster", () => a.synced() && b.synced(), 30_000, () => describeCluster([a, b]));
  });
});

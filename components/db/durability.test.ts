/**
 * The durability setting for real: two pairs of local MariaDB servers replicating each other
 * with the rendered config, one `semisync` (the default), one `async`. Commits on the semisync
 * pair wait for the peer's acknowledgement; a peer that stops fetching costs one commit the
 * timeout, then the master degrades to async, logs it and db-replication-health reports it;
 * once the peer is back the master returns to semisync by itself. Prints the commit latency of
 * both modes measured side by side (loopback: the cost here is an fsync on the peer and a local
 * round trip; the lab measures the inter-region one).
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { DatabaseCluster } from "./databaseCluster";
import {
  replicationHealth,
  startHeartbeat,
  startReplicatingCluster,
  waitUntil,
  describeCluster,
  type LocalHeartbeat,
  type LocalMariadb,
} from "./testing/localMariadb";

/** Short, so the degradation test is quick; long enough to stand out from a loopback commit. */
const TIMEOUT_MS = 800;
const COMMITS_PER_BLOCK = 25;
const BLOCKS = 4;

function semisyncStatus(db: LocalMariadb): Record<string, string> {
  return Object.fromEntries(db.sql("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_%';").trim().split("\n").map((l) => l.split("\t") as [string, string]));
}

/** Run `count` autocommit INSERTs in one session; each one's duration (µs) as the server saw it, commit included. */
function timedCommits(db: LocalMariadb, count: number): number[] {
  const statements = ["SET @l = '';"];
  for (let i = 0; i < count; i++) {
    statements.push("SET @t = SYSDATE(6);", "INSERT INTO app.commits (payload) VALUES (REPEAT('x', 100));", "SET @l = CONCAT(@l, TIMESTAMPDIFF(MICROSECOND, @t, SYSDATE(6)), ',');");
  }
  statements.push("SELECT @l;");
  return db.sql(statements.join("\n")).trim().split(",").filter(Boolean).map(Number);
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const ms = (us: number): string => (us / 1000).toFixed(2);

describe("durability: semisync vs async between two local servers", { timeout: 180_000 }, () => {
  let semisync: LocalMariadb[] = [];
  let async: LocalMariadb[] = [];
  let beat: LocalHeartbeat | undefined;

  before(async () => {
    [semisync, async] = await Promise.all([
      startReplicatingCluster(2, { semisyncTimeoutMs: TIMEOUT_MS }),
      startReplicatingCluster(2, { durability: "async" }),
    ]);
    for (const pair of [semisync, async]) {
      pair[0].sql("CREATE TABLE app.commits (id INT AUTO_INCREMENT PRIMARY KEY, payload VARCHAR(200) NOT NULL);");
      await waitUntil("table replicated", () => pair[1].sql("SHOW TABLES FROM app;").trim() === "commits", 10_000, () => describeCluster(pair));
    }
  });
  after(async () => {
    await beat?.stop();
    await Promise.all([...semisync, ...async].map((db) => db.stop()));
  });

  test("the rendered config is live: semisync master and replica ON with AFTER_SYNC on one pair, OFF on the other", () => {
    for (const db of semisync) {
      assert.equal(db.sql("SELECT @@rpl_semi_sync_master_enabled, @@rpl_semi_sync_slave_enabled, @@rpl_semi_sync_master_wait_point, @@rpl_semi_sync_master_timeout, @@sync_relay_log;").trim(), `1\t1\tAFTER_SYNC\t${TIMEOUT_MS}\t1`);
      assert.equal(semisyncStatus(db).Rpl_semi_sync_master_clients, "1", "the peer's IO thread is a semisync replica");
      assert.equal(db.sql("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_slave_status';").trim(), "Rpl_semi_sync_slave_status\tON");
    }
    for (const db of async) assert.equal(db.sql("SELECT @@rpl_semi_sync_master_enabled, @@rpl_semi_sync_slave_enabled;").trim(), "0\t0");
  });

  test("side by side: commit latency async vs semisync (every semisync commit acknowledged)", () => {
    const before = semisyncStatus(semisync[0]);
    const samples = { async: [] as number[], semisync: [] as number[] };
    // Interleaved blocks, so both modes see the same machine at the same time.
    for (let block = 0; block < BLOCKS; block++) {
      samples.async.push(...timedCommits(async[0], COMMITS_PER_BLOCK));
      samples.semisync.push(...timedCommits(semisync[0], COMMITS_PER_BLOCK));
    }
    const after = semisyncStatus(semisync[0]);
    const n = COMMITS_PER_BLOCK * BLOCKS;
    assert.equal(samples.async.length, n);
    assert.equal(samples.semisync.length, n);
    assert.equal(Number(after.Rpl_semi_sync_master_yes_tx) - Number(before.Rpl_semi_sync_master_yes_tx), n, "every commit waited for and got the peer's ack");
    assert.equal(after.Rpl_semi_sync_master_no_tx, before.Rpl_semi_sync_master_no_tx);
    assert.equal(after.Rpl_semi_sync_master_status, "ON");
    const async50 = percentile(samples.async, 50);
    const semi50 = percentile(samples.semisync, 50);
    console.log(`db-figure: commit latency async p50 ${ms(async50)} ms / semisync p50 ${ms(semi50)} ms (${n} commits each)`);
    console.log(`db-figure: commit latency async p99 ${ms(percentile(samples.async, 99))} ms / semisync p99 ${ms(percentile(samples.semisync, 99))} ms (${n} commits each, loopback)`);
    // Loose sanity only: no ack ever took the timeout, and nothing is absurd.
    assert.ok(percentile(samples.semisync, 99) < TIMEOUT_MS * 1000, "no semisync commit hit the timeout");
    assert.ok(async50 > 0 && semi50 > 0);
  });

  test("a peer that stops fetching: one commit waits the timeout, then the master degrades to async, says so, and comes back", async () => {
    const [a, b] = semisync;
    // b keeps beating (its own commits are acknowledged by a), so a's health sees replication fine but semisync OFF.
    beat = startHeartbeat(b, 0.2);
    await waitUntil("a healthy", () => replicationHealth(a, 5).status === 0, 15_000, () => replicationHealth(a, 5).output);
    const noTimes = Number(semisyncStatus(a).Rpl_semi_sync_master_no_times);

    b.sql("STOP SLAVE 'node-0' IO_THREAD;");
    try {
      const [first] = timedCommits(a, 1);
      assert.ok(first! >= TIMEOUT_MS * 1000 * 0.9, `the commit waited ${ms(first!)} ms for an ack (timeout ${TIMEOUT_MS})`);
      assert.ok(first! < (TIMEOUT_MS + 2000) * 1000, `then gave up: ${ms(first!)} ms`);
      const status = semisyncStatus(a);
      assert.equal(status.Rpl_semi_sync_master_status, "OFF");
      assert.equal(Number(status.Rpl_semi_sync_master_no_times), noTimes + 1, "one switch to async");
      // Degraded: later commits do not wait any more.
      const rest = timedCommits(a, 5);
      assert.ok(Math.max(...rest) < TIMEOUT_MS * 1000 * 0.5, `async now: ${rest.map(ms).join(", ")} ms`);
      // The error log says so (the alert-worthy line), and the health check reports it.
      const log = readFileSync(a.settings.logError, "utf8");
      assert.match(log, /Timeout waiting for reply of binlog/);
      assert.match(log, /Semi-sync replication switched OFF/);
      const health = replicationHealth(a, 5);
      assert.equal(health.status, 3, health.output);
      assert.equal(health.report.degraded, true);
      assert.equal(health.report.healthy, true, "replication itself runs");
      assert.equal(health.report.semisync.master_status, "OFF");
      // On b, the stopped connection is down.
      assert.equal(replicationHealth(b, 5).status, 1);
    } finally {
      b.sql("START SLAVE 'node-0' IO_THREAD;");
    }
    // b catches up and acknowledges again: a switches back by itself with the next commit.
    await waitUntil("semisync ON again", () => {
      timedCommits(a, 1);
      return semisyncStatus(a).Rpl_semi_sync_master_status === "ON";
    }, 15_000, () => JSON.stringify(semisyncStatus(a)));
    assert.match(readFileSync(a.settings.logError, "utf8"), /Semi-sync replication switched ON/);
    await waitUntil("a healthy again", () => replicationHealth(a, 5).status === 0, 15_000, () => replicationHealth(a, 5).output);
    await waitUntil("same rows on both", () => a.sql("CHECKSUM TABLE app.commits;").split("\t")[1] === b.sql("CHECKSUM TABLE app.commits;").split("\t")[1], 15_000);
  });
});

describe("DatabaseClusterArgs durability fields", () => {
  const tier = { regions: [{ region: "nyc3", vpcUuid: "v1" }, { region: "ams3", vpcUuid: "v2" }], size: "s-1vcpu-1gb", image: "debian-12-x64", sshKeys: ["fp"], deployPrivateKey: "k", authorizedKeys: ["ssh-ed25519 x"], tags: ["t"] };
  const valid = { ...tier, volumeSizeGb: 10, clientCidrs: ["10.110.0.0/20"] };

  test("accepted when left out or in range; otherwise named with the allowed values", () => {
    assert.doesNotThrow(() => DatabaseCluster.validateArgs(valid));
    assert.doesNotThrow(() => DatabaseCluster.validateArgs({ ...valid, durability: "async", semisyncTimeoutMs: 100 }));
    assert.throws(() => DatabaseCluster.validateArgs({ ...valid, durability: "sync" as never }), /DatabaseClusterArgs\.durability "sync":? must be one of async, semisync/);
    assert.throws(() => DatabaseCluster.validateArgs({ ...valid, semisyncTimeoutMs: 50 }), /DatabaseClusterArgs\.semisyncTimeoutMs 50:? must be a whole number of milliseconds from 100 to 300000/);
    assert.throws(() => DatabaseCluster.validateArgs({ ...valid, semisyncTimeoutMs: 1000.5 }), /DatabaseClusterArgs\.semisyncTimeoutMs/);
  });
});

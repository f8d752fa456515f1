/**
 * scripts/db-heartbeat.sh and scripts/db-replication-health.sh against two real local MariaDB
 * servers replicating each other (the component's config and SQL), heartbeats written as on
 * the droplets.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { dbScriptSourcePath } from "./dbScripts";
import {
  clientArgs,
  describeCluster,
  replicationHealth,
  sleep,
  startHeartbeat,
  startReplicatingCluster,
  waitUntil,
  type LocalHeartbeat,
  type LocalMariadb,
} from "./testing/localMariadb";

/** Heartbeat period in the test (the droplets use 1 s); short so lag thresholds can be small. */
const BEAT_SECONDS = 0.2;
const MAX_LAG = 1.5;

describe("replication health with heartbeats between two local servers", { timeout: 120_000 }, () => {
  let nodes: LocalMariadb[] = [];
  let beats: LocalHeartbeat[] = [];
  const show = (): string => describeCluster(nodes);
  const health = (db: LocalMariadb, maxLag = MAX_LAG) => replicationHealth(db, maxLag);

  before(async () => {
    nodes = await startReplicatingCluster(2);
    beats = nodes.map((db) => startHeartbeat(db, BEAT_SECONDS));
  });
  after(async () => {
    await Promise.all(beats.map((b) => b.stop()));
    await Promise.all(nodes.map((db) => db.stop()));
  });

  test("healthy: exit 0, both threads running, the peer's heartbeat a fraction of a second old, semisync ON", async () => {
    await waitUntil("both nodes healthy", () => nodes.every((db) => health(db).status === 0), 20_000, () => `${show()}\n${health(nodes[0]).output}`);
    for (const [i, db] of nodes.entries()) {
      const { report } = health(db);
      const peer = nodes[1 - i];
      assert.equal(report.server_id, db.settings.serverId);
      assert.equal(report.healthy, true);
      assert.equal(report.degraded, false);
      assert.deepEqual(report.semisync.master_enabled, true);
      assert.equal(report.semisync.master_status, "ON");
      assert.equal(report.semisync.slave_status, "ON");
      assert.equal(report.semisync.clients, 1);
      assert.equal(report.connections.length, 1);
      const c = report.connections[0];
      assert.equal(c.name, `node-${1 - i}`);
      assert.equal(c.io_running, "Yes");
      assert.equal(c.sql_running, "Yes");
      assert.equal(c.seconds_behind_master, 0);
      assert.equal(c.master_server_id, peer.settings.serverId);
      assert.ok(c.heartbeat_age_seconds !== null && c.heartbeat_age_seconds >= 0 && c.heartbeat_age_seconds < 1, JSON.stringify(c));
      assert.deepEqual(c.problems, []);
      assert.equal(c.last_error, null);
    }
    // Each node writes only its own row, and both rows are everywhere.
    for (const db of nodes) assert.equal(db.sql("SELECT GROUP_CONCAT(server_id ORDER BY server_id) FROM dns_rr_ha.heartbeat;").trim(), "1,2");
  });

  test("a stopped SQL thread: the peer's heartbeat ages while it keeps beating, exit 1; healthy again once restarted", async () => {
    nodes[0].sql("STOP SLAVE 'node-1' SQL_THREAD;");
    try {
      await sleep(MAX_LAG * 1000 + 300);
      const first = health(nodes[0]);
      assert.equal(first.status, 1, first.output);
      const c = first.report.connections[0];
      assert.equal(c.io_running, "Yes");
      assert.equal(c.sql_running, "No");
      assert.equal(c.seconds_behind_master, null, "Seconds_Behind_Master says nothing here");
      assert.ok(c.heartbeat_age_seconds !== null && c.heartbeat_age_seconds > MAX_LAG, JSON.stringify(c));
      assert.deepEqual(c.problems, ["SQL thread stopped", `heartbeat older than ${MAX_LAG} s`]);
      await sleep(1000);
      const later = health(nodes[0]).report.connections[0];
      assert.ok(later.heartbeat_age_seconds! >= c.heartbeat_age_seconds! + 0.8, `lag grows: ${c.heartbeat_age_seconds} then ${later.heartbeat_age_seconds}`);
      // The other direction is unaffected.
      assert.equal(health(nodes[1]).status, 0, health(nodes[1]).output);
    } finally {
      nodes[0].sql("START SLAVE 'node-1' SQL_THREAD;");
    }
    await waitUntil("healthy after START SLAVE", () => health(nodes[0]).status === 0, 10_000, () => health(nodes[0]).output);
  });

  test("threads running but the apply blocked (a row lock on the replica): only the heartbeat age shows it", async () => {
    // A transaction holding the peer's row on the replica stalls the SQL thread (for up to
    // innodb_lock_wait_timeout) while both threads still say "Yes".
    const locker = spawn("mariadb", [...clientArgs(nodes[0].socket), "--batch"], { stdio: ["pipe", "ignore", "ignore"] });
    locker.stdin.write(`BEGIN; SELECT ts FROM dns_rr_ha.heartbeat WHERE server_id = ${nodes[1].settings.serverId} FOR UPDATE;\n`);
    try {
      await waitUntil("the heartbeat age over the limit", () => (health(nodes[0]).report.connections[0].heartbeat_age_seconds ?? 0) > MAX_LAG, 10_000, () => health(nodes[0]).output);
      const r = health(nodes[0]);
      const c = r.report.connections[0];
      assert.equal(r.status, 1, r.output);
      assert.equal(c.io_running, "Yes");
      assert.equal(c.sql_running, "Yes");
      assert.deepEqual(c.problems, [`heartbeat older than ${MAX_LAG} s`]);
    } finally {
      locker.stdin.end("ROLLBACK;\n");
      await new Promise((resolve) => locker.once("exit", resolve));
    }
    await waitUntil("healthy after the lock is released", () => health(nodes[0]).status === 0, 10_000, () => health(nodes[0]).output);
  });

  test("a stopped IO thread is reported as down (exit 1) at once", async () => {
    nodes[1].sql("STOP SLAVE 'node-0' IO_THREAD;");
    try {
      const r = health(nodes[1], 60);
      assert.equal(r.status, 1, r.output);
      const c = r.report.connections[0];
      assert.equal(c.io_running, "No");
      assert.equal(c.sql_running, "Yes");
      assert.deepEqual(c.problems, ["IO thread stopped"], "the heartbeat is still young: the thread state alone says down");
      assert.equal(r.report.healthy, false);
    } finally {
      nodes[1].sql("START SLAVE 'node-0' IO_THREAD;");
    }
    await waitUntil("healthy after START SLAVE", () => health(nodes[1]).status === 0, 10_000, () => health(nodes[1]).output);
  });

  test("an unreachable server exits 2, a bad threshold 64", () => {
    const script = dbScriptSourcePath("replicationHealth");
    const down = spawnSync("bash", [script, "--", "--no-defaults", `--socket=${path.join(nodes[0].dir, "nope.sock")}`], { encoding: "utf8" });
    assert.equal(down.status, 2);
    assert.match(down.stderr, /cannot query MariaDB/);
    const bad = spawnSync("bash", [script, "--max-lag", "soon"], { encoding: "utf8" });
    assert.equal(bad.status, 64);
    assert.match(bad.stderr, /--max-lag must be a number of seconds \(got 'soon'\)/);
  });
});

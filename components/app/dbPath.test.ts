/**
 * The demo app's database path against a real Galera cluster (two nodes and garbd on 127.0.0.1),
 * through real nginx + php-fpm: two "regions", each an app stack whose DB_HOSTS lists its own node
 * first, race conflicting writes (counters, UNIQUE claims, compare-and-set) and every answer is
 * checked against the data; a node cut off from the cluster is skipped at once, a blackholed
 * remote costs at most the 0.3 s pre-check, a donor serves only when no node is Synced, /db-health
 * says why a region's node does not serve,
 * and app_write retries a certification conflict exactly once. Then the same path on a plain MariaDB
 * (wsrep off: healthy by definition): a real InnoDB deadlock (1213) retried once and counted once,
 * the endpoint's semantics one request at a time, and /db-health for the local node only, with
 * an app of one's own too.
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { renderAppEnv } from "./appEnv";
import { DEMO_APP_DIR } from "./demoApp";
import { startAppStack, type AppStack } from "./testing/appStack";
import { getJson, request } from "./testing/http";
import { assertRunOk, freePort, waitFor } from "./testing/processes";
import { openSqlSession, startMariaDb, type MariaDb } from "./testing/services";
import { renderUsersSql } from "../db/usersSql";
import { cidrToMariaDbHost } from "../db/mariaDbHost";
import { describeCluster, startLocalCluster, waitUntil, type LocalCluster, type LocalMariadb } from "../db/testing/localMariadb";

const APP_PASSWORD = "app-pw'\"$";

/** A write op (incr, claim, cas): db-op.json takes those as POST only. */
const isWrite = (query: string) => /^op=(incr|claim|cas)(&|$)/.test(query);
/** POSTs a write (form-encoded), GETs a read, or sends `method` when given. */
function dbOp(baseUrl: string, query: string, method = isWrite(query) ? "POST" : "GET") {
  return method === "GET"
    ? getJson<OpAnswer>(`${baseUrl}/db-op.json?${query}`)
    : getJson<OpAnswer>(`${baseUrl}/db-op.json`, { method, body: query, headers: { "Content-Type": "application/x-www-form-urlencoded" } });
}

/** Runs the tasks, `width` at a time (the test nginx takes 64 connections, php-fpm a few workers). */
async function parallel<T>(tasks: (() => Promise<T>)[], width = 8): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  }));
  return results;
}

interface OpAnswer {
  ok: boolean;
  error?: string;
  n?: number;
  version?: number;
  value?: string | null;
  db: string | null;
  region: string;
  host?: string;
  id?: number;
  problems?: string[];
  galera?: boolean;
  status?: Record<string, string>;
}

describe("the app's DB path on a Galera cluster (two regions' app stacks, real servers)", () => {
  let cluster: LocalCluster;
  let a: LocalMariadb;
  let b: LocalMariadb;
  let appA: AppStack;
  let appB: AppStack;
  const env = (region: string, hosts: { host: string; port: number }[], clusterSize = 3) =>
    renderAppEnv({ region, dbHosts: hosts, dbName: "app", dbUser: "app", dbPassword: APP_PASSWORD, dbClusterSize: clusterSize });
  const op = (app: AppStack, query: string) => dbOp(app.baseUrl, query);

  before(async () => {
    cluster = await startLocalCluster({ nodes: 2, arbitrator: true, tls: false });
    [a, b] = cluster.nodes as [LocalMariadb, LocalMariadb];
    a.sql(renderUsersSql({ appUser: "app", appPassword: APP_PASSWORD, appDatabase: "app", appHostPattern: cidrToMariaDbHost("127.0.0.0/8") }));
    const hostA = { host: "127.0.0.1", port: a.port };
    const hostB = { host: "127.0.0.1", port: b.port };
    appA = await startAppStack({ appEnv: env("nyc3", [hostA, hostB]) });
    appB = await startAppStack({ appEnv: env("ams3", [hostB, hostA]) });
  });
  after(async () => {
    await appA?.stop();
    await appB?.stop();
    await cluster?.stop();
  });

  test("each region writes through its own node; /db-health is 200 with the whole cluster", async () => {
    const [ra, rb] = await Promise.all([op(appA, "op=incr&name=warmup"), op(appB, "op=incr&name=warmup")]);
    assert.equal(ra.json.db, `127.0.0.1:${a.port}`, JSON.stringify(ra.json));
    assert.equal(rb.json.db, `127.0.0.1:${b.port}`, JSON.stringify(rb.json));
    for (const app of [appA, appB]) {
      const h = await getJson<OpAnswer>(`${app.baseUrl}/db-health`);
      assert.equal(h.status, 200, JSON.stringify(h.json));
      assert.equal(h.json.ok, true);
    }
  });

  test("counters raced from both regions end exactly at the number of acknowledged increments, on both nodes", async () => {
    const answers = await parallel(Array.from({ length: 60 }, (_, i) => () => op(i % 2 ? appB : appA, "op=incr&name=hot")));
    const acked = answers.filter((r) => r.status === 200 && r.json.ok).length;
    for (const r of answers) assert.ok(r.status === 200 || (r.status === 503 && r.json.error === "conflict"), JSON.stringify(r.json));
    assert.ok(acked > 0);
    const final = (db: LocalMariadb) => Number(db.sql("SELECT n FROM app.counters WHERE name = 'hot';"));
    await waitUntil("both nodes equal", () => final(a) === final(b), 10_000);
    assert.equal(final(a), acked, `${acked} acknowledged of ${answers.length}; the others: ${answers.filter((r) => !r.json.ok).map((r) => JSON.stringify(r.json)).join(" | ")}`);
    // Each acknowledged answer saw its own increment: no value is reported twice.
    const seen = answers.filter((r) => r.json.ok).map((r) => r.json.n);
    assert.equal(new Set(seen).size, seen.length, `values reported: ${seen.join(",")}`);
  });

  test("the same UNIQUE values claimed from both regions: each exists once, the loser got 409, no acknowledged claim is missing", async () => {
    const values = Array.from({ length: 15 }, (_, i) => `seat-${i}`);
    const answers = await parallel(values.flatMap((v) => [appA, appB].map((app) => async () => ({ v, r: await op(app, `op=claim&value=${v}`) }))));
    for (const v of values) {
      const mine = answers.filter((x) => x.v === v);
      assert.equal(mine.filter((x) => x.r.status === 200).length, 1, `${v}: ${mine.map((x) => `${x.r.status} ${JSON.stringify(x.r.json)}`).join(" | ")}`);
      assert.ok(mine.every((x) => x.r.status === 200 || x.r.status === 409 || (x.r.status === 503 && x.r.json.error === "conflict")));
    }
    await waitUntil("both nodes have every claim", () => [a, b].every((n) => n.sql("SELECT COUNT(*) FROM app.claims WHERE value LIKE 'seat-%';").trim() === String(values.length)), 10_000);
  });

  test("compare-and-set raced from both regions: never two winners for one version; the cell holds the last winner's value", async () => {
    const first = await op(appA, "op=cas&name=cell&expect=0&value=init");
    assert.equal(first.status, 200, JSON.stringify(first.json));
    for (let round = 1; round <= 8; round++) {
      const tries = await Promise.all([appA, appB].map((app, i) => op(app, `op=cas&name=cell&expect=${round}&value=r${round}-${i}`)));
      const winners = tries.filter((t) => t.status === 200);
      assert.ok(winners.length <= 1, `round ${round}: ${tries.map((t) => JSON.stringify(t.json)).join(" | ")}`);
      if (winners.length === 0) {
        // Both lost certification to each other: the version did not move; try once alone.
        const again = await op(appA, `op=cas&name=cell&expect=${round}&value=r${round}-0`);
        assert.equal(again.status, 200, JSON.stringify(again.json));
      }
      const got = await op(appB, "op=get&name=cell");
      assert.equal(got.json.version, round + 1);
      assert.match(String(got.json.value), new RegExp(`^r${round}-`));
    }
    const stale = await op(appB, "op=cas&name=cell&expect=1&value=stale");
    assert.equal(stale.status, 409);
    assert.equal(stale.json.error, "version mismatch");
  });

  test("a node cut off from the cluster is skipped at once; its region's /db-health says why; a blackholed remote costs at most the pre-check", async () => {
    b.sql("SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1';");
    const blackhole = await freePort();
    let table = false;
    try {
      await waitUntil("b non-Primary", () => b.wsrep().wsrep_cluster_status === "non-Primary", 20_000, () => describeCluster([a, b]));
      await waitUntil("a goes on with the arbitrator", () => a.synced(), 20_000, () => describeCluster([a, b]));
      // Region B's app skips its own (non-primary) node and writes through A.
      const viaA = await op(appB, "op=incr&name=during-cut");
      assert.equal(viaA.status, 200, JSON.stringify(viaA.json));
      assert.equal(viaA.json.db, `127.0.0.1:${a.port}`);
      const health = await getJson<OpAnswer>(`${appB.baseUrl}/db-health`);
      assert.equal(health.status, 503);
      assert.match((health.json.problems ?? []).join(" "), /non-primary/);
      const healthA = await getJson<OpAnswer>(`${appA.baseUrl}/db-health`);
      assert.equal(healthA.status, 503, "the cluster lacks a member");
      assert.match((healthA.json.problems ?? []).join(" "), /the cluster has 2 of 3 members/);

      // Now the remote is blackholed (SYNs to its port dropped): the request fails fast with every reason.
      const nft = (script: string) => spawnSync("nft", ["-f", "-"], { input: script, encoding: "utf8" });
      const r = nft(`table inet dnsrrha_dbpath_test {\n chain out { type filter hook output priority 0; tcp dport ${blackhole} drop; }\n}\n`);
      assert.equal(r.status, 0, r.stderr);
      table = true;
      writeFileSync(appB.appEnvPath, env("ams3", [{ host: "127.0.0.1", port: b.port }, { host: "127.0.0.1", port: blackhole }]));
      const started = Date.now();
      const failed = await op(appB, "op=incr&name=during-cut");
      const ms = Date.now() - started;
      assert.equal(failed.status, 503);
      assert.match(String(failed.json.error), new RegExp(`127\\.0\\.0\\.1:${b.port}: non-primary .*127\\.0\\.0\\.1:${blackhole}: unreachable within 300 ms`));
      assert.ok(ms < 900, `failed in ${ms} ms`);
    } finally {
      if (table) spawnSync("nft", ["delete", "table", "inet", "dnsrrha_dbpath_test"]);
      writeFileSync(appB.appEnvPath, env("ams3", [{ host: "127.0.0.1", port: b.port }, { host: "127.0.0.1", port: a.port }]));
      b.sql("SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0';");
    }
    await waitUntil("b rejoins", () => b.synced() && b.wsrep().wsrep_cluster_size === "3", 30_000, () => describeCluster([a, b]));
    const back = await op(appB, "op=incr&name=during-cut");
    assert.equal(back.json.db, `127.0.0.1:${b.port}`, "back on its own node");
    assert.equal(Number(b.sql("SELECT n FROM app.counters WHERE name = 'during-cut';")), 2);
  });

  test("a donor (Donor/Desynced) serves only when no node is Synced: a Synced remote comes first, the donor beats no database", async () => {
    // wsrep_desync=ON is the state a donor is in during an SST: Primary, ready, exempt from flow control.
    a.sql("SET GLOBAL wsrep_desync = ON;");
    let isolated = false;
    try {
      await waitUntil("a Donor/Desynced", () => a.wsrep().wsrep_local_state_comment === "Donor/Desynced", 20_000, () => describeCluster([a, b]));
      const viaB = await op(appA, "op=incr&name=donor");
      assert.equal(viaB.status, 200, JSON.stringify(viaB.json));
      assert.equal(viaB.json.db, `127.0.0.1:${b.port}`, "region A's app prefers the Synced remote to its own donor");
      b.sql("SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1';");
      isolated = true;
      await waitUntil("b non-Primary", () => b.wsrep().wsrep_cluster_status === "non-Primary", 20_000, () => describeCluster([a, b]));
      await waitUntil("a Primary with the arbitrator", () => a.wsrep().wsrep_cluster_status === "Primary" && a.wsrep().wsrep_ready === "ON", 20_000, () => describeCluster([a, b]));
      for (const app of [appA, appB]) {
        const r = await op(app, "op=incr&name=donor");
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.equal(r.json.db, `127.0.0.1:${a.port}`, "with no Synced node, both regions write through the donor");
      }
      // /db-health still reports the region's node as not serving: a donor is degraded, and alerts.
      const health = await getJson<OpAnswer>(`${appA.baseUrl}/db-health`);
      assert.equal(health.status, 503);
      assert.match((health.json.problems ?? []).join(" "), /not synced \(Donor\/Desynced/);
    } finally {
      if (isolated) b.sql("SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0';");
      a.sql("SET GLOBAL wsrep_desync = OFF;");
    }
    await waitUntil("both Synced, cluster whole", () => a.synced() && b.synced() && b.wsrep().wsrep_cluster_size === "3", 30_000, () => describeCluster([a, b]));
    await waitUntil("b applied the donor's writes", () => b.sql("SELECT n FROM app.counters WHERE name = 'donor';").trim() === "3", 10_000);
    const back = await op(appA, "op=incr&name=donor");
    assert.equal(back.json.db, `127.0.0.1:${a.port}`, "back on its own node once Synced");
  });

  test("app_write retries a certification conflict once (the first attempt rolled back), and a second one reaches the caller", () => {
    const envPath = path.join(appA.dir, "php-cli.env");
    writeFileSync(envPath, env("nyc3", [{ host: "127.0.0.1", port: a.port }]));
    const php = (conflicts: number) => `require '${DEMO_APP_DIR}/lib.php';
      [$pdo] = app_db();
      $pdo->exec('CREATE TABLE IF NOT EXISTS retry_probe (id INT PRIMARY KEY AUTO_INCREMENT, tag VARCHAR(16))');
      $tag = 'c${conflicts}';
      $calls = 0;
      try {
        app_write($pdo, function () use ($pdo, $tag, &$calls) {
          $calls++;
          $pdo->prepare('INSERT INTO retry_probe (tag) VALUES (?)')->execute([$tag]);
          if ($calls <= ${conflicts}) { $e = new PDOException('Deadlock found when trying to get lock; try restarting transaction'); $e->errorInfo = ['40001', 1213, 'Deadlock']; throw $e; }
        });
        echo "ok calls=$calls";
      } catch (PDOException $e) { echo "error ", $e->errorInfo[1], " calls=$calls"; }`;
    const runPhp = (conflicts: number) => spawnSync("php", ["-r", php(conflicts)], { encoding: "utf8", env: { ...process.env, DNS_RR_HA_APP_ENV: envPath } });
    const once = runPhp(1);
    assert.equal(once.stdout, "ok calls=2", once.stderr);
    const twice = runPhp(2);
    assert.equal(twice.stdout, "error 1213 calls=2", twice.stderr);
    // The failed attempts left nothing: one row for the retried write, none for the twice-failed one.
    assert.equal(a.sql("SELECT tag, COUNT(*) FROM app.retry_probe GROUP BY tag ORDER BY tag;").trim(), "c1\t1");
  });
});

describe("the app's DB path on a plain MariaDB (wsrep off), through nginx + php-fpm", () => {
  let db: MariaDb;
  let app: AppStack;
  const self = () => ({ host: "127.0.0.1", port: db.port });
  const env = (hosts: { host: string; port: number }[], clusterSize?: number) =>
    renderAppEnv({ region: "fra1", dbHosts: hosts, dbName: db.database, dbUser: db.user, dbPassword: db.password, ...(clusterSize !== undefined ? { dbClusterSize: clusterSize } : {}) });
  const op = (query: string, method?: string) => dbOp(app.baseUrl, query, method);
  const counter = (name: string) => Number(db.sql(`SELECT n FROM app.counters WHERE name = '${name}';`).stdout.trim());
  const status = (name: string) => Number(db.sql(`SHOW GLOBAL STATUS LIKE '${name}';`).stdout.trim().split("\t")[1]);
  // Live, unlike information_schema.INNODB_TRX (a cache not refreshed while read more often than every 100 ms).
  const lockWaits = () => status("Innodb_row_lock_current_waits");

  before(async () => {
    db = await startMariaDb();
    app = await startAppStack();
    writeFileSync(app.appEnvPath, env([self()], 3));
  });
  after(async () => {
    await app?.stop();
    await db?.stop();
  });

  test("a deadlock (1213) on the first attempt is rolled back and retried once: the counter moves exactly once", async () => {
    assert.equal((await op("op=incr&name=dl")).json.n, 1, "schema created, row exists");
    assertRunOk(db.sql("CREATE TABLE app.ballast (id INT PRIMARY KEY, x INT); INSERT INTO app.ballast SELECT seq, 0 FROM app.seq_1_to_50;"), "ballast");
    const deadlocks = status("Innodb_deadlocks");
    // The test's transaction: heavy (50 rows changed), so InnoDB picks the app's as the victim.
    const t = openSqlSession(db);
    try {
      await t.query("BEGIN; UPDATE app.ballast SET x = x + 1; SELECT n FROM app.counters WHERE name = 'dl' LOCK IN SHARE MODE;");
      const pending = op("op=incr&name=dl");
      // The app's upsert waits for an exclusive lock behind our shared one ...
      await waitFor("the app's upsert waits for our lock", () => lockWaits() === 1, 10_000);
      // ... and our own upgrade to exclusive closes the cycle: a deadlock, the app's attempt rolled back.
      await t.query("UPDATE app.counters SET n = n + 100 WHERE name = 'dl';");
      assert.equal(status("Innodb_deadlocks"), deadlocks + 1, "one real deadlock");
      // The retry now waits behind our exclusive lock; our rollback lets it through.
      await waitFor("the app's retry waits for our lock", () => lockWaits() === 1, 10_000);
      await t.query("ROLLBACK;");
      const r = await pending;
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.deepEqual([r.json.ok, r.json.n], [true, 2]);
      assert.equal(counter("dl"), 2, "the rolled-back first attempt left nothing; the retry counted once");
      assert.equal(status("Innodb_deadlocks"), deadlocks + 1);
    } finally {
      assert.equal(await t.close(), "", "the test's session got no error: the app's transaction was the victim");
    }
  });

  test("counters under concurrent requests are exact: every answer a distinct value, the last one the total", async () => {
    const answers = await parallel(Array.from({ length: 40 }, () => () => op("op=incr&name=busy")));
    for (const r of answers) assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(answers.map((r) => r.json.n).sort((x, y) => x! - y!), Array.from({ length: 40 }, (_, i) => i + 1));
    assert.equal(counter("busy"), 40);
  });

  test("claims: of two concurrent claims of one value exactly one is 200 and one 409 duplicate", async () => {
    for (const v of ["v-1", "v-2", "v-3"]) {
      const both = await Promise.all([op(`op=claim&value=${v}`), op(`op=claim&value=${v}`)]);
      assert.deepEqual(both.map((r) => r.status).sort(), [200, 409], both.map((r) => JSON.stringify(r.json)).join(" | "));
      assert.deepEqual(both.find((r) => r.status === 409)!.json.error, "duplicate");
      assert.equal(typeof both.find((r) => r.status === 200)!.json.id, "number");
    }
    assert.equal(db.sql("SELECT COUNT(*) FROM app.claims WHERE value LIKE 'v-%';").stdout.trim(), "3");
    assert.equal(db.sql("SELECT region FROM app.claims WHERE value = 'v-1';").stdout.trim(), "fra1");
  });

  test("a write sent as GET is refused with 405 before the database is touched (the LBs replay a failed GET); op=get works as GET", async () => {
    for (const q of ["op=incr&name=by-get", "op=claim&value=by-get", "op=cas&name=by-get&expect=0&value=x"]) {
      const r = await op(q, "GET");
      assert.equal(r.status, 405, JSON.stringify(r.json));
      assert.equal(r.res.headers["allow"], "POST");
      assert.match(String(r.json.error), /changes data: send it as POST/);
      assert.equal(r.json.db, null, "no database was asked");
    }
    assert.equal(db.sql("SELECT (SELECT COUNT(*) FROM app.counters WHERE name = 'by-get') + (SELECT COUNT(*) FROM app.claims WHERE value = 'by-get') + (SELECT COUNT(*) FROM app.cells WHERE name = 'by-get');").stdout.trim(), "0");
    assert.equal((await op("op=get&name=by-get", "GET")).status, 200);
  });

  test("compare-and-set: create only at version 0, update only at the current version, 409 names the current one", async () => {
    const get = async () => (await op("op=get&name=c")).json;
    assert.deepEqual(await get(), { ok: true, value: null, version: 0, region: "fra1", host: os.hostname(), db: `127.0.0.1:${db.port}` });
    const stale = await op("op=cas&name=c&expect=1&value=x");
    assert.deepEqual([stale.status, stale.json.error, stale.json.version], [409, "version mismatch", 0], "no cell: nothing to update");
    assert.deepEqual([(await op("op=cas&name=c&expect=0&value=a")).json.version, (await get()).value], [1, "a"]);
    const again = await op("op=cas&name=c&expect=0&value=overwrite");
    assert.deepEqual([again.status, again.json.version, (await get()).value], [409, 1, "a"], "expect=0 never overwrites an existing cell");
    assert.equal((await op("op=cas&name=c&expect=1&value=b")).json.version, 2);
    const old = await op("op=cas&name=c&expect=1&value=lost");
    assert.deepEqual([old.status, old.json.error, old.json.version], [409, "version mismatch", 2]);
    assert.deepEqual([(await get()).value, (await get()).version], ["b", 2]);
    // Two writers who both read version 2: exactly one wins.
    const race = await Promise.all(["p", "q"].map((v) => op(`op=cas&name=c&expect=2&value=${v}`)));
    assert.deepEqual(race.map((r) => r.status).sort(), [200, 409]);
    assert.equal((await get()).value, ["p", "q"][race.findIndex((r) => r.status === 200)]);
    assert.equal((await op("op=nope")).status, 400);
    assert.equal((await op("op=cas&name=c&expect=x&value=v")).status, 400);
  });

  test("/db-health: 200 on a plain server (DB_CLUSTER_SIZE set, no cluster to count); 503 naming the local host when it is down, whatever the others", async () => {
    const ok = await getJson<OpAnswer>(`${app.baseUrl}/db-health`);
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.deepEqual([ok.json.ok, ok.json.galera, ok.json.db, ok.json.region], [true, false, `127.0.0.1:${db.port}`, "fra1"]);
    const down = await freePort();
    writeFileSync(app.appEnvPath, env([{ host: "127.0.0.1", port: down }, self()], 3));
    try {
      // The app itself goes on through the second host ...
      const viaSecond = await op("op=incr&name=h");
      assert.equal(viaSecond.json.db, `127.0.0.1:${db.port}`, JSON.stringify(viaSecond.json));
      // ... but this region's node is down, and that is what the region's uptime check must see.
      const h = await getJson<OpAnswer>(`${app.baseUrl}/db-health`);
      assert.equal(h.status, 503, JSON.stringify(h.json));
      assert.equal(h.json.ok, false);
      assert.match((h.json.problems ?? []).join(" "), new RegExp(`^127\\.0\\.0\\.1:${down}: .*refused`));
    } finally {
      writeFileSync(app.appEnvPath, env([self()], 3));
    }
  });

  test("an app of one's own (no lib.php, no db-op.php) still gets /db-health from the library's dir", async () => {
    const own = await startAppStack({ appEnv: readFileSync(app.appEnvPath, "utf8"), appFiles: [{ path: "index.php", content: "<?php echo 'mine';\n" }] });
    try {
      assert.equal((await request(`${own.baseUrl}/`)).body, "mine");
      assert.equal((await request(`${own.baseUrl}/db-op.json`)).status, 404, "the demo's endpoints are not there");
      const h = await getJson<OpAnswer>(`${own.baseUrl}/db-health`);
      assert.equal(h.status, 200, `${JSON.stringify(h.json)}\n${own.logs()}`);
      assert.equal(h.json.db, `127.0.0.1:${db.port}`);
    } finally {
      await own.stop();
    }
  });
});

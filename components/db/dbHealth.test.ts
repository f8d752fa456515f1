/**
 * db-health.sh against one real two-node Galera cluster (no arbitrator), taken through the
 * states it reports: complete, cut in two (neither side has quorum), one member gone, a server
 * down. Every output must be one JSON document; the exit code tells the state.
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { dbScriptSourcePath } from "./dbScripts";
import { clientArgs, describeCluster, startLocalCluster, waitUntil, type LocalCluster, type LocalMariadb } from "./testing/localMariadb";

interface Health {
  healthy: boolean;
  state: string;
  cluster_status?: string;
  ready?: boolean;
  cluster_size?: number | null;
  expected_size?: number | null;
  addresses?: string[];
  last_committed?: number | null;
  recv_queue?: number | null;
  flow_control_paused?: number | null;
  cert_failures?: number | null;
  problems: string[];
}

const script = dbScriptSourcePath("health");

/** Run db-health.sh (behind `wrap`, a command prefix, if given); its stdout must be exactly one JSON line. */
function health(args: string[], wrap: string[] = []): { status: number | null; json: Health; stderr: string } {
  const [command, ...rest] = [...wrap, "bash", script, ...args];
  const r = spawnSync(command!, rest, { encoding: "utf8", timeout: 30_000 });
  assert.equal(r.stdout.split("\n").length, 2, `one line of output: ${JSON.stringify(r.stdout)} ${r.stderr}`);
  let json: Health;
  try {
    json = JSON.parse(r.stdout) as Health;
  } catch (e) {
    throw new Error(`not JSON (${(e as Error).message}): ${r.stdout}`);
  }
  return { status: r.status, json, stderr: r.stderr };
}
const of = (db: LocalMariadb, ...flags: string[]) => health([...flags, "--", ...clientArgs(db.socket)]);

describe("db-health.sh on a real two-node cluster", () => {
  let cluster: LocalCluster;
  let a: LocalMariadb;
  let b: LocalMariadb;
  before(async () => {
    cluster = await startLocalCluster({ nodes: 2, tls: false });
    [a, b] = cluster.nodes as [LocalMariadb, LocalMariadb];
  });
  after(async () => {
    await cluster?.stop();
  });

  test("complete: exit 0, Synced in the primary component, every member's address", () => {
    a.sql("CREATE DATABASE h; CREATE TABLE h.t (id INT PRIMARY KEY); INSERT INTO h.t VALUES (1);");
    for (const db of [a, b]) {
      const r = of(db);
      assert.equal(r.status, 0, JSON.stringify(r.json));
      const { json } = r;
      assert.deepEqual(
        { healthy: json.healthy, state: json.state, cluster_status: json.cluster_status, ready: json.ready, cluster_size: json.cluster_size, expected_size: json.expected_size, problems: json.problems },
        { healthy: true, state: "Synced", cluster_status: "Primary", ready: true, cluster_size: 2, expected_size: null, problems: [] },
      );
      assert.deepEqual([...json.addresses!].sort(), [a, b].map((n) => `127.0.0.1:${n.port}`).sort());
      assert.equal(json.last_committed, Number(db.wsrep().wsrep_last_committed));
      for (const k of ["recv_queue", "flow_control_paused", "cert_failures"] as const) assert.equal(typeof json[k], "number", k);
    }
  });

  test("--expect: all there exits 0; a member short exits 1 naming the count", () => {
    const all = of(a, "--expect", "2");
    assert.equal(all.status, 0);
    assert.equal(all.json.expected_size, 2);
    const short = of(a, "--expect", "3");
    assert.equal(short.status, 1, JSON.stringify(short.json));
    assert.equal(short.json.healthy, false);
    assert.equal(short.json.state, "Synced", "it still serves");
    assert.deepEqual(short.json.problems, ["cluster has 2 of 3 members"]);
  });

  test("bad arguments: exit 64 with the usage, nothing on stdout", () => {
    for (const args of [["--expect", "0"], ["--expect", "two"], ["--expect"], ["--no-defaults"]]) {
      const r = spawnSync("bash", [script, ...args], { encoding: "utf8" });
      assert.equal(r.status, 64, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /usage|--expect/);
    }
  });

  test("the expected size defaults to db.env's CLUSTER_SIZE", () => {
    const work = mkdtempSync(path.join(tmpdir(), "dns-rr-ha-health-"));
    try {
      // A private /etc (overlay) holding the wiring's db.env.
      const setup = `mkdir -p '${work}/u' '${work}/w' && mount -t overlay overlay -o 'lowerdir=/etc,upperdir=${work}/u,workdir=${work}/w' /etc && mkdir -p /etc/dns-rr-ha/db && printf 'VOLUME_NAME=v\\nCLUSTER_SIZE=3\\n' >/etc/dns-rr-ha/db/db.env && exec "$@"`;
      const r = health(["--", ...clientArgs(a.socket)], ["unshare", "--mount", "--propagation", "private", "bash", "-c", setup, "sh"]);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.json.expected_size, 3);
      assert.deepEqual(r.json.problems, ["cluster has 2 of 3 members"]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  test("cut in two without an arbitrator: neither side has quorum, both exit 3", async () => {
    b.sql("SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1';");
    try {
      await waitUntil("both sides to lose quorum", () => a.wsrep().wsrep_cluster_status === "non-Primary" && b.wsrep().wsrep_cluster_status === "non-Primary", 20_000, () => describeCluster([a, b]));
      for (const db of [a, b]) {
        const r = of(db, "--expect", "2");
        assert.equal(r.status, 3, JSON.stringify(r.json));
        assert.equal(r.json.healthy, false);
        assert.equal(r.json.cluster_status, "non-Primary");
        assert.equal(r.json.ready, false);
        assert.ok(r.json.problems.some((p) => /^not in the primary component \(non-Primary\)/.test(p)), r.json.problems.join("; "));
        assert.ok(!r.json.problems.some((p) => /members/.test(p)), "the member count is not judged when the node does not serve");
      }
    } finally {
      b.sql("SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0';");
    }
    await waitUntil("both to re-form the cluster", () => a.synced() && b.synced() && a.wsrep().wsrep_cluster_size === "2", 30_000, () => describeCluster([a, b]));
    assert.equal(of(b, "--expect", "2").status, 0);
  });

  test("a member gone: the other serves alone (1 of 2); the stopped server exits 2, as JSON", async () => {
    await b.shutdown();
    await waitUntil("a alone", () => a.wsrep().wsrep_cluster_size === "1", 20_000, () => describeCluster([a, b]));
    const alone = of(a);
    assert.equal(alone.status, 0, "without --expect the size is not judged");
    assert.equal(alone.json.cluster_size, 1);
    const short = of(a, "--expect", "2");
    assert.equal(short.status, 1, JSON.stringify(short.json));
    assert.deepEqual(short.json.problems, ["cluster has 1 of 2 members"]);
    assert.deepEqual(short.json.addresses, [`127.0.0.1:${a.port}`]);
    const down = of(b, "--expect", "2");
    assert.equal(down.status, 2);
    assert.equal(down.json.healthy, false);
    assert.equal(down.json.state, "down");
    assert.equal(down.json.problems.length, 1);
    assert.match(down.json.problems[0]!, /^cannot query MariaDB: ERROR 2002 .*mysqld\.sock/);
  });
});

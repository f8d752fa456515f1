/**
 * The rendered config of a Galera member, checked by the programs that read it: mariadbd (every
 * option known, under its full name, with the intended value), my_print_defaults and the SST
 * script (the [sst] section), and Galera itself on one real node (the provider options as the
 * provider parsed them). Then the validation of one node, of a cluster and of the group timing.
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import {
  dbNodeMyCnfSettings,
  GALERA_PROVIDER,
  GALERA_TIMING,
  galeraProviderOptions,
  galeraTimingFor,
  galeraTimingProblems,
  innodbBufferPoolMb,
  MY_CNF_DEFAULTS,
  renderMyCnf,
  validateDbCluster,
  validateMyCnfSettings,
  WSREP_GTID_DOMAIN_ID,
  type GaleraTiming,
  type MyCnfSettings,
} from "./myCnf";
import { startLocalCluster, type LocalCluster, type LocalMariadb } from "./testing/localMariadb";

const members = ["10.10.0.5:4567", "10.20.0.5:4567", "10.30.0.5:4567", "10.40.0.9:4567"];
const production = dbNodeMyCnfSettings({
  nodeIndex: 2,
  nodeCount: 3,
  bindAddress: "10.10.0.5",
  datadir: "/mnt/vol-a/mysql",
  memoryMb: 2048,
  clusterName: "prod-db",
  nodeName: "prod-db-fra1",
  clusterMembers: members,
});
const tls = { ca: "/etc/mysql/tls/ca.pem", cert: "/etc/mysql/tls/cert.pem", key: "/etc/mysql/tls/key.pem" };
const withTls: MyCnfSettings = { ...production, tls };

/** Run a tool on a config file written to a temp dir. */
function onFile<T>(cnf: string, run: (file: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), "dns-rr-ha-cnf-"));
  try {
    const file = path.join(dir, "my.cnf");
    writeFileSync(file, cnf);
    return run(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Run `mariadbd --help --verbose` on a config file; returns exit status, the variables table and stderr. */
function mariadbdHelp(cnf: string): { status: number | null; variables: Map<string, string>; stderr: string } {
  return onFile(cnf, (file) => {
    // --user=root: mariadbd refuses to run as root otherwise, even for --help.
    const r = spawnSync("mariadbd", [`--defaults-file=${file}`, "--user=root", "--help", "--verbose"], { encoding: "utf8" });
    const variables = new Map<string, string>();
    const lines = r.stdout.split("\n");
    const start = lines.findIndex((l) => /^-{10,} -{10,}/.test(l));
    for (const line of start >= 0 ? lines.slice(start + 1) : []) {
      const m = /^(\S+)\s+(.*)$/.exec(line);
      if (m) variables.set(m[1]!, m[2]!.trim());
    }
    return { status: r.status, variables, stderr: r.stderr };
  });
}

/** `key = value` lines of one section of a rendered config, keys in the dash form mariadbd prints. */
function renderedOptions(cnf: string, section = "mariadbd"): Map<string, string> {
  const options = new Map<string, string>();
  let current = "";
  for (const line of cnf.split("\n")) {
    const header = /^\[([a-z]+)\]$/.exec(line);
    if (header) current = header[1]!;
    const m = /^([A-Za-z_-]+) = (.*)$/.exec(line);
    if (m && current === section) options.set(m[1]!.replace(/_/g, "-"), m[2]!);
  }
  return options;
}

/** `a=b;c=d` (as rendered) or `a = b; c = d` (as Galera reports it) into a map. */
function providerOptions(text: string): Map<string, string> {
  return new Map(text.split(";").map((o) => o.trim()).filter(Boolean).map((o) => {
    const i = o.indexOf("=");
    return [o.slice(0, i).trim(), o.slice(i + 1).trim()] as [string, string];
  }));
}

describe("renderMyCnf accepted by mariadbd", () => {
  const cnf = renderMyCnf(production);
  const help = mariadbdHelp(cnf);
  const tlsHelp = mariadbdHelp(renderMyCnf(withTls));

  test("mariadbd --help --verbose accepts the rendered config, with and without TLS", () => {
    assert.equal(help.status, 0, help.stderr);
    assert.equal(tlsHelp.status, 0, tlsHelp.stderr);
  });

  test("an unknown option makes the same check fail (the check catches typos)", () => {
    const r = mariadbdHelp(`${cnf}\nwsrep_provider_optionz = x\n`);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /unknown variable 'wsrep_provider_optionz/);
  });

  test("every option is a full option name (mariadbd would also accept a unique prefix)", () => {
    for (const [r, text] of [[help, cnf], [tlsHelp, renderMyCnf(withTls)]] as const) {
      const options = renderedOptions(text);
      assert.ok(options.size >= 35, `parsed only ${options.size} options`);
      for (const name of options.keys()) assert.ok(r.variables.has(name), `${name} is not a mariadbd variable`);
    }
  });

  test("tmpdir and socket: the defaults unless set; set, mariadbd takes them; bad ones are refused", () => {
    assert.doesNotMatch(cnf, /^(tmpdir|socket) /m);
    const own = mariadbdHelp(renderMyCnf({ ...production, tmpdir: "/var/tmp/mariadb-a", socket: "/run/a/mysqld.sock" }));
    assert.equal(own.variables.get("tmpdir"), "/var/tmp/mariadb-a");
    assert.equal(own.variables.get("socket"), "/run/a/mysqld.sock");
    assert.throws(() => renderMyCnf({ ...production, tmpdir: "tmp\nskip_grant_tables" }), /tmpdir must be an absolute path/);
  });

  test("mariadbd ends up with the intended values", () => {
    const expected: Record<string, string> = {
      "log-basename": "dns-rr-ha",
      "pid-file": "/run/mysqld/mysqld.pid",
      "log-error": "/var/log/mysql/error.log",
      "bind-address": "10.10.0.5",
      port: "3306",
      "skip-name-resolve": "TRUE",
      "max-connections": "200",
      datadir: "/mnt/vol-a/mysql/",
      "default-storage-engine": "InnoDB",
      "innodb-buffer-pool-size": String(1024 * 1024 * 1024),
      "innodb-flush-log-at-trx-commit": "1",
      "sync-binlog": "1",
      "innodb-autoinc-lock-mode": "2",
      "server-id": "1",
      "gtid-domain-id": "3",
      "wsrep-gtid-mode": "TRUE",
      "wsrep-gtid-domain-id": String(WSREP_GTID_DOMAIN_ID),
      "wsrep-auto-increment-control": "FALSE",
      "auto-increment-increment": "10",
      "auto-increment-offset": "3",
      "log-bin": "dns-rr-ha-bin",
      "binlog-format": "ROW",
      "log-slave-updates": "TRUE",
      "binlog-expire-logs-seconds": "604800",
      "wsrep-on": "TRUE",
      "wsrep-provider": GALERA_PROVIDER,
      "wsrep-cluster-name": "prod-db",
      "wsrep-cluster-address": `gcomm://${members.join(",")}`,
      "wsrep-node-name": "prod-db-fra1",
      "wsrep-node-address": "10.10.0.5:4567",
      "wsrep-node-incoming-address": "10.10.0.5:3306",
      "wsrep-sst-receive-address": "10.10.0.5:4444",
      "wsrep-sst-method": "mariabackup",
      "wsrep-slave-threads": "4",
      "wsrep-retry-autocommit": "1",
      "wsrep-log-conflicts": "TRUE",
      "wsrep-OSU-method": "TOI",
      "require-secure-transport": "FALSE",
    };
    for (const [name, value] of Object.entries(expected)) assert.equal(help.variables.get(name), value, name);
  });

  test("wsrep_provider_options as mariadbd hands them to Galera: addresses, segment = slot, WAN timing as ISO durations, gcache", () => {
    const options = providerOptions(help.variables.get("wsrep-provider-options") ?? "");
    assert.deepEqual(Object.fromEntries(options), {
      "gmcast.listen_addr": "tcp://10.10.0.5:4567",
      "ist.recv_addr": "10.10.0.5:4568",
      "gmcast.segment": "2",
      "evs.keepalive_period": "PT1S",
      "evs.suspect_timeout": "PT5S",
      "evs.inactive_timeout": "PT15S",
      "evs.install_timeout": "PT15S",
      "evs.send_window": "512",
      "evs.user_send_window": "512",
      "gcache.size": "512M",
      "gcache.recover": "yes",
      "pc.recovery": "TRUE",
    });
    const fractional = providerOptions(galeraProviderOptions({ ...production, timing: { keepaliveMs: 1250, suspectMs: 2500, inactiveMs: 30_000, installMs: 7001 } }));
    assert.deepEqual(["evs.keepalive_period", "evs.suspect_timeout", "evs.inactive_timeout", "evs.install_timeout"].map((k) => fractional.get(k)), ["PT1.250S", "PT2.500S", "PT30S", "PT7.001S"]);
  });

  test("with TLS: the files, TLS 1.2+ only, require_secure_transport, and the group channel's socket.ssl_*", () => {
    const v = tlsHelp.variables;
    for (const name of renderedOptions(renderMyCnf(withTls)).keys()) assert.ok(v.has(name), `${name} is not a mariadbd variable`);
    assert.equal(v.get("ssl-ca"), tls.ca);
    assert.equal(v.get("ssl-cert"), tls.cert);
    assert.equal(v.get("ssl-key"), tls.key);
    assert.equal(v.get("require-secure-transport"), "TRUE");
    assert.equal(v.get("tls-version"), "TLSv1.2,TLSv1.3");
    const options = providerOptions(v.get("wsrep-provider-options") ?? "");
    assert.equal(options.get("socket.ssl_key"), tls.key);
    assert.equal(options.get("socket.ssl_cert"), tls.cert);
    assert.equal(options.get("socket.ssl_ca"), tls.ca);
    assert.ok(![...providerOptions(help.variables.get("wsrep-provider-options") ?? "").keys()].some((k) => k.startsWith("socket.")), "without TLS no socket.ssl");
    assert.throws(() => renderMyCnf({ ...production, tls: { ...tls, key: "key.pem\nskip_grant_tables" } }), /tls\.key must be an absolute path/);
    assert.throws(() => renderMyCnf({ ...production, tls: { ...tls, ca: "/a;socket.ssl=NO" } }), /tls\.ca must be an absolute path/, "nothing can be appended to the provider options");
  });

  test("[sst]: the keys the SST script reads, as my_print_defaults hands them over; none without TLS", () => {
    const sst = onFile(renderMyCnf(withTls), (file) => spawnSync("my_print_defaults", [`--defaults-file=${file}`, "sst"], { encoding: "utf8" }));
    assert.equal(sst.status, 0, sst.stderr);
    assert.deepEqual(sst.stdout.trim().split("\n"), ["--encrypt=3", "--ssl-mode=VERIFY_CA", `--tkey=${tls.key}`, `--tcert=${tls.cert}`, `--tca=${tls.ca}`]);
    // Every key is one the mariabackup SST scripts look up (a misspelt key would be silently ignored).
    const scripts = ["/usr/bin/wsrep_sst_mariabackup", "/usr/bin/wsrep_sst_common"].map((f) => readFileSync(f, "utf8")).join("\n");
    const read = new Set([...scripts.matchAll(/parse_cnf\s+\S+\s+'?([a-z-]+)'?/g)].map((m) => m[1]!));
    for (const key of renderedOptions(renderMyCnf(withTls), "sst").keys()) assert.ok(read.has(key), `[sst] ${key} is not read by the SST script`);
    assert.ok(!read.has("tkeyy"), "the lookup is not vacuous");
    assert.doesNotMatch(cnf, /^\[sst\]/m);
  });
});

describe("the config on a real Galera node", () => {
  let cluster: LocalCluster;
  let node: LocalMariadb;
  const timing: GaleraTiming = { keepaliveMs: 1250, suspectMs: 4000, inactiveMs: 9000, installMs: 8500 };
  before(async () => {
    cluster = await startLocalCluster({ nodes: 1, timing, overrides: { nodeIndex: 3, gcacheMb: 48 } });
    node = cluster.nodes[0]!;
  });
  after(async () => {
    await cluster?.stop();
  });

  test("Galera parsed the provider options as rendered: durations, segment, gcache, TLS on the group channel", () => {
    const options = providerOptions(node.rows("SHOW GLOBAL VARIABLES LIKE 'wsrep_provider_options'")[0]!.Value!);
    const expected: Record<string, string> = {
      "evs.keepalive_period": "PT1.25S",
      "evs.suspect_timeout": "PT4S",
      "evs.inactive_timeout": "PT9S",
      "evs.install_timeout": "PT8.5S",
      "evs.send_window": "512",
      "evs.user_send_window": "512",
      "gmcast.segment": "3",
      "gcache.size": "48M",
      "gcache.recover": "yes",
      "pc.recovery": "true",
      "socket.ssl": "YES",
      "socket.ssl_cert": node.settings.tls!.cert,
      "socket.ssl_key": node.settings.tls!.key,
      "socket.ssl_ca": node.settings.tls!.ca,
    };
    for (const [k, v] of Object.entries(expected)) assert.equal(options.get(k)?.toLowerCase(), v.toLowerCase(), k);
  });

  test("identity and auto-increment as configured, not as Galera would pick them", () => {
    assert.deepEqual(node.rows("SELECT @@server_id AS sid, @@gtid_domain_id AS dom, @@wsrep_gtid_domain_id AS wdom, @@auto_increment_increment AS inc, @@auto_increment_offset AS off, @@wsrep_cluster_name AS name, @@wsrep_node_name AS node"),
      [{ sid: "1", dom: "4", wdom: String(WSREP_GTID_DOMAIN_ID), inc: "10", off: "4", name: "dns-rr-ha-test", node: "node-0" }]);
    node.sql("CREATE DATABASE ai; CREATE TABLE ai.t (id INT AUTO_INCREMENT PRIMARY KEY, x INT); INSERT INTO ai.t (x) VALUES (1), (2), (3);");
    assert.equal(node.sql("SELECT GROUP_CONCAT(id ORDER BY id) FROM ai.t;").trim(), "4,14,24");
    // A write-set is logged under the cluster's domain and server_id.
    assert.match(node.sql("SELECT @@gtid_binlog_pos;").trim(), new RegExp(`^${WSREP_GTID_DOMAIN_ID}-1-\\d+$`));
  });
});

describe("settings validation", () => {
  test("buffer pool is half the RAM in 128 MiB chunks, at least 128 MiB", () => {
    assert.equal(innodbBufferPoolMb(1024), 512);
    assert.equal(innodbBufferPoolMb(2000), 896);
    assert.equal(innodbBufferPoolMb(256), 128);
  });

  test("rejects bad values with every problem named", () => {
    const bad: MyCnfSettings = {
      ...production, serverId: 0, bindAddress: "10.0.0", datadir: "relative/dir", logBasename: "a b", clusterName: "prod db", nodeName: "",
      gcacheMb: 1, applierThreads: 0, galeraPorts: { group: 4567, ist: 4567, sst: 70000 },
    };
    const names = ["serverId", "bindAddress", "datadir", "logBasename", "clusterName", "nodeName", "gcacheMb", "applierThreads", "galeraPorts.sst", "port and galeraPorts must all differ"];
    assert.throws(() => validateMyCnfSettings(bad), (e: Error) => {
      for (const w of names) assert.ok(e.message.includes(w), `${w} missing from:\n${e.message}`);
      return /^invalid MariaDB settings for node 2:\n {2}- /.test(e.message);
    });
    assert.throws(() => renderMyCnf(bad), /serverId must be an integer in 1\.\.4294967295 \(got 0\)/);
  });

  test("auto_increment_increment must leave room for every node; the node's own domain is not the cluster's", () => {
    assert.throws(() => validateMyCnfSettings({ ...production, nodeCount: 11 }), /must be >= nodeCount \(11\)/);
    assert.throws(() => validateMyCnfSettings({ ...production, nodeIndex: 10 }), /auto_increment_offset = nodeIndex \+ 1 \(11\)/);
    assert.doesNotThrow(() => validateMyCnfSettings({ ...production, nodeIndex: 9 }));
    assert.throws(() => validateMyCnfSettings({ ...production, gtidDomainId: WSREP_GTID_DOMAIN_ID }), /gtidDomainId must not be the cluster's domain 1000/);
  });

  test("clusterMembers: <IPv4>:<port> entries, no duplicates, this node's own group address included", () => {
    assert.throws(() => validateMyCnfSettings({ ...production, clusterMembers: [] }), /clusterMembers must list the group address of every member/);
    assert.throws(() => validateMyCnfSettings({ ...production, clusterMembers: ["10.20.0.5:4567", "10.30.0.5:4567"] }), /must include this node's own group address 10\.10\.0\.5:4567/);
    assert.throws(() => validateMyCnfSettings({ ...production, clusterMembers: ["10.10.0.5:4567", "10.10.0.5:4567"] }), /lists a member twice/);
    for (const m of ["db.example:4567", "10.20.0.5", "10.20.0.5:0", "10.20.0.5:4567,10.30.0.5:4567", "10.20.0.5:4567\nwsrep_on = OFF", "999.1.1.1:4567"]) {
      assert.throws(() => validateMyCnfSettings({ ...production, clusterMembers: [...members, m] }), (e: Error) => e.message.includes(`clusterMembers entry ${JSON.stringify(m)}`), m);
    }
    // Another group port for this node moves its own address too.
    assert.throws(() => validateMyCnfSettings({ ...production, galeraPorts: { group: 5567, ist: 4568, sst: 4444 } }), /own group address 10\.10\.0\.5:5567/);
  });

  test("paths and names cannot inject config lines", () => {
    for (const [key, value] of [["logError", "/x\nwsrep_on = OFF"], ["pidFile", "/run/x.pid\n[client]"], ["socket", "/run/x sock"], ["datadir", "/mnt/v/mysql#"]] as const) {
      assert.throws(() => validateMyCnfSettings({ ...production, [key]: value }), new RegExp(`${key} must be an absolute path`), key);
    }
    assert.throws(() => validateMyCnfSettings({ ...production, nodeName: "a\nwsrep_on=OFF" }), /nodeName must match/);
    assert.throws(() => validateMyCnfSettings({ ...production, clusterName: "a;b" }), /clusterName must match/);
  });

  test("group timing: keepalive at most a third of the suspect timeout, suspect within its range and not after inactive, install within keepalive..inactive", () => {
    const d = GALERA_TIMING.default;
    assert.deepEqual(galeraTimingProblems("t", d), []);
    // Galera's own limits (arbitrator.test.ts checks them against garbd).
    assert.deepEqual(galeraTimingProblems("t", { ...d, keepaliveMs: 1667 }), ["t.keepaliveMs (1667) must be at most a third of suspectMs (5000)"]);
    assert.deepEqual(galeraTimingProblems("t", { ...d, suspectMs: 3000 }), [], "exactly a third is fine");
    assert.deepEqual(galeraTimingProblems("t", { ...d, installMs: 15_001 }), ["t.installMs (15001) must not exceed inactiveMs (15000)"]);
    assert.deepEqual(galeraTimingProblems("t", { ...d, keepaliveMs: 1500, suspectMs: 6000, installMs: 1400 }), ["t.installMs (1400) must not be shorter than keepaliveMs (1500)"]);
    assert.deepEqual(galeraTimingProblems("t", { ...d, suspectMs: 20_000 }), ["t.suspectMs (20000) must not exceed inactiveMs (15000)"]);
    assert.deepEqual(galeraTimingProblems("t", { ...d, suspectMs: 999, keepaliveMs: 300 }), ["t.suspectMs must be an integer in 1000..60000 (got 999)"]);
    assert.deepEqual(galeraTimingProblems("t", { ...d, suspectMs: 60_001, inactiveMs: 120_000 }), ["t.suspectMs must be an integer in 1000..60000 (got 60001)"]);
    assert.deepEqual(galeraTimingProblems("t", { ...d, suspectMs: 5000.5 }), ["t.suspectMs must be an integer in 1000..60000 (got 5000.5)"]);
    assert.deepEqual(galeraTimingProblems("t", { keepaliveMs: 50, suspectMs: 5000, inactiveMs: 999, installMs: 700_000 }).length, 3, "every range problem named at once");
    assert.throws(() => validateMyCnfSettings({ ...production, timing: { ...d, keepaliveMs: 3000 } }), /timing\.keepaliveMs \(3000\) must be at most a third/);
  });

  test("galeraTimingFor: every allowed suspect timeout gives a valid timing that keeps it", () => {
    fc.assert(fc.property(fc.integer({ min: GALERA_TIMING.suspectMs.min, max: GALERA_TIMING.suspectMs.max }), (suspectMs) => {
      const t = galeraTimingFor(suspectMs);
      assert.deepEqual(galeraTimingProblems("t", t), [], JSON.stringify(t));
      assert.equal(t.suspectMs, suspectMs);
      assert.ok(t.inactiveMs >= GALERA_TIMING.default.inactiveMs && t.installMs === t.inactiveMs);
    }), { numRuns: 200, seed: 11 });
    assert.deepEqual(galeraTimingFor(5000), GALERA_TIMING.default);
  });

  test("cluster validation catches shared identities, differing cluster-wide settings and a wrong node count", () => {
    const ips = ["10.10.0.5", "10.20.0.5", "10.30.0.5"];
    const clusterMembers = ips.map((ip) => `${ip}:4567`);
    const nodes = ips.map((bindAddress, nodeIndex) =>
      dbNodeMyCnfSettings({ nodeIndex, nodeCount: 3, bindAddress, datadir: "/mnt/v/mysql", memoryMb: 1024, clusterName: "prod-db", nodeName: `db-${nodeIndex}`, clusterMembers }),
    );
    const [a, b, c] = nodes as [MyCnfSettings, MyCnfSettings, MyCnfSettings];
    assert.doesNotThrow(() => validateDbCluster(nodes));
    const rejects = (cluster: MyCnfSettings[], message: RegExp) => assert.throws(() => validateDbCluster(cluster), message);
    rejects([a, b, { ...c, clusterName: "other-db" }], /clusterName differs between nodes \(prod-db \/ other-db\)/);
    rejects([a, b, { ...c, clusterMembers: [...clusterMembers, "10.40.0.9:4567"] }], /clusterMembers differs between nodes/);
    rejects([a, b, { ...c, serverId: 2 }], /serverId differs between nodes \(1 \/ 2\)/);
    rejects([a, b, { ...c, nodeName: "db-0" }], /nodeName db-0 is used by nodes #0 and #2/);
    rejects([a, { ...b, nodeIndex: 0, gtidDomainId: 9 }, c], /nodeIndex 0 is used by nodes #0 and #1/);
    rejects([a, b, { ...c, gtidDomainId: 1 }], /gtidDomainId 1 is used by nodes #0 and #2/);
    rejects([a, b, { ...c, autoIncrementIncrement: 20 }], /autoIncrementIncrement differs/);
    rejects([a, b], /node #0 has nodeCount 3 but the cluster has 2 nodes/);
    // The member list is compared as a set: its order does not matter.
    assert.doesNotThrow(() => validateDbCluster([a, b, { ...c, clusterMembers: [...clusterMembers].reverse() }]));
    // Every problem at once.
    assert.throws(() => validateDbCluster([a, { ...b, clusterName: "x", serverId: 7 }, c]), (e: Error) => /clusterName differs/.test(e.message) && /serverId differs/.test(e.message));
  });

  test("undefined overrides keep the defaults", () => {
    const s = dbNodeMyCnfSettings({ ...production, port: undefined, timing: undefined, galeraPorts: undefined });
    assert.equal(s.port, 3306);
    assert.deepEqual(s.timing, GALERA_TIMING.default);
    assert.deepEqual(s.galeraPorts, MY_CNF_DEFAULTS.galeraPorts);
    assert.equal(s.gtidDomainId, 3, "derived from the slot");
  });
});

describe("rendering property: no field can add or break a line", () => {
  const name = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
  const absPath = fc.array(fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/), { minLength: 1, maxLength: 4 }).map((p) => `/${p.join("/")}`);
  const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join("."));
  /** A valid value most of the time, anything (newlines, `=`, `[`, `;`, `#`) sometimes. */
  const mostly = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 12, arbitrary: valid }, { weight: 1, arbitrary: fc.oneof(fc.string(), fc.constantFrom("x\ny = 1", "/a\n[client]", "a;b=c", "/x #c", "/a=b", "\r", "")) as fc.Arbitrary<unknown> as fc.Arbitrary<T> });
  const settings = fc.record({
    nodeIndex: fc.integer({ min: 0, max: 15 }),
    bindAddress: mostly(ip),
    port: fc.integer({ min: 1, max: 65535 }),
    datadir: mostly(absPath),
    logError: mostly(absPath),
    pidFile: mostly(absPath),
    socket: fc.option(mostly(absPath), { nil: undefined }),
    tmpdir: fc.option(mostly(absPath), { nil: undefined }),
    clusterName: mostly(name),
    nodeName: mostly(name),
    logBasename: mostly(name),
    peers: fc.array(mostly(fc.tuple(ip, fc.integer({ min: 1, max: 65535 })).map(([h, p]) => `${h}:${p}`)), { maxLength: 3 }),
    tls: fc.option(fc.record({ ca: mostly(absPath), cert: mostly(absPath), key: mostly(absPath) }), { nil: undefined }),
    suspectMs: fc.integer({ min: 1000, max: 60_000 }),
    memoryMb: fc.integer({ min: 256, max: 65536 }),
  }).map((r): MyCnfSettings => dbNodeMyCnfSettings({
    ...r,
    nodeCount: 16,
    autoIncrementIncrement: 16,
    galeraPorts: { group: r.port === 4567 ? 4568 : 4567, ist: 40001, sst: 40002 },
    clusterMembers: [...new Set([`${r.bindAddress}:${r.port === 4567 ? 4568 : 4567}`, ...r.peers])],
    timing: galeraTimingFor(r.suspectMs),
  }));

  test("a rendered config is only comments, section headers and `key = value` lines, every key once, the values intact", () => {
    let rendered = 0;
    const reference = new Set(renderedOptions(renderMyCnf({ ...production, tls, socket: "/s", tmpdir: "/t" })).keys());
    fc.assert(fc.property(settings, (s) => {
      let cnf: string;
      try {
        cnf = renderMyCnf(s);
      } catch (e) {
        assert.match((e as Error).message, /^invalid MariaDB settings/);
        return;
      }
      rendered++;
      const keys: string[] = [];
      for (const line of cnf.split("\n")) {
        if (line === "" || line.startsWith("# ") || /^\[(mariadbd|sst)\]$/.test(line)) continue;
        const m = /^([A-Za-z_-]+) = (\S(?:.*\S)?)$/.exec(line);
        assert.ok(m, `not a key = value line: ${JSON.stringify(line)}`);
        assert.doesNotMatch(m[2]!, /[\r\n#]/);
        keys.push(m[1]!);
      }
      const options = renderedOptions(cnf);
      assert.equal(keys.length, options.size + renderedOptions(cnf, "sst").size, "no key twice in a section");
      for (const key of options.keys()) assert.ok(reference.has(key), `unexpected key ${key}`);
      assert.equal(options.get("datadir"), s.datadir);
      assert.equal(options.get("wsrep-node-name"), s.nodeName);
      assert.equal(options.get("wsrep-cluster-address"), `gcomm://${s.clusterMembers.join(",")}`);
      assert.equal(options.get("wsrep-provider-options"), `"${galeraProviderOptions(s)}"`);
      assert.equal(providerOptions(galeraProviderOptions(s)).size, s.tls ? 15 : 12, "no provider option added through a field");
    }), { numRuns: 400, seed: 20261207 });
    assert.ok(rendered > 100, `only ${rendered} of 400 samples were valid: the generator is too hostile`);
  });
});

/**
 * The database droplet scripts and the wiring inputs: shellcheck, what the wiring writes and
 * wire-db.sh reads, then wire-db.sh end to end in a sandbox (mount + network namespace, real
 * mariadb-install-db and mariadbd as a Galera node, fake systemctl; the cluster's state as the
 * test says; see testing/wire-db-sandbox.sh). db-health.sh: dbHealth.test.ts.
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { dbScripts, DB_SCRIPT_PATHS, DB_SCRIPT_SOURCES, dbScriptSourcePath } from "./dbScripts";
import { DB_BOOTSTRAP_COMMAND, DB_WIRE_COMMAND, dbDatadir, dbWiringFiles, dbWiringPaths, renderDbEnv } from "./wiringFiles";
import { dbNodeMyCnfSettings, renderMyCnf } from "./myCnf";
import { renderUsersSql } from "./usersSql";
import { LOCAL_TIMING } from "./testing/localMariadb";

const sandboxDriver = path.join(__dirname, "testing", "wire-db-sandbox.sh");

function shellcheck(file: string): { status: number | null; output: string } {
  const r = spawnSync("shellcheck", ["--shell=bash", "--severity=style", file], { encoding: "utf8" });
  return { status: r.status, output: r.stdout + r.stderr };
}

describe("script files", () => {
  const scripts = (Object.keys(DB_SCRIPT_SOURCES) as (keyof typeof DB_SCRIPT_SOURCES)[]).map(dbScriptSourcePath);
  for (const file of [...scripts, sandboxDriver]) {
    test(`${path.basename(file)} passes shellcheck`, () => {
      const r = shellcheck(file);
      assert.equal(r.status, 0, r.output);
    });
  }

  test("shellcheck is strict enough to flag an unquoted expansion", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "dns-rr-ha-sc-"));
    try {
      const broken = path.join(dir, "broken.sh");
      writeFileSync(broken, readFileSync(dbScriptSourcePath("wire"), "utf8").replace('mkdir -p "$MOUNTPOINT"', "mkdir -p $MOUNTPOINT"));
      assert.notEqual(shellcheck(broken).status, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("dbScripts lists every script as executable bash with strict mode", () => {
    const list = dbScripts();
    assert.deepEqual(list.map((s) => s.path).sort(), Object.values(DB_SCRIPT_PATHS).sort());
    for (const s of list) {
      assert.equal(s.mode, "0755");
      assert.ok(s.content.startsWith("#!/bin/bash\n"), s.path);
      assert.match(s.content, /^set -euo pipefail$/m, s.path);
    }
  });

  test("wire-db.sh reads exactly the files the wiring writes; the commands run it", () => {
    const script = readFileSync(dbScriptSourcePath("wire"), "utf8");
    const confDir = /^CONF_DIR=(\S+)$/m.exec(script)?.[1];
    for (const file of Object.values(dbWiringPaths)) {
      assert.equal(path.dirname(file), confDir);
      assert.ok(script.includes(path.basename(file)), `${file} not read by wire-db.sh`);
    }
    assert.match(script, /^for f in db\.env my\.cnf users\.sql; do$/m, "and requires no other");
    assert.equal(DB_WIRE_COMMAND, DB_SCRIPT_PATHS.wire);
    assert.equal(DB_BOOTSTRAP_COMMAND, `${DB_SCRIPT_PATHS.wire} --bootstrap`);
    // db-health reads the same db.env for its default.
    assert.ok(readFileSync(dbScriptSourcePath("health"), "utf8").includes(dbWiringPaths.env));
  });
});

describe("wiring inputs", () => {
  test("db.env", () => {
    assert.equal(renderDbEnv({ volumeName: "db-nyc3", clusterSize: 3 }), "VOLUME_NAME=db-nyc3\nDATADIR=/mnt/db-nyc3/mysql\nCLUSTER_SIZE=3\n");
    assert.equal(
      renderDbEnv({ volumeName: "v", datadir: "/mnt/v/data", clusterSize: 1, mountWaitSeconds: 5, startWaitSeconds: 9 }),
      "VOLUME_NAME=v\nDATADIR=/mnt/v/data\nCLUSTER_SIZE=1\nMOUNT_WAIT_SECONDS=5\nSTART_WAIT_SECONDS=9\n",
    );
    assert.equal(dbDatadir("v"), "/mnt/v/mysql");
    assert.throws(() => renderDbEnv({ volumeName: "Bad_Name", clusterSize: 3 }), /volumeName/);
    assert.throws(() => renderDbEnv({ volumeName: "v", datadir: "/var/lib/mysql", clusterSize: 3 }), /below \/mnt\/v\//);
    assert.throws(() => renderDbEnv({ volumeName: "v", datadir: "/mnt/v/../x", clusterSize: 3 }), /plain path/);
    assert.throws(() => renderDbEnv({ volumeName: "v", clusterSize: 3, mountWaitSeconds: -1 }), /MOUNT_WAIT_SECONDS/);
    for (const clusterSize of [0, 2.5, 257, Number.NaN]) assert.throws(() => renderDbEnv({ volumeName: "v", clusterSize }), /clusterSize must be a whole number of members from 1 to 256/);
  });

  test("the SQL file (passwords) is private, the rest readable", () => {
    assert.deepEqual(
      dbWiringFiles({ dbEnv: "e", myCnf: "c", usersSql: "u" }).map((f) => `${f.path} ${f.mode} ${f.content}`),
      [`${dbWiringPaths.env} 0644 e`, `${dbWiringPaths.myCnf} 0644 c`, `${dbWiringPaths.usersSql} 0600 u`],
    );
  });
});

/** A throwaway CA and a certificate for 127.0.0.1 (openssl), as the wiring delivers them. */
function tlsFiles(dir: string, name: string): Record<string, string> {
  const run = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  const f = (n: string) => path.join(dir, `${name}-${n}`);
  writeFileSync(f("ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
  run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("ca-key"), "-out", f("ca"), "-days", "1", "-subj", "/CN=sandbox CA"]);
  run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("key"), "-out", f("csr"), "-subj", "/CN=127.0.0.1"]);
  run(["x509", "-req", "-in", f("csr"), "-CA", f("ca"), "-CAkey", f("ca-key"), "-CAcreateserial", "-out", f("cert"), "-days", "1", "-extfile", f("ext")]);
  return { "ca.pem": readFileSync(f("ca"), "utf8"), "server-cert.pem": readFileSync(f("cert"), "utf8"), "server-key.pem": readFileSync(f("key"), "utf8") };
}

describe("wire-db.sh end to end in a sandbox (mount + network namespace, real mariadbd, fake systemctl)", () => {
  const work = mkdtempSync(path.join(tmpdir(), "dns-rr-ha-wire-"));
  after(() => rmSync(work, { recursive: true, force: true }));

  /** TLS files as the wiring delivers them, here beside the other inputs (the sandbox copies a step's files there). */
  const tlsPaths = { ca: "/etc/dns-rr-ha/db/ca.pem", cert: "/etc/dns-rr-ha/db/server-cert.pem", key: "/etc/dns-rr-ha/db/server-key.pem" };
  const cnf = (dir: string, maxConnections: number, tls = false): string =>
    renderMyCnf(dbNodeMyCnfSettings({
      nodeIndex: 0,
      nodeCount: 2,
      bindAddress: "127.0.0.1",
      datadir: `/mnt/vol/${dir}`,
      memoryMb: 256,
      maxConnections,
      clusterName: "sandbox",
      nodeName: "db-a",
      clusterMembers: ["127.0.0.1:4567", "127.0.0.2:4567"],
      gcacheMb: 16,
      timing: LOCAL_TIMING,
      ...(tls ? { tls: tlsPaths } : {}),
    }));
  const env = (dir: string, extra: Partial<Parameters<typeof renderDbEnv>[0]> = {}) => renderDbEnv({ volumeName: "vol", datadir: `/mnt/vol/${dir}`, clusterSize: 2, ...extra });
  const usersSql = renderUsersSql({ appUser: "app", appPassword: "a'p\\w$$", appDatabase: "app", appHostPattern: "10.10.0.0/255.255.240.0", dropUsers: ["replicator"] });
  const node = (dir: string, maxConnections: number, more: Record<string, string> = {}) => ({ "db.env": env(dir), "my.cnf": cnf(dir, maxConnections), "users.sql": usersSql, ...more });
  const tlsNode = (dir: string, name: string, more: Record<string, string> = {}) => ({ ...node(dir, 150), "my.cnf": cnf(dir, 150, true), ...tlsFiles(work, name), ...more });
  const complete = { "sandbox.wsrep": "wsrep_cluster_size 2\n" };
  const bootstrap = { "sandbox.args": "--bootstrap\n" };
  const heartbeatUnit = "mkdir -p /etc/systemd/system\nprintf '[Service]\\nExecStart=/usr/local/sbin/dns-rr-ha-db-heartbeat --interval 1\\n' >/etc/systemd/system/dns-rr-ha-db-heartbeat.service\n";
  const steps = (): Record<string, Record<string, string>> => ({
    "01-join-fresh": node("join", 200, { "sandbox.wsrep": "wsrep_local_state 1 3\n" }),
    "02-same": node("join", 200),
    "03-config-incomplete": node("join", 150),
    "04-config-complete": node("join", 150, complete),
    "05-never-synced": node("join", 150, { "db.env": env("join", { startWaitSeconds: 2 }), "sandbox.wsrep": "wsrep_cluster_status non-Primary\n" }),
    "06-tls-no-key": tlsNode("join", "a", { "server-key.pem": "", ...complete }),
    "07-tls": tlsNode("join", "b", complete),
    "08-tls-renewed": tlsNode("join", "c", complete),
    "09-pre-galera-join": tlsNode("mysql", "d"),
    "10-bootstrap-member": tlsNode("join", "e", bootstrap),
    "11-pre-galera-bootstrap": tlsNode("mysql", "f", { ...bootstrap, "sandbox.setup": heartbeatUnit }),
    "12-bootstrap-fresh": node("boot", 200, bootstrap),
    "13-join-nobody-there": node("join2", 200, { "sandbox.start-fails": "" }),
    "14-no-volume": { ...node("join2", 200), "db.env": renderDbEnv({ volumeName: "nothere", clusterSize: 2, mountWaitSeconds: 2 }) },
    "15-bad-env": { ...node("join2", 200), "db.env": "VOLUME_NAME=vol\nCLUSTER_SIZE=2\nEVIL=$(touch /x)\n" },
    "16-old-env": { ...node("join2", 200), "db.env": "VOLUME_NAME=vol\nDATADIR=/mnt/vol/join2\n" },
    "17-bad-argument": node("join2", 200, { "sandbox.args": "--force\n" }),
  });
  const read = (step: string, ext: string): string => readFileSync(path.join(work, "out", `${step}.${ext}`), "utf8");
  /** key=value lines the sandbox dumps after each step (and as "00" before the first). */
  const stateOf = (step: string): Record<string, string> =>
    Object.fromEntries(read(step, "state").trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
  const polls = "show -p ActiveState --value mariadb";
  const result = (step: string) => {
    const calls = read(step, "calls").trim().split("\n").filter(Boolean);
    return {
      rc: Number(read(step, "rc")),
      stderr: read(step, "stderr"),
      /** What wire-db.sh called (systemctl, galera_new_cluster, mariadb-install-db), without the wait loop's state polls. */
      calls: calls.filter((c) => c !== polls),
      polls: calls.filter((c) => c === polls).length,
      state: stateOf(step),
    };
  };
  /** A state without what differs between two runs that did the same. */
  const stable = (s: Record<string, string>) => Object.fromEntries(Object.entries(s).filter(([k]) => !["seconds", "wsrep_answered", "wsrep_left"].includes(k)));

  before(() => {
    for (const [step, files] of Object.entries(steps())) {
      const dir = path.join(work, "steps", step);
      mkdirSync(dir, { recursive: true });
      // 0644 on purpose: wire-db.sh must tighten the SQL file itself.
      for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content, { mode: 0o644 });
    }
    const r = spawnSync("unshare", ["--mount", "--net", "--propagation", "private", "bash", sandboxDriver, work, dbScriptSourcePath("wire")], { encoding: "utf8", timeout: 240_000 });
    assert.equal(r.status, 0, `sandbox failed: ${r.stdout}${r.stderr}`);
  });

  test("join on a fresh volume: stops the package's server, leaves the datadir empty for the state transfer, starts, waits until Synced", () => {
    const before = stateOf("00");
    assert.equal(before.datadir, "/var/lib/mysql/");
    assert.equal(before.wsrep_on, "OFF", "the package's server is no cluster member");
    const r = result("01-join-fresh");
    assert.equal(r.rc, 0, r.stderr);
    assert.deepEqual(r.calls, ["is-active --quiet mariadb", "stop mariadb", "daemon-reload", "enable --quiet mariadb", "is-active --quiet mariadb", "start --no-block mariadb"]);
    assert.equal(r.state.started, "join+sst", "a joiner: its datadir came from the (stand-in) donor, not from mariadb-install-db");
    assert.equal(r.state.wsrep_answered, "wsrep_local_state=1,wsrep_local_state=1,wsrep_local_state=1", "it asked until the node was Synced");
    assert.ok(r.polls >= 3 && Number(r.state.seconds) >= 3, `${r.polls} polls in ${r.state.seconds}s`);
    assert.match(r.stderr, /datadir \/mnt\/vol\/join: fresh/);
    assert.match(r.stderr, /Synced: 1 of 2 members/);
    assert.equal(r.state.datadir, "/mnt/vol/join/");
    assert.equal(r.state.wsrep, "1,Primary,Synced");
    assert.equal(r.state.wsrep_on, "ON");
    assert.match(r.state.datadirs!, /(^|,)join:mysql:750:member(,|$)/);
    assert.equal(r.state.port, "3306");
    assert.equal(r.state.binlog_expire_logs_seconds, "604800", "our config wins over Debian's expire_logs_days");
    assert.equal(r.state.accounts, "app@10.10.0.0/255.255.240.0");
    assert.equal(r.state.users_sql_mode, "600", "the secret file is tightened");
    assert.equal(r.state.cnf_installed, "yes");
    assert.equal(r.state.dropin, "# Managed by dns-rr-ha wire-db.sh: never start MariaDB without its volume.|[Unit]|RequiresMountsFor=/mnt/vol||[Service]|TimeoutStartSec=infinity");
    assert.equal(r.state.logdir, "mysql:adm:2750");
    assert.equal(r.state.fstab, before.fstab, "already mounted: fstab untouched");
    assert.equal(r.state.restart_pending, "no");
  });

  test("re-run with the same inputs changes nothing and does not restart", () => {
    const r = result("02-same");
    assert.equal(r.rc, 0, r.stderr);
    assert.deepEqual(r.calls, ["is-active --quiet mariadb", "enable --quiet mariadb", "is-active --quiet mariadb"]);
    assert.equal(r.polls, 0);
    assert.deepEqual(stable(r.state), stable(result("01-join-fresh").state));
    assert.doesNotMatch(r.stderr, /installed|restarting|starting/);
  });

  test("a changed config is not restarted into while the cluster is incomplete; once complete, the next run restarts", () => {
    const refused = result("03-config-incomplete");
    assert.equal(refused.rc, 1);
    assert.match(refused.stderr, /not restarting mariadb for its new config: the cluster has 1 of 2 members/);
    assert.ok(!refused.calls.some((c) => /restart|stop/.test(c)), refused.calls.join("; "));
    assert.equal(refused.state.pid, result("02-same").state.pid);
    assert.equal(refused.state.max_connections, "200", "the running server keeps its config");
    assert.equal(refused.state.restart_pending, "yes");
    const r = result("04-config-complete");
    assert.equal(r.rc, 0, r.stderr);
    assert.match(r.stderr, /a restart for an earlier config change is pending/);
    assert.match(r.stderr, /restarting mariadb \(config changed; cluster complete: 2 members\)/);
    assert.deepEqual(r.calls, ["is-active --quiet mariadb", "enable --quiet mariadb", "is-active --quiet mariadb", "restart mariadb"]);
    assert.notEqual(r.state.pid, refused.state.pid);
    assert.equal(r.state.max_connections, "150");
    assert.equal(r.state.restart_pending, "no");
    assert.equal(r.state.started, "join", "a restart rejoins; it never forms a new cluster");
  });

  test("a node that never gets Synced in a primary component fails after START_WAIT_SECONDS, naming its state", () => {
    const r = result("05-never-synced");
    assert.equal(r.rc, 1);
    assert.match(r.stderr, /mariadb is not Synced in a primary component after 2s \(state: Synced non-Primary/);
    assert.ok(r.polls >= 2);
    assert.equal(r.state.pid, result("04-config-complete").state.pid, "no restart");
  });

  test("TLS: a missing key fails before the config is installed; with the files MariaDB restarts serving TLS on every channel; renewed files load without a restart", () => {
    const missing = result("06-tls-no-key");
    assert.equal(missing.rc, 1);
    assert.match(missing.stderr, /TLS file \/etc\/dns-rr-ha\/db\/server-key\.pem, which is missing or empty/);
    assert.equal(missing.state.cnf_installed, "no", "the running config stays");
    assert.equal(missing.state.cnf_md5, result("05-never-synced").state.cnf_md5);
    assert.equal(missing.state.have_ssl, "DISABLED");
    const on = result("07-tls");
    assert.equal(on.rc, 0, on.stderr);
    assert.ok(on.calls.includes("restart mariadb"), on.calls.join("; "));
    assert.equal(on.state.have_ssl, "YES");
    assert.equal(on.state.require_secure_transport, "ON");
    assert.equal(on.state.group_ssl, "1", "the group channel too (socket.ssl)");
    assert.equal(on.state.served_cert_verified, "1", "it serves the certificate the step's CA signed");
    assert.match(on.stderr, /TLS loaded/);
    const renewed = result("08-tls-renewed");
    assert.equal(renewed.rc, 0, renewed.stderr);
    assert.ok(!renewed.calls.some((c) => /(start|stop) mariadb/.test(c)), renewed.calls.join("; "));
    assert.equal(renewed.state.pid, on.state.pid);
    assert.notEqual(renewed.state.installed_cert, on.state.installed_cert);
    assert.equal(renewed.state.served_cert_verified, "1", "FLUSH SSL loaded the renewed certificate (another CA's)");
    assert.equal(missing.state.served_cert_verified, "no", "(the check can fail)");
  });

  test("a datadir from before Galera is never joined over: refused before anything is installed, naming the datadir and the fix", () => {
    const r = result("09-pre-galera-join");
    assert.equal(r.rc, 1);
    assert.match(r.stderr, /\/mnt\/vol\/mysql holds a datadir from before the Galera tier: joining would replace its rows/);
    assert.match(r.stderr, /CHECKSUM TABLE/);
    assert.match(r.stderr, /mv \/mnt\/vol\/mysql \/mnt\/vol\/mysql\.pre-galera\) and run pulumi up again/);
    assert.equal(r.state.cnf_md5, result("08-tls-renewed").state.cnf_md5, "the config pointing at it is not installed: no later restart joins over it");
    assert.match(r.state.datadirs!, /(^|,)mysql:mysql:\d+:data(,|$)/, "still no grastate.dat");
    assert.ok(!r.calls.some((c) => /start|galera_new_cluster|mariadb-install-db|enable/.test(c)), r.calls.join("; "));
  });

  test("--bootstrap on a former member's datadir joins instead of forming a second cluster", () => {
    const r = result("10-bootstrap-member");
    assert.equal(r.rc, 0, r.stderr);
    assert.match(r.stderr, /this node was a cluster member already: joining, not bootstrapping/);
    assert.deepEqual(r.calls, ["is-active --quiet mariadb", "enable --quiet mariadb", "is-active --quiet mariadb", "start --no-block mariadb"]);
    assert.equal(r.state.started, "join");
    assert.equal(r.state.datadir, "/mnt/vol/join/");
  });

  test("--bootstrap on the datadir from before Galera forms the cluster from it: rows kept, old replication and heartbeat removed, replicator dropped", () => {
    const r = result("11-pre-galera-bootstrap");
    assert.equal(r.rc, 0, r.stderr);
    assert.deepEqual(r.calls, [
      "is-active --quiet mariadb", "stop mariadb", "enable --quiet mariadb", "is-active --quiet mariadb",
      "galera_new_cluster", "restart mariadb.service",
      "disable --now --quiet dns-rr-ha-db-heartbeat.service", "daemon-reload",
    ]);
    assert.equal(r.state.started, "new-cluster");
    assert.equal(r.state.datadir, "/mnt/vol/mysql/");
    assert.equal(r.state.kept_rows, "2", "the rows of the old datadir");
    assert.equal(stateOf("10-bootstrap-member").kept_rows, "none", "(which the other datadir lacks)");
    assert.equal(r.state.connections, "");
    assert.match(r.stderr, /removed the old replication connections/);
    assert.equal(r.state.heartbeat_unit, "no");
    assert.match(r.stderr, /removed the old heartbeat service/);
    assert.equal(r.state.accounts, "app@10.10.0.0/255.255.240.0", "the replicator is gone");
    assert.match(r.state.datadirs!, /(^|,)mysql:mysql:\d+:member(,|$)/);
    assert.equal(r.state.wsrep, "1,Primary,Synced");
  });

  test("--bootstrap on a fresh volume initialises the datadir and forms a new cluster", () => {
    const r = result("12-bootstrap-fresh");
    assert.equal(r.rc, 0, r.stderr);
    assert.deepEqual(r.calls, ["is-active --quiet mariadb", "stop mariadb", "mariadb-install-db", "enable --quiet mariadb", "is-active --quiet mariadb", "galera_new_cluster", "restart mariadb.service"]);
    assert.equal(r.state.started, "new-cluster");
    assert.equal(r.state.datadir, "/mnt/vol/boot/");
    assert.match(r.state.datadirs!, /(^|,)boot:mysql:750:member(,|$)/);
    assert.equal(r.state.have_ssl, "DISABLED");
    assert.equal(r.state.accounts, "app@10.10.0.0/255.255.240.0");
  });

  test("a joiner whose start fails (nobody to join) fails at once, saying so; it never initialises the datadir itself", () => {
    const r = result("13-join-nobody-there");
    assert.equal(r.rc, 1);
    assert.match(r.stderr, /mariadb failed to start: no running member reachable to join/);
    assert.ok(!r.calls.some((c) => /galera_new_cluster|mariadb-install-db/.test(c)), r.calls.join("; "));
    assert.ok(r.calls.includes("start --no-block mariadb"));
    assert.equal(r.polls, 1);
    assert.match(r.state.datadirs!, /(^|,)join2:mysql:750:empty(,|$)/);
  });

  test("a volume that never appears fails clearly without touching fstab", () => {
    const r = result("14-no-volume");
    assert.equal(r.rc, 1);
    assert.match(r.stderr, /scsi-0DO_Volume_nothere did not appear within 2s/);
    assert.equal(r.state.fstab, stateOf("00").fstab);
  });

  test("db.env is parsed, not executed: unknown keys are rejected; CLUSTER_SIZE is required; unknown arguments too", () => {
    const evil = result("15-bad-env");
    assert.equal(evil.rc, 1);
    assert.match(evil.stderr, /unknown key 'EVIL'/);
    const old = result("16-old-env");
    assert.equal(old.rc, 1);
    assert.match(old.stderr, /CLUSTER_SIZE '' must be the number of cluster members/);
    const arg = result("17-bad-argument");
    assert.equal(arg.rc, 1);
    assert.match(arg.stderr, /unknown argument '--force' \(usage: .* \[--bootstrap\]\)/);
    for (const r of [evil, old, arg]) assert.deepEqual(r.calls, [], "before touching anything");
  });
});

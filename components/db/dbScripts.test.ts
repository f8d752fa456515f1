import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { dbScripts, DB_SCRIPT_PATHS, DB_SCRIPT_SOURCES, dbScriptSourcePath } from "./dbScripts";
import { dbDatadir, dbWiringFiles, dbWiringPaths, renderDbEnv } from "./wiringFiles";
import { dbNodeMyCnfSettings, renderMyCnf } from "./myCnf";
import { renderReplicationSql, renderUsersSql } from "./replicationSql";
import { startLocalMariadb, clientArgs, type LocalMariadb } from "./testing/localMariadb";
import { certRequest, generatePemKeyPair, locallySignedCert, selfSignedCert } from "../../lab/cloud/tlsCerts";

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
    const scripts = dbScripts();
    assert.deepEqual(scripts.map((s) => s.path).sort(), Object.values(DB_SCRIPT_PATHS).sort());
    for (const s of scripts) {
      assert.equal(s.mode, "0755");
      assert.ok(s.content.startsWith("#!/bin/bash\n"), s.path);
      assert.match(s.content, /^set -euo pipefail$/m, s.path);
    }
  });

  test("wire-db.sh runs the heartbeat writer that cloud-init installs", () => {
    const script = readFileSync(dbScriptSourcePath("wire"), "utf8");
    assert.match(script, new RegExp(`^ExecStart=${DB_SCRIPT_PATHS.heartbeat} --interval 1$`, "m"));
  });

  test("wire-db.sh reads exactly the files the wiring writes", () => {
    const script = readFileSync(dbScriptSourcePath("wire"), "utf8");
    const confDir = /^CONF_DIR=(\S+)$/m.exec(script)?.[1];
    for (const file of Object.values(dbWiringPaths)) {
      assert.equal(path.dirname(file), confDir);
      assert.ok(script.includes(path.basename(file)), `${file} not read by wire-db.sh`);
    }
  });
});

describe("wiring inputs", () => {
  test("db.env", () => {
    assert.equal(renderDbEnv({ volumeName: "db-nyc3" }), "VOLUME_NAME=db-nyc3\nDATADIR=/mnt/db-nyc3/mysql\n");
    assert.equal(
      renderDbEnv({ volumeName: "v", datadir: "/mnt/v/data", mountWaitSeconds: 5, startWaitSeconds: 9 }),
      "VOLUME_NAME=v\nDATADIR=/mnt/v/data\nMOUNT_WAIT_SECONDS=5\nSTART_WAIT_SECONDS=9\n",
    );
    assert.equal(dbDatadir("v"), "/mnt/v/mysql");
    assert.throws(() => renderDbEnv({ volumeName: "Bad_Name" }), /volumeName/);
    assert.throws(() => renderDbEnv({ volumeName: "v", datadir: "/var/lib/mysql" }), /below \/mnt\/v\//);
    assert.throws(() => renderDbEnv({ volumeName: "v", datadir: "/mnt/v/../x" }), /plain path/);
    assert.throws(() => renderDbEnv({ volumeName: "v", mountWaitSeconds: -1 }), /MOUNT_WAIT_SECONDS/);
  });

  test("SQL files (passwords) are private, the rest readable", () => {
    const files = dbWiringFiles({ dbEnv: "e", myCnf: "c", usersSql: "u", replicationSql: "r" });
    assert.deepEqual(
      files.map((f) => `${f.path} ${f.mode} ${f.content}`),
      [
        `${dbWiringPaths.env} 0644 e`,
        `${dbWiringPaths.myCnf} 0644 c`,
        `${dbWiringPaths.usersSql} 0600 u`,
        `${dbWiringPaths.replicationSql} 0600 r`,
      ],
    );
  });
});

describe("db-health.sh", () => {
  let db: LocalMariadb;
  before(async () => {
    db = await startLocalMariadb({ nodeIndex: 0, nodeCount: 1 });
  });
  after(async () => {
    await db?.stop();
  });
  const health = (...args: string[]) =>
    spawnSync("bash", [dbScriptSourcePath("health"), ...args], { encoding: "utf8" });

  test("no connections: silent and healthy", () => {
    const r = health(...clientArgs(db.socket));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "");
  });

  test("a connection that cannot reach its peer is reported and unhealthy", () => {
    db.sql(renderReplicationSql({ self: "me", peers: [{ name: "gone", host: "127.0.0.1", port: 1 }], user: "repl", password: "x" }));
    const r = health(...clientArgs(db.socket));
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout.trimEnd(), /^gone\t(Connecting|No)\tYes\tNULL\terror connecting to master .+$/);
  });

  test("an unreachable server exits 2", () => {
    const r = health("--no-defaults", `--socket=${path.join(db.dir, "nope.sock")}`);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cannot query MariaDB/);
  });
});

describe("wire-db.sh end to end in a sandbox (mount + network namespace, real mariadbd)", () => {
  const work = mkdtempSync(path.join(tmpdir(), "dns-rr-ha-wire-"));
  after(() => rmSync(work, { recursive: true, force: true }));

  /** TLS files as the wiring delivers them, here beside the other inputs (the sandbox copies a step's files there). */
  const tlsPaths = { ca: "/etc/dns-rr-ha/db/ca.pem", cert: "/etc/dns-rr-ha/db/server-cert.pem", key: "/etc/dns-rr-ha/db/server-key.pem" };
  const cnf = (maxConnections: number, tls = false): string =>
    renderMyCnf(
      dbNodeMyCnfSettings({
        nodeIndex: 0,
        nodeCount: 2,
        bindAddress: "127.0.0.1",
        datadir: dbDatadir("vol"),
        memoryMb: 256,
        maxConnections,
        ...(tls ? { tls: tlsPaths } : {}),
      }),
    );
  const tlsFiles = (): Record<string, string> => {
    const caKey = generatePemKeyPair("ECDSA", { ecdsaCurve: "P256" });
    const ca = selfSignedCert(caKey.privateKeyPem, { subject: { commonName: "sandbox CA" } }, { allowedUses: ["cert_signing"], validityPeriodHours: 24, isCaCertificate: true });
    const key = generatePemKeyPair("ECDSA", { ecdsaCurve: "P256" });
    const csr = certRequest(key.privateKeyPem, { ipAddresses: ["127.0.0.1"] });
    const cert = locallySignedCert(csr, { certPem: ca.certPem, privateKeyPem: caKey.privateKeyPem }, { allowedUses: ["digital_signature", "server_auth"], validityPeriodHours: 24 });
    return { "ca.pem": ca.certPem, "server-cert.pem": cert.certPem, "server-key.pem": key.privateKeyPem };
  };
  const usersSql = renderUsersSql({
    replicationUser: "repl",
    replicationPassword: "r'pw",
    appUser: "app",
    appPassword: "a\\pw",
    appDatabase: "app",
    appHostPattern: "10.10.0.0/255.255.240.0",
    replicationHostPattern: "10.0.0.0/255.0.0.0",
  });
  const replication = (peer: string): string =>
    renderReplicationSql({ self: "me", peers: [{ name: peer, host: "127.0.0.2", port: 3306 }], user: "repl", password: "r'pw" });
  const steps: Record<string, Record<string, string>> = {
    "01-fresh": { "db.env": renderDbEnv({ volumeName: "vol" }), "my.cnf": cnf(200), "users.sql": usersSql, "replication.sql": replication("p1") },
    "02-same": { "db.env": renderDbEnv({ volumeName: "vol" }), "my.cnf": cnf(200), "users.sql": usersSql, "replication.sql": replication("p1") },
    "03-config": { "db.env": renderDbEnv({ volumeName: "vol" }), "my.cnf": cnf(150), "users.sql": usersSql, "replication.sql": replication("p1") },
    "04-peers": { "db.env": renderDbEnv({ volumeName: "vol" }), "my.cnf": cnf(150), "users.sql": usersSql, "replication.sql": replication("p2") },
    "05-no-volume": {
      "db.env": renderDbEnv({ volumeName: "nothere", mountWaitSeconds: 2 }),
      "my.cnf": cnf(150),
      "users.sql": usersSql,
      "replication.sql": replication("p2"),
    },
    "06-bad-env": { "db.env": "VOLUME_NAME=vol\nEVIL=$(touch /x)\n", "my.cnf": cnf(150), "users.sql": usersSql, "replication.sql": replication("p2") },
    "07-tls-no-key": { "db.env": renderDbEnv({ volumeName: "vol" }), "my.cnf": cnf(150, true), "users.sql": usersSql, "replication.sql": replication("p2"), ...tlsFiles(), "server-key.pem": "" },
    "08-tls": { "db.env": renderDbEnv({ volumeName: "vol" }), "my.cnf": cnf(150, true), "users.sql": usersSql, "replication.sql": replication("p2"), ...tlsFiles() },
    "09-tls-renewed": { "db.env": renderDbEnv({ volumeName: "vol" }), "my.cnf": cnf(150, true), "users.sql": usersSql, "replication.sql": replication("p2"), ...tlsFiles() },
  };
  const read = (step: string, ext: string): string => readFileSync(path.join(work, "out", `${step}.${ext}`), "utf8");
  /** key=value lines the sandbox dumps after each step (and as "00" before the first). */
  const stateOf = (step: string): Record<string, string> =>
    Object.fromEntries(
      read(step, "state")
        .trim()
        .split("\n")
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
  const result = (step: string) => ({
    rc: Number(read(step, "rc")),
    stderr: read(step, "stderr"),
    systemctl: read(step, "systemctl").trim().split("\n").filter(Boolean),
    state: stateOf(step),
  });

  before(() => {
    for (const [step, files] of Object.entries(steps)) {
      const dir = path.join(work, "steps", step);
      mkdirSync(dir, { recursive: true });
      // 0644 on purpose: wire-db.sh must tighten the SQL files itself.
      for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content, { mode: 0o644 });
    }
    const r = spawnSync(
      "unshare",
      ["--mount", "--net", "--propagation", "private", "bash", sandboxDriver, work, dbScriptSourcePath("wire")],
      { encoding: "utf8", timeout: 90_000 },
    );
    assert.equal(r.status, 0, `sandbox failed: ${r.stdout}${r.stderr}`);
  });

  test("first run: stops the package's server, initialises the volume datadir, starts on it", () => {
    const before = stateOf("00");
    assert.equal(before.datadir, "/var/lib/mysql/");
    const r = result("01-fresh");
    assert.equal(r.rc, 0, r.stderr);
    assert.deepEqual(r.systemctl, [
      "is-active --quiet mariadb", "stop mariadb", "daemon-reload", "enable --quiet mariadb", "is-active --quiet mariadb", "start mariadb",
      "daemon-reload", "enable --quiet dns-rr-ha-db-heartbeat.service", "restart dns-rr-ha-db-heartbeat.service",
    ]);
    assert.equal(r.state.heartbeat_unit, "After=mariadb.service|ExecStart=/usr/local/sbin/dns-rr-ha-db-heartbeat --interval 1|Restart=always");
    assert.equal(r.state.datadir, "/mnt/vol/mysql/");
    assert.equal(r.state.datadir_owner, "mysql:750");
    assert.equal(r.state.port, "3306");
    assert.equal(r.state.binlog_expire_logs_seconds, "604800", "our config wins over Debian's expire_logs_days");
    assert.equal(r.state.connections, "p1");
    assert.equal(r.state.accounts, "app@10.10.0.0/255.255.240.0,repl@10.0.0.0/255.0.0.0");
    assert.equal(r.state.sql_modes, "600,600");
    assert.equal(r.state.cnf_installed, "yes");
    assert.equal(r.state.dropin, "# Managed by dns-rr-ha wire-db.sh: never start MariaDB without its volume.|[Unit]|RequiresMountsFor=/mnt/vol");
    assert.equal(r.state.logdir, "mysql:adm:2750");
    assert.equal(r.state.fstab, before.fstab, "already mounted: fstab untouched");
  });

  test("re-run with the same inputs changes nothing and does not restart", () => {
    const first = result("01-fresh");
    const r = result("02-same");
    assert.equal(r.rc, 0, r.stderr);
    assert.deepEqual(r.systemctl, [
      "is-active --quiet mariadb", "enable --quiet mariadb", "is-active --quiet mariadb",
      "enable --quiet dns-rr-ha-db-heartbeat.service", "start dns-rr-ha-db-heartbeat.service",
    ]);
    assert.equal(r.state.pid, first.state.pid);
    assert.deepEqual(r.state, first.state);
  });

  test("a config change restarts MariaDB with the new config", () => {
    const r = result("03-config");
    assert.equal(r.rc, 0, r.stderr);
    assert.ok(r.systemctl.includes("restart mariadb"), r.systemctl.join("; "));
    assert.notEqual(r.state.pid, result("02-same").state.pid);
    assert.equal(r.state.max_connections, "150");
  });

  test("a peer change rewires replication without a restart", () => {
    const r = result("04-peers");
    assert.equal(r.rc, 0, r.stderr);
    assert.ok(!r.systemctl.some((c) => /(start|stop) mariadb/.test(c)), r.systemctl.join("; "));
    assert.equal(r.state.pid, result("03-config").state.pid);
    assert.equal(r.state.connections, "p2");
  });

  test("a volume that never appears fails clearly without touching fstab", () => {
    const r = result("05-no-volume");
    assert.equal(r.rc, 1);
    assert.match(r.stderr, /scsi-0DO_Volume_nothere did not appear within 2s/);
    assert.equal(r.state.fstab, stateOf("00").fstab);
  });

  test("db.env is parsed, not executed: unknown keys are rejected", () => {
    const r = result("06-bad-env");
    assert.equal(r.rc, 1);
    assert.match(r.stderr, /unknown key 'EVIL'/);
  });

  test("TLS: a missing key fails before the config is installed; with the files MariaDB restarts serving TLS; renewed files load without a restart", () => {
    const missing = result("07-tls-no-key");
    assert.equal(missing.rc, 1);
    assert.match(missing.stderr, /TLS file \/etc\/dns-rr-ha\/db\/server-key\.pem, which is missing or empty/);
    assert.equal(missing.state.cnf_installed, "no", "the running config stays");
    assert.equal(missing.state.have_ssl, "DISABLED");
    const on = result("08-tls");
    assert.equal(on.rc, 0, on.stderr);
    assert.ok(on.systemctl.includes("restart mariadb"), on.systemctl.join("; "));
    assert.equal(on.state.have_ssl, "YES");
    assert.equal(on.state.require_secure_transport, "ON");
    assert.match(on.stderr, /TLS loaded/);
    const renewed = result("09-tls-renewed");
    assert.equal(renewed.rc, 0, renewed.stderr);
    assert.ok(!renewed.systemctl.some((c) => /(start|stop) mariadb/.test(c)), renewed.systemctl.join("; "));
    assert.equal(renewed.state.pid, on.state.pid);
    assert.equal(renewed.state.have_ssl, "YES");
  });
});

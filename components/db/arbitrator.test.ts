/**
 * The arbitrator: garbd's arguments, the systemd unit that runs it (checked by systemd-analyze,
 * then its ExecStart, parsed as systemd does, run for real as an unprivileged user against a
 * one-node TLS cluster), and the group timing rules checked against Galera's own (garbd links
 * the same group-communication library as the data nodes).
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, execFileSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { garbdArgs, garbdProblems, GARBD_PATHS, GARBD_SERVICE, renderGarbdUnit, type GarbdSettings } from "./arbitrator";
import { dbNodeMyCnfSettings, galeraProviderOptions, GALERA_TIMING, galeraTimingFor, galeraTimingProblems, type GaleraTiming } from "./myCnf";
import { describeCluster, freePort, LOCAL_TIMING, startLocalCluster, waitUntil, type LocalCluster, type LocalMariadb } from "./testing/localMariadb";

const production: GarbdSettings = {
  clusterName: "prod-db",
  nodeName: "prod-witness",
  listenAddress: "10.40.0.9",
  segment: 7,
  dataNodes: ["10.10.0.5:4567", "10.20.0.5:4567"],
  timing: GALERA_TIMING.default,
  tls: { ca: GARBD_PATHS.ca, cert: GARBD_PATHS.cert, key: GARBD_PATHS.key },
};

/** `a=b;c=d` into a map. */
const optionMap = (text: string) => new Map(text.split(";").map((o) => o.split("=", 2) as [string, string]));

/**
 * The ExecStart= command line and the LoadCredential= path of a unit, parsed as systemd 252 does
 * (specifiers resolved on the whole value, then words split, unquoted and C-unescaped). Only what
 * the renderer may produce is accepted: `%%`, `%d`, double-quoted words with `\\` and `\"`;
 * anything else throws, so the parse cannot silently differ from systemd's.
 */
function parseUnit(unit: string, credentialsDir: string): { argv: string[]; credential: string | undefined } {
  const specifiers = (value: string) => value.replace(/%(.)/g, (_, c: string) => {
    if (c === "%") return "%";
    if (c === "d") return credentialsDir;
    throw new Error(`unexpected specifier %${c} in ${value}`);
  });
  const exec = unit.split("\n").filter((l) => l.startsWith("ExecStart="));
  assert.equal(exec.length, 1, "one ExecStart");
  const line = specifiers(exec[0]!.slice("ExecStart=".length));
  assert.doesNotMatch(line, /\$/, "no environment variable expansion");
  const argv: string[] = [];
  let rest = line;
  const binary = /^(\/\S+)(?: |$)/.exec(rest);
  assert.ok(binary, `ExecStart starts with an absolute path: ${line}`);
  argv.push(binary[1]!);
  rest = rest.slice(binary[0].length);
  while (rest.length > 0) {
    const word = /^"((?:[^"\\]|\\.)*)"(?: |$)/.exec(rest);
    assert.ok(word, `a double-quoted word at: ${rest}`);
    argv.push(word[1]!.replace(/\\(.)/g, (_, c: string) => {
      if (c === "\\" || c === '"') return c;
      throw new Error(`unexpected escape \\${c}`);
    }));
    rest = rest.slice(word[0].length);
  }
  const loads = unit.split("\n").filter((l) => l.startsWith("LoadCredential="));
  assert.ok(loads.length <= 1);
  const credential = loads[0] === undefined ? undefined : /^LoadCredential=key:(\/.*)$/.exec(specifiers(loads[0]))?.[1];
  if (loads[0] !== undefined) assert.ok(credential, loads[0]);
  return { argv, credential };
}

function systemdVerify(unit: string): { status: number | null; output: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "dns-rr-ha-unit-"));
  try {
    const file = path.join(dir, GARBD_SERVICE);
    writeFileSync(file, unit);
    const r = spawnSync("systemd-analyze", ["verify", "--man=no", file], { encoding: "utf8" });
    // Complaints about units of the host (e.g. Debian's own garb.service) are not about ours.
    const output = `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.includes(GARBD_SERVICE)).join("\n");
    return { status: r.status, output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("garbd arguments and unit (pure)", () => {
  test("the arguments: the data nodes, the group, its name, the group options", () => {
    assert.deepEqual(garbdArgs(production), [
      "--address", "gcomm://10.10.0.5:4567,10.20.0.5:4567",
      "--group", "prod-db",
      "--name", "prod-witness",
      "--options", "gmcast.listen_addr=tcp://10.40.0.9:4567;gmcast.segment=7;evs.keepalive_period=PT1S;evs.suspect_timeout=PT5S;evs.inactive_timeout=PT15S;"
        + "evs.install_timeout=PT15S;evs.send_window=512;evs.user_send_window=512;"
        + "socket.ssl_key=/etc/dns-rr-ha/garbd/key.pem;socket.ssl_cert=/etc/dns-rr-ha/garbd/cert.pem;socket.ssl_ca=/etc/dns-rr-ha/garbd/ca.pem",
    ]);
    const plain = garbdArgs({ ...production, tls: undefined, port: 5567 });
    assert.doesNotMatch(plain.join(" "), /socket\./);
    assert.match(plain[7]!, /^gmcast\.listen_addr=tcp:\/\/10\.40\.0\.9:5567;/);
  });

  test("the arbitrator's evs timing is exactly the data nodes' (a member with other timeouts judges peers differently)", () => {
    for (const timing of [GALERA_TIMING.default, galeraTimingFor(1000), galeraTimingFor(2500), { keepaliveMs: 1250, suspectMs: 4000, inactiveMs: 9000, installMs: 8500 }]) {
      const node = dbNodeMyCnfSettings({ nodeIndex: 0, nodeCount: 2, bindAddress: "10.10.0.5", datadir: "/mnt/v/mysql", memoryMb: 1024, clusterName: "prod-db", nodeName: "n", clusterMembers: ["10.10.0.5:4567"], timing });
      const evs = (m: Map<string, string>) => [...m].filter(([k]) => k.startsWith("evs."));
      assert.deepEqual(evs(optionMap(garbdArgs({ ...production, timing })[7]!)), evs(optionMap(galeraProviderOptions(node))), JSON.stringify(timing));
    }
  });

  test("bad settings are refused with every problem named", () => {
    const bad: GarbdSettings = {
      clusterName: "prod db", nodeName: "", listenAddress: "10.40.0", port: 0, segment: 256,
      dataNodes: ["10.10.0.5", "db:4567", "10.10.0.5:4567:1", "10.10.0.5:0", "10.10.0.5:4567,10.20.0.5:4567"],
      timing: { ...GALERA_TIMING.default, keepaliveMs: 2000 },
      tls: { ca: "ca.pem", cert: "/etc/x cert.pem", key: "/etc/k\nExecStartPre=/bin/sh" },
    };
    const problems = garbdProblems(bad);
    for (const what of ["clusterName", "nodeName", "listenAddress", "port must be 1..65535 (got 0)", "segment must be 0..255 (got 256)",
      ...bad.dataNodes.map((n) => `dataNodes entry ${JSON.stringify(n)}`), "timing.keepaliveMs (2000)", "tls.ca", "tls.cert", "tls.key"]) {
      assert.ok(problems.some((p) => p.includes(what)), `${what} not named in:\n${problems.join("\n")}`);
    }
    assert.throws(() => garbdArgs(bad), /^Error: invalid arbitrator settings:\n {2}- clusterName/);
    assert.throws(() => renderGarbdUnit(bad), /invalid arbitrator settings/);
    assert.deepEqual(garbdProblems({ ...production, dataNodes: [] }), ["dataNodes must list at least one data node's group address"]);
    assert.deepEqual(garbdProblems(production), []);
  });

  test("the unit: garbd as a dynamic user on a read-only system, the key as a credential, SIGINT to leave cleanly", () => {
    const unit = renderGarbdUnit(production);
    const lines = unit.split("\n");
    for (const l of ["DynamicUser=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes", "KillSignal=SIGINT", "Restart=always", "WantedBy=multi-user.target", `LoadCredential=key:${GARBD_PATHS.key}`]) {
      assert.ok(lines.includes(l), l);
    }
    const { argv, credential } = parseUnit(unit, "/run/credentials/x");
    assert.equal(credential, GARBD_PATHS.key);
    assert.deepEqual(argv.slice(1), garbdArgs({ ...production, tls: { ...production.tls!, key: "/run/credentials/x/key" } }));
    assert.ok(!unit.includes(`socket.ssl_key=${GARBD_PATHS.key}`), "garbd never reads the key file itself");
    const plain = renderGarbdUnit({ ...production, tls: undefined });
    assert.doesNotMatch(plain, /LoadCredential|socket\.ssl/);
  });

  test("quoting: `%` doubled in ExecStart and LoadCredential, only the key path becomes %d/key", () => {
    const odd = { ...production, tls: { ca: "/etc/g%d/ca.pem", cert: "/etc/g%%/cert.pem", key: "/etc/g%n/key.pem" } };
    const unit = renderGarbdUnit(odd);
    assert.match(unit, /socket\.ssl_key=%d\/key;socket\.ssl_cert=\/etc\/g%%%%\/cert\.pem;socket\.ssl_ca=\/etc\/g%%d\/ca\.pem"/);
    assert.match(unit, /^LoadCredential=key:\/etc\/g%%n\/key\.pem$/m);
    const { argv, credential } = parseUnit(unit, "/run/credentials/y");
    assert.equal(credential, "/etc/g%n/key.pem");
    assert.equal(optionMap(argv[8]!).get("socket.ssl_ca"), "/etc/g%d/ca.pem");
    assert.equal(optionMap(argv[8]!).get("socket.ssl_cert"), "/etc/g%%/cert.pem");
    assert.equal(optionMap(argv[8]!).get("socket.ssl_key"), "/run/credentials/y/key");
  });

  test("systemd-analyze verify accepts the unit, and rejects a broken one (the check works)", () => {
    for (const unit of [renderGarbdUnit(production), renderGarbdUnit({ ...production, tls: undefined })]) {
      const r = systemdVerify(unit);
      assert.equal(r.status, 0, r.output);
      assert.equal(r.output, "", "no warning about our unit");
    }
    const broken = systemdVerify(renderGarbdUnit(production).replace("KillSignal=SIGINT", "KillSignal=SIGNOPE"));
    assert.match(broken.output, /KillSignal|SIGNOPE/);
    const missing = systemdVerify(renderGarbdUnit(production).replace("/usr/bin/garbd", "/usr/bin/no-such-garbd"));
    assert.notEqual(missing.status, 0, missing.output);
  });
});

describe("the group timing rules agree with Galera's", () => {
  /** Whether garbd accepts these evs timings: it checks them when it opens the group channel, before connecting anywhere. */
  const galeraAccepts = (t: GaleraTiming): Promise<{ ok: boolean; output: string }> => new Promise((resolve) => {
    const iso = (ms: number) => `PT${ms / 1000}S`;
    const options = `gmcast.listen_addr=tcp://127.0.0.1:0;evs.keepalive_period=${iso(t.keepaliveMs)};evs.suspect_timeout=${iso(t.suspectMs)};evs.inactive_timeout=${iso(t.inactiveMs)};evs.install_timeout=${iso(t.installMs)}`;
    const child = spawn("garbd", ["--address", "gcomm://127.0.0.1:1", "--group", "probe", "--options", options], { cwd: tmpdir(), stdio: ["ignore", "ignore", "pipe"] });
    let output = "";
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      child.kill("SIGKILL");
      resolve({ ok, output: `${JSON.stringify(t)}: ${output.slice(-400)}` });
    };
    child.stderr!.on("data", (d: Buffer) => {
      output += d.toString();
      if (/gcomm: connecting to group/.test(output)) finish(true);
      else if (/out of range|ERROR|FATAL/.test(output)) finish(false);
    });
    child.on("exit", () => finish(false));
  });
  const all = async (timings: GaleraTiming[]) => {
    const results: { ok: boolean; output: string }[] = [];
    for (let i = 0; i < timings.length; i += 8) results.push(...(await Promise.all(timings.slice(i, i + 8).map(galeraAccepts))));
    return results;
  };

  test("every timing the validation accepts, Galera accepts (sampled, boundaries included)", async () => {
    const valid = fc.integer({ min: 1000, max: 60_000 }).chain((suspectMs) => fc.integer({ min: 100, max: Math.floor(suspectMs / 3) }).chain((keepaliveMs) =>
      fc.integer({ min: suspectMs, max: 600_000 }).chain((inactiveMs) => fc.integer({ min: Math.max(1000, keepaliveMs), max: inactiveMs }).map((installMs) => ({ keepaliveMs, suspectMs, inactiveMs, installMs })))));
    const timings = [
      ...fc.sample(valid, { numRuns: 24, seed: 5 }),
      ...[1000, 1001, 1500, 2000, 2999, 3000, 5000, 60_000].map(galeraTimingFor),
      { keepaliveMs: 1000, suspectMs: 3000, inactiveMs: 3000, installMs: 3000 },
      { keepaliveMs: 100, suspectMs: 1000, inactiveMs: 1000, installMs: 1000 },
      LOCAL_TIMING,
    ];
    for (const t of timings) assert.deepEqual(galeraTimingProblems("t", t), [], JSON.stringify(t));
    for (const r of await all(timings)) assert.ok(r.ok, r.output);
  });

  test("just past each of Galera's limits both refuse (so the rules are not looser than Galera, nor needlessly stricter)", async () => {
    const d = GALERA_TIMING.default;
    const past: GaleraTiming[] = [
      { ...d, keepaliveMs: 1001, suspectMs: 3000 },
      { ...d, keepaliveMs: 334, suspectMs: 1000 },
      { ...d, keepaliveMs: 99 },
      { ...d, installMs: 15_001 },
      { ...d, keepaliveMs: 1500, suspectMs: 6000, installMs: 1400 },
    ];
    for (const t of past) assert.notDeepEqual(galeraTimingProblems("t", t), [], JSON.stringify(t));
    for (const r of await all(past)) assert.ok(!r.ok, r.output);
  });
});

describe("the rendered unit's garbd joins a real cluster (TLS)", () => {
  let cluster: LocalCluster;
  let node: LocalMariadb;
  let dir: string;
  const children: ChildProcess[] = [];
  before(async () => {
    cluster = await startLocalCluster({ nodes: 1, tls: true });
    node = cluster.nodes[0]!;
    dir = mkdtempSync(path.join(tmpdir(), "dns-rr-ha-garbd-"));
    chmodSync(dir, 0o755);
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Install TLS files below `name` (a `%` in the path on purpose), render the unit, resolve it as
   * systemd would and run its ExecStart as nobody in / (DynamicUser + ProtectSystem=strict: an
   * unprivileged user and nowhere to write), the key reachable only through the credentials dir.
   */
  const runUnit = async (name: string, files: { ca: string; cert: string; key: string }) => {
    const tlsDir = path.join(dir, name, "tls%d");
    mkdirSync(tlsDir, { recursive: true });
    const tls = { ca: path.join(tlsDir, "ca.pem"), cert: path.join(tlsDir, "cert.pem"), key: path.join(tlsDir, "key.pem") };
    copyFileSync(files.ca, tls.ca);
    copyFileSync(files.cert, tls.cert);
    copyFileSync(files.key, tls.key);
    chmodSync(tls.key, 0o600);
    for (const d of [path.join(dir, name), tlsDir]) chmodSync(d, 0o755);
    const port = await freePort();
    const unit = renderGarbdUnit({
      clusterName: node.settings.clusterName, nodeName: `witness-${name}`, listenAddress: "127.0.0.1", port, segment: 1,
      dataNodes: [`127.0.0.1:${node.settings.galeraPorts.group}`], timing: LOCAL_TIMING, tls,
    });
    assert.equal(systemdVerify(unit).status, 0);
    const credentials = path.join(dir, name, "credentials");
    const { argv, credential } = parseUnit(unit, credentials);
    assert.equal(credential, tls.key, "LoadCredential names the key file");
    mkdirSync(credentials, { mode: 0o500 });
    copyFileSync(credential!, path.join(credentials, "key"));
    chownSync(credentials, 65534, 65534);
    chownSync(path.join(credentials, "key"), 65534, 65534);
    assert.notEqual(spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--", "cat", tls.key]).status, 0, "nobody cannot read the key file itself");
    const child = spawn("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--", ...argv], { cwd: "/", stdio: ["ignore", "pipe", "pipe"], detached: true });
    children.push(child);
    let output = "";
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    return { child, output: () => output, argv };
  };

  test("its ExecStart, run as systemd would, joins: cluster size 2; SIGINT (the unit's KillSignal) leaves at once", async () => {
    const tls = node.settings.tls!;
    const garbd = await runUnit("good", tls);
    assert.equal(garbd.argv[0], "/usr/bin/garbd");
    await waitUntil("the arbitrator to join", () => node.wsrep().wsrep_cluster_size === "2", 20_000, () => `${describeCluster([node])}\n${garbd.output().slice(-3000)}`);
    assert.match(garbd.output(), /ssl:\/\/127\.0\.0\.1/, "the group channel is TLS");
    assert.ok(node.synced());
    const sent = Date.now();
    garbd.child.kill("SIGINT");
    // A clean leave: well before the suspect timeout would drop a silent member.
    await waitUntil("the arbitrator to leave", () => node.wsrep().wsrep_cluster_size === "1", LOCAL_TIMING.suspectMs, () => garbd.output().slice(-2000));
    assert.ok(Date.now() - sent < LOCAL_TIMING.suspectMs, `left after ${Date.now() - sent} ms`);
    assert.ok(node.synced(), "the node goes on alone");
  });

  test("a garbd whose certificate another CA signed is not let in", async () => {
    const other = path.join(dir, "other-ca");
    mkdirSync(other);
    const key = path.join(other, "key.pem");
    const cert = path.join(other, "cert.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
    const garbd = await runUnit("stranger", { ca: cert, cert, key });
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      assert.equal(node.wsrep().wsrep_cluster_size, "1", garbd.output().slice(-2000));
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(garbd.output() + readFileSync(node.settings.logError, "utf8").slice(-20_000), /certificate|handshake|SSL/i);
  });
});

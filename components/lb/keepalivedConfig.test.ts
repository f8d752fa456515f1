import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  renderKeepalivedConfig,
  stateMarkerAddress,
  validateKeepalivedSettings,
  type KeepalivedSettings,
} from "./keepalivedConfig";
import { lbScriptPaths } from "./scriptPaths";
import { lbScriptSourcePath } from "./lbScripts";
import { makeTempDir, run, waitFor } from "./testHelpers";

const tmp = makeTempDir("lb-keepalived-test");
after(() => tmp.cleanup());

// keepalived -t disables (and reports) scripts it cannot find, so install the
// real scripts in the temp dir and point the config at them.
const checkScript = path.join(tmp.dir, "check-haproxy");
const takeoverScript = path.join(tmp.dir, "reserved-ip-takeover");
fs.copyFileSync(lbScriptSourcePath("checkHaproxy"), checkScript);
fs.copyFileSync(lbScriptSourcePath("reservedIpTakeover"), takeoverScript);
fs.chmodSync(checkScript, 0o755);
fs.chmodSync(takeoverScript, 0o755);

const base: KeepalivedSettings = {
  routerId: "lb-ams3-1",
  virtualRouterId: 51,
  priority: 150,
  privateAddress: "10.110.0.5",
  peerAddress: "10.110.0.6",
  reservedIp: "203.0.113.10",
};
const local: KeepalivedSettings = { ...base, checkScriptPath: checkScript, takeoverScriptPath: takeoverScript };

let fileSeq = 0;
/**
 * Runs the real `keepalived -t` in a throw-away network namespace that has an
 * eth1 carrying the private address, as on a droplet (keepalived rejects a
 * config whose interface does not exist).
 */
async function keepalivedCheck(text: string, iface = "eth1") {
  const file = path.join(tmp.dir, `keepalived-${fileSeq++}.conf`);
  fs.writeFileSync(file, text);
  const setup = [
    `ip link add ${iface} type veth peer name vpeer`,
    `ip link set ${iface} up`,
    "ip link set lo up",
    `ip addr add ${base.privateAddress}/20 dev ${iface}`,
    `exec keepalived --config-test --log-console --log-detail --use-file "$1"`,
  ].join(" && ");
  return run("unshare", ["--net", "bash", "-c", setup, "bash", file]);
}

describe("renderKeepalivedConfig passes keepalived -t", () => {
  test("default layout (eth1)", async () => {
    const r = await keepalivedCheck(renderKeepalivedConfig(local));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /warning|error|disabling/i);
  });

  test("custom interface, port and marker", async () => {
    const cfg = renderKeepalivedConfig({
      ...local,
      interface: "ens4",
      haproxyPort: 8080,
      virtualRouterId: 255,
      priority: 1,
      stateMarkerAddress: "169.254.10.1",
    });
    const r = await keepalivedCheck(cfg, "ens4");
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test("a corrupted config is rejected (the check really runs)", async () => {
    const cfg = renderKeepalivedConfig(local).replace("virtual_router_id 51", "virtual_router_id 300");
    const r = await keepalivedCheck(cfg);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /VRID '300' not valid/);
  });

  test("the state-marker VIP is required: without it the instance is dropped", async () => {
    const cfg = renderKeepalivedConfig(local).replace(/ {4}virtual_ipaddress \{\n[^}]*\}\n/, "");
    assert.doesNotMatch(cfg, /virtual_ipaddress/);
    const r = await keepalivedCheck(cfg);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /No VIP specified/);
  });
});

describe("renderKeepalivedConfig semantics", () => {
  const cfg = renderKeepalivedConfig(base);
  const lines = cfg.split("\n").map((l) => l.trim());

  test("both nodes start BACKUP without preemption", () => {
    assert.ok(lines.includes("state BACKUP"));
    assert.ok(lines.includes("nopreempt"));
    assert.ok(!lines.includes("state MASTER"));
    assert.ok(lines.includes("priority 150"));
    assert.ok(lines.includes("virtual_router_id 51"));
    assert.ok(lines.includes("advert_int 1"));
    assert.ok(lines.includes("interface eth1"));
  });

  test("unicast VRRPv3 between the two private addresses only", () => {
    assert.ok(lines.includes("unicast_src_ip 10.110.0.5"));
    assert.match(cfg, /unicast_peer \{\n\s+10\.110\.0\.6\n\s+\}/);
    assert.ok(lines.includes("check_unicast_src"));
    assert.ok(lines.includes("vrrp_version 3"));
    assert.doesNotMatch(cfg, /auth_pass|authentication/);
  });

  test("health script is tracked and fails the instance", () => {
    assert.match(cfg, /vrrp_script chk_haproxy \{[^}]*script "\/usr\/local\/libexec\/dns-rr-ha\/check-haproxy 80"/);
    for (const l of ["interval 1", "fall 2", "rise 2", "weight 0"]) assert.ok(lines.includes(l), l);
    assert.match(cfg, /track_script \{\n\s+chk_haproxy\n\s+\}/);
  });

  test("MASTER runs the takeover script with the reserved IP; scripts run as root, securely", () => {
    assert.ok(lines.includes(`notify_master "${lbScriptPaths.reservedIpTakeover} 203.0.113.10"`));
    assert.ok(lines.includes("enable_script_security"));
    assert.ok(lines.includes("script_user root"));
  });

  test("only the link-local state marker is a VIP, on lo", () => {
    assert.equal(stateMarkerAddress(51), "169.254.254.51");
    assert.match(cfg, /virtual_ipaddress \{\n\s+169\.254\.254\.51\/32 dev lo scope host\n\s+\}/);
    assert.doesNotMatch(cfg, /203\.0\.113\.10\//);
  });
});

describe("validateKeepalivedSettings", () => {
  const bad: [string, Partial<KeepalivedSettings>, RegExp][] = [
    ["own IP == peer IP", { peerAddress: base.privateAddress }, /KeepalivedSettings\.peerAddress: must differ from privateAddress/],
    ["vrid 0", { virtualRouterId: 0 }, /KeepalivedSettings\.virtualRouterId: must be an integer in 1\.\.255/],
    ["vrid 256", { virtualRouterId: 256 }, /virtualRouterId/],
    ["priority 255", { priority: 255 }, /KeepalivedSettings\.priority: must be an integer in 1\.\.254/],
    ["bad private address", { privateAddress: "10.0.0.256" }, /privateAddress: must be an IPv4/],
    ["bad reserved IP", { reservedIp: "" }, /reservedIp: must be an IPv4/],
    ["reserved IP == private IP", { reservedIp: base.privateAddress }, /reservedIp: must not be one of/],
    ["router id with space", { routerId: "lb 1" }, /routerId/],
    ["interface too long", { interface: "a-very-long-interface" }, /interface: must be a Linux interface name/],
    ["relative script", { checkScriptPath: "check-haproxy" }, /checkScriptPath: must be an absolute path/],
    ["quoted script", { takeoverScriptPath: '/x" ; rm -rf /' }, /takeoverScriptPath/],
    ["public marker", { stateMarkerAddress: "8.8.8.8" }, /stateMarkerAddress: must be link-local/],
    ["bad port", { haproxyPort: 0 }, /haproxyPort/],
  ];
  for (const [label, patch, message] of bad) {
    test(`rejects ${label}`, () => {
      assert.throws(() => validateKeepalivedSettings({ ...base, ...patch }), message);
      assert.throws(() => renderKeepalivedConfig({ ...base, ...patch }), message);
    });
  }
});

describe("two keepalived nodes with the rendered configs", () => {
  // Two network namespaces joined by a veth pair named eth1 on both sides,
  // like two LB droplets on a VPC. The check/takeover scripts are stubs
  // driven by files: this exercises keepalived's election with our config;
  // the real scripts are tested in lbScripts.test.ts.
  const dir = path.join(tmp.dir, "pair");
  const ns = { a: `lbt${process.pid}a`, b: `lbt${process.pid}b` };
  const addr = { a: "10.110.0.5", b: "10.110.0.6" };
  const takeoverLog = path.join(dir, "takeovers");
  const children: { pid: number; exited: Promise<void> }[] = [];
  const logs = { a: "", b: "" };

  after(async () => {
    for (const c of children) {
      try {
        process.kill(c.pid, "SIGTERM");
      } catch {
        // already gone
      }
      await c.exited;
    }
    for (const n of Object.values(ns)) await run("ip", ["netns", "del", n]);
  });

  const takeovers = () => (fs.existsSync(takeoverLog) ? fs.readFileSync(takeoverLog, "utf8").trim().split("\n") : []);
  const hasMarker = async (n: "a" | "b") =>
    (await run("ip", ["-n", ns[n], "-4", "addr", "show", "dev", "lo"])).stdout.includes("169.254.254.51/32");
  const setHealthy = (n: "a" | "b", ok: boolean) => fs.writeFileSync(path.join(dir, `health-${n}`), ok ? "0" : "1");

  test("elects one MASTER, fails over on a failed check, never preempts back", async () => {
    fs.mkdirSync(dir);
    for (const name of Object.values(ns)) {
      const r = await run("ip", ["netns", "add", name]);
      assert.equal(r.code, 0, r.stderr);
    }
    const veth = await run("ip", [
      "link", "add", "name", "eth1", "netns", ns.a, "type", "veth", "peer", "name", "eth1", "netns", ns.b,
    ]);
    assert.equal(veth.code, 0, veth.stderr);
    for (const n of ["a", "b"] as const) {
      for (const args of [["link", "set", "lo", "up"], ["link", "set", "eth1", "up"], ["addr", "add", `${addr[n]}/20`, "dev", "eth1"]]) {
        const r = await run("ip", ["-n", ns[n], ...args]);
        assert.equal(r.code, 0, r.stderr);
      }
      const check = path.join(dir, `check-${n}`);
      fs.writeFileSync(check, `#!/bin/bash\nexit "$(cat ${dir}/health-${n})"\n`, { mode: 0o755 });
      const take = path.join(dir, `takeover-${n}`);
      fs.writeFileSync(take, `#!/bin/bash\necho "${n} $*" >> ${takeoverLog}\n`, { mode: 0o755 });
      setHealthy(n, true);
      const peer = n === "a" ? addr.b : addr.a;
      const conf = path.join(dir, `${n}.conf`);
      fs.writeFileSync(
        conf,
        renderKeepalivedConfig({
          routerId: `lb-${n}`,
          virtualRouterId: 51,
          priority: n === "a" ? 150 : 100,
          privateAddress: addr[n],
          peerAddress: peer,
          reservedIp: "203.0.113.10",
          checkScriptPath: check,
          takeoverScriptPath: take,
        }),
      );
      const child = spawn(
        "ip",
        ["netns", "exec", ns[n], "keepalived", "--dont-fork", "--log-console", "--log-detail", "--vrrp", "--no-syslog",
          "--use-file", conf, "--pid", path.join(dir, `${n}.pid`), "--vrrp_pid", path.join(dir, `${n}.vrrp.pid`)],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      child.stdout.on("data", (d: Buffer) => (logs[n] += d.toString()));
      child.stderr.on("data", (d: Buffer) => (logs[n] += d.toString()));
      assert.ok(child.pid);
      children.push({ pid: child.pid, exited: new Promise((resolve) => child.on("exit", () => resolve())) });
    }
    const explain = () => `takeovers=${JSON.stringify(takeovers())}\n--- a ---\n${logs.a}\n--- b ---\n${logs.b}`;
    const waitTakeovers = (want: string[]) =>
      waitFor(`takeovers ${want.join(",")}`, async () => takeovers().join("|") === want.join("|"), 8000).catch((e) => {
        throw new Error(`${String(e)}\n${explain()}`);
      });

    // Higher priority A wins the first election and runs the takeover once.
    await waitTakeovers(["a 203.0.113.10"]);
    assert.ok(await hasMarker("a"));
    assert.ok(!(await hasMarker("b")));

    // A's HAProxy check fails: A goes FAULT, B becomes MASTER and takes over.
    setHealthy("a", false);
    await waitTakeovers(["a 203.0.113.10", "b 203.0.113.10"]);
    assert.ok(await hasMarker("b"));
    await waitFor("A out of MASTER", async () => !(await hasMarker("a")), 3000);

    // A recovers and hears B: nopreempt keeps B MASTER (no IP ping-pong).
    setHealthy("a", true);
    await waitFor("A back to BACKUP", async () => /FAULT STATE[\s\S]*Entering BACKUP STATE/.test(logs.a), 5000);
    await new Promise((r) => setTimeout(r, 4000)); // > master_down_interval (3 x advert_int + skew)
    assert.deepEqual(takeovers(), ["a 203.0.113.10", "b 203.0.113.10"], explain());
    assert.ok(await hasMarker("b"));
  });
});

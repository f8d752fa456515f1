import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BaseImage } from "../image/ensureBaseImage";
import { bootHost, RunningHost } from "./bootHost";
import { HOST_STATE_FILE } from "./hostState";
import { renderResolvConf } from "./noCloudSeed";
import { isRunning, namespaceOf } from "./procfs";
import {
  createTestNetns,
  makeSshKey,
  netnsExists,
  procMountsMentioning,
  processesInNamespace,
  testImage,
  TestNetns,
} from "./testSupport";

const log = (l: string) => console.log(l);

let image: BaseImage;
let root: string;
let key: { privateKey: string; publicKey: string };
const netnses: TestNetns[] = [];
const hosts: RunningHost[] = [];

before(async () => {
  image = await testImage();
  root = mkdtempSync(path.join(tmpdir(), "drr-host-"));
  key = makeSshKey(root);
});

after(async () => {
  // Safety net when an assertion failed before a test's own cleanup.
  for (const h of hosts) await h.stop();
  for (const n of netnses) n.remove();
  if (root && procMountsMentioning(root).length === 0) rmSync(root, { recursive: true, force: true });
});

function newNetns(): TestNetns {
  const n = createTestNetns();
  netnses.push(n);
  return n;
}

async function boot(name: string, netns: TestNetns, userData: string, extra: Partial<Parameters<typeof bootHost>[0]> = {}): Promise<RunningHost> {
  const h = await bootHost({
    name,
    rootfs: image.rootfs,
    stateDir: path.join(root, name),
    netnsPath: netns.path,
    hostname: name,
    userData,
    metaData: { instanceId: `i-${name}`, localHostname: name, publicKeys: [key.publicKey] },
    nameservers: ["127.0.0.53"],
    log,
    ...extra,
  });
  hosts.push(h);
  return h;
}

async function sh(h: RunningHost, script: string): Promise<string> {
  const r = await h.exec(["sh", "-c", script]);
  assert.equal(r.code, 0, `${h.name}: ${script}: ${r.stderr}`);
  return r.stdout.trim();
}

const USER_DATA = `#cloud-config
packages: [haproxy]
write_files:
  - path: /etc/lab-marker
    content: "written by cloud-init\\n"
runcmd:
  - [sh, -c, "echo runcmd-ok > /root/runcmd.out"]
  - systemctl restart haproxy
`;

describe("bootHost: one droplet from real cloud-config", () => {
  test("cloud-init applies the user-data, SSH as root works, stop leaves nothing behind", async () => {
    const netns = newNetns();
    const volume = path.join(root, "volume-1");
    mkdirSync(volume);
    writeFileSync(path.join(volume, "on-volume.txt"), "volume data\n");
    const h = await boot("lab-web-1", netns, USER_DATA, {
      binds: [{ hostPath: volume, containerPath: "/mnt/volume_lab_1" }],
      searchDomains: ["example.test"],
    });
    assert.ok(h.bootState === "running", `boot state ${h.bootState}, failed: ${h.failedUnits.join(",")}`);

    const t = Date.now();
    const ci = await h.waitForCloudInit(120_000);
    console.log(`lab-web-1: boot ${h.bootMs} ms, cloud-init done ${Date.now() - t} ms after boot settled`);
    assert.deepEqual({ status: ci.status, errors: ci.errors }, { status: "done", errors: [] });

    // The packages module really ran apt-get (update with no sources, install as a no-op).
    const ciLog = await sh(h, "cat /var/log/cloud-init.log");
    assert.match(ciLog, /apt-get.*update/);
    assert.match(ciLog, /apt-get.*install.*haproxy/);

    assert.equal(await sh(h, "cat /etc/lab-marker"), "written by cloud-init");
    assert.equal(await sh(h, "cat /root/runcmd.out"), "runcmd-ok");
    assert.equal(await sh(h, "systemctl is-active haproxy"), "active");
    assert.equal(await sh(h, "hostname"), "lab-web-1");
    assert.equal(await sh(h, "cat /etc/resolv.conf"), renderResolvConf(["127.0.0.53"], ["example.test"]).trim());
    assert.equal(await sh(h, "cat /mnt/volume_lab_1/on-volume.txt"), "volume data");
    // Key line exactly, no "command=... login as debian" prefix (disable_root: false).
    assert.ok((await sh(h, "cat /root/.ssh/authorized_keys")).split("\n").includes(key.publicKey));

    // Real SSH as root over the namespace's loopback, like the program's wiring step.
    const out = execFileSync(
      "ip",
      [
        "netns", "exec", netns.name, "ssh", "-i", key.privateKey, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR", "root@127.0.0.1", "hostname; id -u",
      ],
      { encoding: "utf8", timeout: 20_000 },
    );
    assert.deepEqual(out.trim().split("\n"), ["lab-web-1", "0"]);

    // exec: stdin, exit codes, and a timeout that kills the command inside the container too.
    assert.equal((await h.exec(["cat"], { input: "via stdin\n" })).stdout, "via stdin\n");
    assert.equal((await h.exec(["sh", "-c", "exit 7"])).code, 7);
    const t1 = Date.now();
    assert.equal((await h.exec(["sleep", "300"], { timeoutMs: 500 })).code, 124);
    assert.ok(Date.now() - t1 < 5_000);
    // The SIGKILL lands at once; the container's init reaps it a moment later.
    const lingering = await h.exec(["sh", "-c", "for i in $(seq 50); do pgrep -x sleep >/dev/null || exit 0; sleep 0.1; done; exit 1"]);
    assert.equal(lingering.code, 0, "timed-out command must not linger");

    await new Promise((r) => setTimeout(r, 1000));
    const mem = h.memory();
    console.log(`lab-web-1 idle: ${mem.processes} processes, RSS ${(mem.rssKiB / 1024).toFixed(1)} MiB, PSS ${(mem.pssKiB / 1024).toFixed(1)} MiB`);
    assert.ok(mem.processes >= 4 && mem.pssKiB > 0);

    const pidNs = namespaceOf(h.leaderPid, "pid")!;
    assert.ok(procMountsMentioning(h.stateDir).length > 0, "overlay is mounted while running");
    await h.stop();
    assert.equal(isRunning(h.pid), false, "nspawn gone");
    assert.deepEqual(processesInNamespace(pidNs), [], "no container process left");
    assert.deepEqual(procMountsMentioning(h.stateDir), [], "no mount left under stateDir");
    assert.equal(existsSync(path.join(h.stateDir, HOST_STATE_FILE)), false);
    assert.equal(readFileSync(path.join(volume, "on-volume.txt"), "utf8"), "volume data\n", "bind source untouched");

    netns.remove();
    assert.equal(netnsExists(netns.name), false);
  });
});

describe("bootHost: hosts share one read-only base", () => {
  test("two hosts booted concurrently have independent overlays and identities", async () => {
    const netA = newNetns();
    const netB = newNetns();
    const [a, b] = await Promise.all([boot("lab-app-a", netA, USER_DATA), boot("lab-app-b", netB, USER_DATA)]);
    const cis = await Promise.all([a.waitForCloudInit(120_000), b.waitForCloudInit(120_000)]);
    for (const [h, ci] of [[a, cis[0]], [b, cis[1]]] as const) {
      console.log(`${h.name}: boot ${h.bootMs} ms, cloud-init ${ci.status}`);
      assert.equal(ci.status, "done", ci.errors.join("\n"));
    }

    await sh(a, "echo from-a > /root/who && rm /etc/lab-marker");
    await sh(b, "echo from-b > /root/who");
    assert.equal(await sh(a, "cat /root/who"), "from-a");
    assert.equal(await sh(b, "cat /root/who"), "from-b");
    assert.equal(await sh(b, "cat /etc/lab-marker"), "written by cloud-init", "A's delete is not seen by B");
    assert.equal(existsSync(path.join(image.rootfs, "root/who")), false, "base image untouched");
    assert.equal(readFileSync(path.join(a.stateDir, "upper/root/who"), "utf8"), "from-a\n", "writes land in A's upper");

    const idA = await sh(a, "cat /etc/machine-id; cat /etc/ssh/ssh_host_ed25519_key.pub");
    const idB = await sh(b, "cat /etc/machine-id; cat /etc/ssh/ssh_host_ed25519_key.pub");
    const [midA, hkA] = idA.split("\n");
    const [midB, hkB] = idB.split("\n");
    assert.match(midA!, /^[0-9a-f]{32}$/);
    assert.notEqual(midA, midB, "machine-id per host");
    assert.notEqual(hkA, hkB, "SSH host key per host");

    await Promise.all([a.stop(), b.stop()]);
    for (const h of [a, b]) {
      assert.equal(isRunning(h.pid), false);
      assert.deepEqual(procMountsMentioning(h.stateDir), []);
    }
    netA.remove();
    netB.remove();
    assert.equal(netnsExists(netA.name) || netnsExists(netB.name), false);
  });
});

describe("bootHost: failing user-data", () => {
  test("a failed runcmd is reported as cloud-init error with the output log tail", async () => {
    const netns = newNetns();
    const h = await boot("lab-bad-1", netns, "#cloud-config\nruncmd:\n  - echo lab-failure-marker\n  - exit 3\n");
    const ci = await h.waitForCloudInit(120_000);
    assert.equal(ci.status, "error");
    assert.ok(ci.errors.some((e) => /scripts[-_]user/.test(e)), ci.errors.join("\n"));
    assert.match(ci.outputTail, /lab-failure-marker/);
    await h.stop();
    assert.deepEqual(procMountsMentioning(h.stateDir), []);
    netns.remove();
  });
});

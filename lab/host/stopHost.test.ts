import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BaseImage } from "../image/ensureBaseImage";
import { BootHostOptions } from "./bootHost";
import { execInContainer } from "./containerExec";
import { HOST_PID_FILE, HOST_STATE_FILE, readHostState, writeHostState } from "./hostState";
import { isRunning, namespaceOf, readProcStat } from "./procfs";
import { cleanupStale, isOurNspawn, stopHostFromState } from "./stopHost";
import { createTestNetns, procMountsMentioning, processesInNamespace, testImage, TestNetns } from "./testSupport";

let root: string;
let image: BaseImage;
const netnses: TestNetns[] = [];

before(async () => {
  image = await testImage();
  root = mkdtempSync(path.join(tmpdir(), "drr-stop-"));
});

after(async () => {
  await cleanupStale(root, 5_000);
  for (const n of netnses) n.remove();
  if (procMountsMentioning(root).length === 0) rmSync(root, { recursive: true, force: true });
});

function fakeState(dir: string, pid: number) {
  return {
    name: path.basename(dir),
    nspawnPid: pid,
    nspawnStartTime: readProcStat(pid)?.startTime ?? 0,
    leaderPid: 0,
    merged: path.join(dir, "merged"),
    rootfs: "/nonexistent",
    netnsPath: "/nonexistent",
    startedAt: new Date().toISOString(),
  };
}

describe("stopHostFromState without containers", () => {
  test("never kills a recorded PID that is not our nspawn, but still unmounts and forgets", async () => {
    const dir = path.join(root, "impostor");
    mkdirSync(path.join(dir, "merged"), { recursive: true });
    const sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      await writeHostState(dir, fakeState(dir, sleeper.pid!));
      execFileSync("mount", ["-t", "tmpfs", "tmpfs", path.join(dir, "merged")]);
      assert.equal(isOurNspawn(sleeper.pid!, path.join(dir, "merged")), false);
      const report = await stopHostFromState(dir, 1_000);
      assert.equal(report.pidMismatch, true);
      assert.equal(report.stopped, false);
      assert.equal(isRunning(sleeper.pid!), true, "the unrelated process must survive");
      assert.deepEqual(procMountsMentioning(dir), []);
      assert.equal(existsSync(path.join(dir, HOST_STATE_FILE)), false);
      assert.equal(existsSync(path.join(dir, HOST_PID_FILE)), false);
    } finally {
      sleeper.kill("SIGKILL");
    }
  });

  test("cleanupStale clears dead hosts' state and stray mounts under the root", async () => {
    const sub = mkdtempSync(path.join(root, "stale-root-"));
    const dead = path.join(sub, "dead");
    const mounted = path.join(sub, "mounted");
    mkdirSync(dead);
    mkdirSync(path.join(mounted, "merged"), { recursive: true });
    const gone = spawn("true");
    await new Promise((r) => gone.once("exit", r));
    await writeHostState(dead, fakeState(dead, gone.pid!));
    execFileSync("mount", ["-t", "tmpfs", "tmpfs", path.join(mounted, "merged")]);
    const reports = await cleanupStale(sub, 1_000);
    assert.deepEqual(reports.map((r) => path.basename(r.stateDir)).sort(), ["dead", "mounted"]);
    assert.equal(readHostState(dead), null);
    assert.deepEqual(procMountsMentioning(sub), []);
  });
});

describe("hosts outlive the process that booted them", () => {
  test("a later process stops them via stopHostFromState / cleanupStale", async () => {
    const hostsRoot = path.join(root, "crashed-cli");
    const names = ["lab-lb-1", "lab-lb-2"];
    const specs: BootHostOptions[] = names.map((name) => {
      const netns = createTestNetns();
      netnses.push(netns);
      return {
        name,
        rootfs: image.rootfs,
        stateDir: path.join(hostsRoot, name),
        netnsPath: netns.path,
        hostname: name,
        userData: "#cloud-config\nruncmd:\n  - touch /root/booted\n",
        metaData: { instanceId: `i-${name}`, localHostname: name, publicKeys: [] },
        nameservers: [],
      };
    });
    // A separate node process boots the hosts and exits, like a lab CLI run.
    const code = `
      const { bootHost } = require(${JSON.stringify(path.join(__dirname, "bootHost.ts"))});
      Promise.all(JSON.parse(process.env.SPECS).map((s) => bootHost(s)))
        .then((hs) => { console.log(JSON.stringify(hs.map((h) => h.bootMs))); process.exit(0); })
        .catch((e) => { console.error(e); process.exit(1); });`;
    const child = spawn(process.execPath, ["--import", "tsx", "-e", code], {
      env: { ...process.env, SPECS: JSON.stringify(specs) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    const exitCode = await new Promise((r) => child.once("exit", r));
    assert.equal(exitCode, 0);
    console.log(`booted by child process in ${out.trim()} ms`);

    const states = specs.map((s) => readHostState(s.stateDir)!);
    const pidNses = states.map((s) => namespaceOf(s.leaderPid, "pid")!);
    for (const s of states) {
      assert.ok(isOurNspawn(s.nspawnPid, s.merged, s.nspawnStartTime), `${s.name} still running after its parent exited`);
      const r = await execInContainer(s.leaderPid, ["cloud-init", "status", "--wait"], { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.ok(existsSync(path.join(s.merged, "root/booted")));
    }

    const report = await stopHostFromState(specs[0]!.stateDir);
    assert.equal(report.stopped, true);
    assert.equal(report.killed, false, "clean shutdown within the timeout");
    assert.equal(isRunning(states[0]!.nspawnPid), false);
    assert.deepEqual(processesInNamespace(pidNses[0]!), []);
    assert.deepEqual(procMountsMentioning(specs[0]!.stateDir), []);
    assert.equal(isRunning(states[1]!.nspawnPid), true, "the other host is untouched");

    const reports = await cleanupStale(hostsRoot);
    assert.deepEqual(reports.map((r) => [path.basename(r.stateDir), r.stopped]), [["lab-lb-2", true]]);
    assert.equal(isRunning(states[1]!.nspawnPid), false);
    assert.deepEqual(processesInNamespace(pidNses[1]!), []);
    assert.deepEqual(procMountsMentioning(hostsRoot), []);
  });
});

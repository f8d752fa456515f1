import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { childrenOf, isRunning, namespaceOf, parseProcStat, pidsInSamePidNamespace, readCmdline, readProcStat } from "./procfs";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("procfs", () => {
  test("parses stat lines whose comm holds spaces and parentheses", () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = "S"; // field 3: state
    fields[1] = "77"; // field 4: ppid
    fields[19] = "987654"; // field 22: starttime
    const st = parseProcStat(`4242 (we (ird) x) ${fields.join(" ")}\n`);
    assert.deepEqual(st, { pid: 4242, comm: "we (ird) x", state: "S", ppid: 77, startTime: 987654 });
  });

  test("reads this process: parent, start time, argv, namespaces", () => {
    const st = readProcStat(process.pid)!;
    assert.equal(st.ppid, process.ppid);
    assert.ok(st.startTime > 0);
    assert.ok(readCmdline(process.pid).some((a) => a.endsWith("procfs.test.ts")));
    assert.match(namespaceOf(process.pid, "pid")!, /^pid:\[\d+\]$/);
    assert.ok(pidsInSamePidNamespace(process.pid).includes(process.pid));
    assert.equal(readProcStat(0x7ffffff0), null);
  });

  test("children of a process, and zombies count as not running", async () => {
    // sh forks `true`, then execs into sleep, which never reaps it: a zombie child.
    const parent = spawn("sh", ["-c", "true & exec sleep 5"], { stdio: "ignore" });
    try {
      let zombie = 0;
      for (let i = 0; i < 100 && !zombie; i++) {
        await sleep(20);
        zombie = childrenOf(parent.pid!).find((c) => c.state === "Z")?.pid ?? 0;
      }
      assert.ok(zombie, "a zombie child appeared");
      assert.ok(readProcStat(zombie), "the zombie still has a /proc entry");
      assert.equal(isRunning(zombie), false);
      assert.equal(isRunning(parent.pid!), true);
      assert.deepEqual(readCmdline(parent.pid!), ["sleep", "5"]);
    } finally {
      parent.kill("SIGKILL");
    }
    await new Promise((r) => (parent.exitCode !== null || parent.signalCode !== null ? r(null) : parent.once("exit", r)));
    assert.equal(isRunning(parent.pid!), false);
  });

  test("argv keeps empty arguments", async () => {
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 5000)", "", "x"], { stdio: "ignore" });
    try {
      await sleep(100);
      assert.deepEqual(readCmdline(child.pid!).slice(-3), ["setTimeout(() => {}, 5000)", "", "x"]);
    } finally {
      child.kill("SIGKILL");
    }
  });
});

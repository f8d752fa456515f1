import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { withFileLock } from "./fileLock";

const dir = mkdtempSync(path.join(tmpdir(), "drr-lock-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("withFileLock", () => {
  test("concurrent holders never overlap, and waiters are told they wait", async () => {
    const lock = path.join(dir, "a.lock");
    let active = 0;
    let maxActive = 0;
    let waits = 0;
    const work = () =>
      withFileLock(
        lock,
        async () => {
          active++;
          maxActive = Math.max(maxActive, active);
          await sleep(150);
          active--;
        },
        { onWait: () => waits++ },
      );
    await Promise.all([work(), work(), work()]);
    assert.equal(maxActive, 1);
    assert.equal(waits, 2);
  });

  test("returns fn's value and releases the lock when fn throws", async () => {
    const lock = path.join(dir, "b.lock");
    assert.equal(await withFileLock(lock, async () => 42), 42);
    await assert.rejects(withFileLock(lock, async () => Promise.reject(new Error("boom"))), /boom/);
    let waited = false;
    await withFileLock(lock, async () => undefined, { onWait: () => (waited = true) });
    assert.equal(waited, false, "lock should be free right after a throwing holder");
  });

  test("times out while another holder keeps it", async () => {
    const lock = path.join(dir, "c.lock");
    let release!: () => void;
    const held = withFileLock(lock, () => new Promise<void>((r) => (release = r)));
    try {
      await sleep(200);
      await assert.rejects(withFileLock(lock, async () => 1, { timeoutMs: 1000 }), /timed out/);
    } finally {
      release();
      await held;
    }
  });

  test("a holder process killed with SIGKILL does not leave the lock taken", async () => {
    const lock = path.join(dir, "d.lock");
    const code = `require(${JSON.stringify(path.join(__dirname, "fileLock.ts"))}).withFileLock(${JSON.stringify(lock)}, () => { console.log("held"); return new Promise(() => {}); })`;
    const child = spawn(process.execPath, ["--import", "tsx", "-e", code], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => child.stdout!.on("data", (d: Buffer) => d.toString().includes("held") && resolve()));
    let waited = false;
    const before = Date.now();
    const pending = withFileLock(lock, async () => Date.now(), { timeoutMs: 10_000, onWait: () => (waited = true) });
    await sleep(300);
    process.kill(child.pid!, "SIGKILL");
    const acquiredAt = await pending;
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once("exit", r)));
    assert.equal(waited, true, "the child really held the lock");
    assert.ok(acquiredAt - before < 5_000, `acquired ${acquiredAt - before} ms after start`);
  });
});

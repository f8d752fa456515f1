import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { runChecked, runCommand } from "./runCommand";

/** Exists and is not a zombie (orphans are reaped late on these machines). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

describe("runCommand", () => {
  test("feeds stdin, collects output, reports every line including an unterminated last one", async () => {
    const lines: string[] = [];
    const r = await runCommand("sh", ["-c", "cat; echo err >&2; printf tail"], { input: "a\nb\n", onLine: (l) => lines.push(l) });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "a\nb\ntail");
    assert.equal(r.stderr, "err\n");
    assert.deepEqual([...lines].sort(), ["a", "b", "err", "tail"]);
  });

  test("a timeout kills the whole process group", async () => {
    const t = Date.now();
    const r = await runCommand("sh", ["-c", "sleep 30 & echo bg $!; sleep 30; echo never"], { timeoutMs: 300 });
    assert.equal(r.timedOut, true);
    assert.equal(r.signal, "SIGKILL");
    assert.ok(Date.now() - t < 3_000, `took ${Date.now() - t} ms`);
    const bg = Number(/bg (\d+)/.exec(r.stdout)![1]);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(alive(bg), false, "the background grandchild died with its group");
  });

  test("does not hang on a background process that keeps the pipes open", async () => {
    const t = Date.now();
    const r = await runCommand("sh", ["-c", "sleep 30 & echo started $!"], {});
    assert.ok(Date.now() - t < 3_000, `took ${Date.now() - t} ms`);
    assert.equal(r.code, 0);
    const bg = Number(/started (\d+)/.exec(r.stdout)![1]);
    process.kill(bg, "SIGKILL");
  });

  test("runChecked throws with the exit code and output tail", async () => {
    await assert.rejects(runChecked("sh", ["-c", "echo boom >&2; exit 3"]), /exit 3[\s\S]*boom/);
  });
});

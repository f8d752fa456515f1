import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ensureCachedTree } from "./cachedTree";
import { mountsUnder } from "./mountTable";

const top = mkdtempSync(path.join(tmpdir(), "drr-cache-"));
after(() => {
  for (const m of mountsUnder(top)) execFileSync("umount", ["--lazy", m.target]);
  rmSync(top, { recursive: true, force: true });
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const freshCache = () => mkdtempSync(path.join(top, "c-"));
const buildDirs = (cacheDir: string) => readdirSync(cacheDir).filter((f) => f.startsWith("build-"));

describe("ensureCachedTree", () => {
  test("concurrent callers of one key build it once and share the result", async () => {
    const cacheDir = freshCache();
    let builds = 0;
    const build = async (tmpRoot: string) => {
      builds++;
      await sleep(200);
      writeFileSync(path.join(tmpRoot, "content"), "v1");
    };
    const [a, b] = await Promise.all([ensureCachedTree({ cacheDir, key: "k1", build }), ensureCachedTree({ cacheDir, key: "k1", build })]);
    assert.equal(builds, 1);
    assert.equal(a.path, b.path);
    assert.deepEqual([a.built, b.built].sort(), [false, true]);
    assert.equal(readFileSync(path.join(a.path, "content"), "utf8"), "v1");
    assert.deepEqual(buildDirs(cacheDir), []);
    assert.equal((await ensureCachedTree({ cacheDir, key: "k1", build })).built, false);
  });

  test("builds of different keys never run at the same time", async () => {
    const cacheDir = freshCache();
    let active = 0;
    let maxActive = 0;
    const build = async () => {
      maxActive = Math.max(maxActive, ++active);
      await sleep(150);
      active--;
    };
    const res = await Promise.all(["a", "b", "c"].map((key) => ensureCachedTree({ cacheDir, key, build })));
    assert.deepEqual(res.map((r) => r.built), [true, true, true]);
    assert.equal(maxActive, 1);
  });

  test("a failed build leaves neither the final tree nor scratch behind; the next call rebuilds", async () => {
    const cacheDir = freshCache();
    await assert.rejects(
      ensureCachedTree({
        cacheDir,
        key: "bad",
        build: async (tmpRoot) => {
          writeFileSync(path.join(tmpRoot, "half"), "x");
          throw new Error("apt failed");
        },
      }),
      /apt failed/,
    );
    assert.equal(existsSync(path.join(cacheDir, "rootfs-bad")), false);
    assert.deepEqual(buildDirs(cacheDir), []);
    const ok = await ensureCachedTree({ cacheDir, key: "bad", build: async (t) => writeFileSync(path.join(t, "ok"), "") });
    assert.equal(ok.built, true);
  });

  test("scratch of a crashed build of the same key is removed, other keys' scratch is not", async () => {
    const cacheDir = freshCache();
    mkdirSync(path.join(cacheDir, "build-k-999999/rootfs"), { recursive: true });
    mkdirSync(path.join(cacheDir, "build-other-999999"), { recursive: true });
    await ensureCachedTree({ cacheDir, key: "k", build: async () => undefined });
    assert.deepEqual(buildDirs(cacheDir), ["build-other-999999"]);
  });

  test("refuses to delete scratch that still has something mounted in it", async () => {
    const cacheDir = freshCache();
    await assert.rejects(
      ensureCachedTree({
        cacheDir,
        key: "m",
        build: async (tmpRoot) => {
          mkdirSync(path.join(tmpRoot, "dev"));
          execFileSync("mount", ["-t", "tmpfs", "tmpfs", path.join(tmpRoot, "dev")]);
          writeFileSync(path.join(tmpRoot, "dev", "precious"), "");
          throw new Error("bake died with /dev still bound");
        },
      }),
      /refusing to delete/,
    );
    const mounted = mountsUnder(cacheDir);
    assert.equal(mounted.length, 1);
    assert.ok(existsSync(path.join(mounted[0]!.target, "precious")), "nothing under the mount was deleted");
    execFileSync("umount", [mounted[0]!.target]);
  });

  test("another process's build is waited for and reused", async () => {
    const cacheDir = freshCache();
    const code = `
      require(${JSON.stringify(path.join(__dirname, "cachedTree.ts"))}).ensureCachedTree({
        cacheDir: ${JSON.stringify(cacheDir)}, key: "x",
        build: async (t) => { console.log("building"); await new Promise((r) => setTimeout(r, 800)); require("fs").writeFileSync(t + "/by", "child"); },
      }).then((r) => console.log(JSON.stringify(r)));`;
    const child = spawn(process.execPath, ["--import", "tsx", "-e", code], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    await new Promise<void>((resolve) =>
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("building")) resolve();
      }),
    );
    let waited = false;
    const mine = await ensureCachedTree({ cacheDir, key: "x", build: async () => assert.fail("must not build"), log: () => (waited = true) });
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
    assert.equal(waited, true);
    assert.equal(mine.built, false);
    assert.equal(readFileSync(path.join(mine.path, "by"), "utf8"), "child");
    assert.match(out, /"built":true/);
  });
});

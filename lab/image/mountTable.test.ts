import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { mountsUnder, parseProcMounts, unmountAllUnder } from "./mountTable";

const SAMPLE = [
  "/dev/vda / ext4 rw,relatime 0 0",
  "overlay /srv/lab/h1/merged overlay rw,lowerdir=/img,upperdir=/srv/lab/h1/upper 0 0",
  "tmpfs /srv/lab/h1/merged/run tmpfs rw 0 0",
  "tmpfs /srv/lab/h10/merged tmpfs rw 0 0",
  "tmpfs /srv/with\\040space tmpfs rw 0 0",
  "",
].join("\n");

describe("mount table", () => {
  test("decodes the kernel's octal escapes in paths", () => {
    const m = parseProcMounts(SAMPLE);
    assert.equal(m.length, 5);
    assert.equal(m[4]!.target, "/srv/with space");
    assert.equal(m[1]!.fstype, "overlay");
  });

  test("mountsUnder matches whole path components and lists deepest first", () => {
    const under = mountsUnder("/srv/lab/h1", SAMPLE).map((m) => m.target);
    assert.deepEqual(under, ["/srv/lab/h1/merged/run", "/srv/lab/h1/merged"]);
    assert.deepEqual(
      mountsUnder("/srv/with space", SAMPLE).map((m) => m.target),
      ["/srv/with space"],
    );
  });

  describe("unmountAllUnder on real mounts", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "drr-mnt-"));
    after(() => {
      for (const m of mountsUnder(dir)) execFileSync("umount", ["--lazy", m.target]);
      rmSync(dir, { recursive: true, force: true });
    });

    test("removes nested and stacked mounts, leaving none", async () => {
      mkdirSync(path.join(dir, "a"));
      execFileSync("mount", ["-t", "tmpfs", "tmpfs", path.join(dir, "a")]);
      mkdirSync(path.join(dir, "a", "b"));
      execFileSync("mount", ["-t", "tmpfs", "tmpfs", path.join(dir, "a", "b")]);
      execFileSync("mount", ["-t", "tmpfs", "tmpfs", path.join(dir, "a", "b")]);
      assert.equal(mountsUnder(dir).length, 3);
      const done = await unmountAllUnder(dir);
      assert.equal(done.length, 3);
      assert.deepEqual(mountsUnder(dir), []);
    });
  });
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "child_process";
import { PROJECT_DIR } from "./support/program";

test("every shell script in the repository passes shellcheck", () => {
    const files = execFileSync("git", ["ls-files", "*.sh", ".ci/run"], { cwd: PROJECT_DIR, encoding: "utf8" }).split("\n").filter(Boolean);
    assert.ok(files.length >= 8, `found only ${files.length} scripts`);
    const r = spawnSync("shellcheck", ["-s", "bash", ...files], { cwd: PROJECT_DIR, encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
});

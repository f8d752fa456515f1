import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { shellQuote } from "./wiringScript";

/** The wiring script and the lab's `sh -c` command lines (SQL, URLs, paths) quote with it: a quoted word must reach the program unchanged. */
describe("shellQuote", () => {
    test("any text without NUL reaches the program as one argument, unchanged", () => {
        const texts = fc.string({ unit: "binary", maxLength: 40 }).filter((t) => !t.includes("\0"));
        const samples = fc.sample(texts, 150);
        samples.push("it's", "$(touch /nonexistent/x)", "`id`", "a'b'\"c\"\\", "SET @t = NOW(6); SELECT '$HOME'", "", "'");
        // One shell for every sample, each echoed between separators, so the test stays fast.
        const script = samples.map((t) => `printf '%s\\036' ${shellQuote(t)}`).join("; ");
        const r = spawnSync("sh", ["-c", script], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.stdout.split("\u001e").slice(0, -1), samples);
    });
});

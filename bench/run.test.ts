/**
 * The bench end to end on its local demonstration: short loads on 127.0.0.1, then the files it writes.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { proxyCost } from "./demo/proxyCost";
import { stallWrites } from "./demo/stallWrites";
import { runBench } from "./run";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-run-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test("demo scenarios write report.md, a well-formed timeline.svg and the raw records", async () => {
    const lines: string[] = [];
    const r = await runBench([proxyCost, stallWrites], { outDir: dir, durationSec: 2, rate: 50, concurrency: 64, timeoutMs: 300, title: "bench test", log: (l) => lines.push(l) });
    assert.deepEqual(fs.readdirSync(path.join(dir, "records")).sort(), ["proxy-direct.ndjson", "proxy-via.ndjson", "stall-writes.ndjson"]);
    const md = fs.readFileSync(r.reportPath, "utf8");
    assert.match(md, /^# bench test\n/);
    assert.match(md, /^- load per measurement: 50 req\/s for 2 s \(open loop\)$/m);
    const ratioRow = md.split("\n").find((l) => l.includes("| ok requests/s")) ?? "";
    assert.match(ratioRow, /\| through proxy +\| +\d+(\.\d+)? \| direct to app +\| +\d+(\.\d+)? \| +\d+(\.\d+)? \|$/);
    assert.match(md, /\| acknowledged writes missing +\| writes +\| demo app store +\| +0 \|/);
    assert.match(md, /^- at 0\.6 s: app stops answering$/m);
    const lint = spawnSync("xmllint", ["--noout", r.svgPath], { encoding: "utf8" });
    assert.equal(lint.status, 0, lint.stderr);
    const svg = fs.readFileSync(r.svgPath, "utf8");
    for (const label of ["local proxy vs direct (demo)", "app stops answering", "proxy requests/s (req/s, left axis)", "stall p99 (ms, right axis)"]) {
        assert.ok(svg.includes(label), label);
    }
    assert.equal(r.outcomes[1].timeline.seconds, 2);
    assert.ok(lines.includes("== local proxy vs direct (demo)"));
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as path from "path";
import * as digitalocean from "@pulumi/digitalocean";
import { DigitalOceanModel } from "./digitalOceanModel";
import { runProgram } from "./runProgram";

const opts = { project: "p", stack: "s", config: {} };

test("runs a program to completion, and again in the same process", async () => {
    const model = new DigitalOceanModel();
    const out = await runProgram({ ...opts, mocks: model.mocks(), program: () => ({ ip: new digitalocean.ReservedIp("ip", { region: "nyc3" }).ipAddress }) });
    assert.equal(out.ip, "198.51.100.10");
    const again = new DigitalOceanModel();
    await runProgram({ ...opts, mocks: again.mocks(), program: () => ({ t: new digitalocean.Tag("t", { name: "x" }).name }) });
    assert.equal(again.ofKind("Tag").length, 1);
});

test("a resource that fails to create rejects the run, without crashing the process", () => {
    // In its own process: node's test runner would count the SDK's own rejection against this test.
    const r = spawnSync(process.execPath, ["--import", require.resolve("tsx"), path.join(__dirname, "runProgram.fixture.ts")], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^rejected: .*droplet could not boot/m);
});

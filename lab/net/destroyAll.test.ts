import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { destroyAll, registerLabProcess } from "./destroyAll";
import { createFabric, ensureVpc } from "./fabric";
import { createHostNetns } from "./hostNetns";
import { pidAlive, readPidFile } from "./processes";
import { leftovers, testPrefix } from "./testSupport";

/** Starts `sleep` (optionally in a netns) detached, as a lab would; returns its PID. */
function startSleeper(netns?: string): number {
  const argv = netns ? ["ip", "netns", "exec", netns, "sleep", "300"] : ["sleep", "300"];
  const child = spawn(argv[0] as string, argv.slice(1), { detached: true, stdio: "ignore" });
  child.unref();
  return child.pid as number;
}

describe("destroyAll", { timeout: 30_000 }, () => {
  const victim = testPrefix();
  const bystander = testPrefix();
  const pids: number[] = [];

  after(async () => {
    await destroyAll(victim);
    await destroyAll(bystander);
    for (const p of pids) if (pidAlive(p)) process.kill(p, "SIGKILL");
  });

  test("removes namespaces, processes inside them, registered processes, /etc/netns and state; spares other labs", async () => {
    for (const prefix of [victim, bystander]) {
      const fabric = await createFabric({ prefix, interRegionDelayMs: 20 });
      const vpc = await ensureVpc(fabric, { name: "v", region: "r1", ipRange: "10.150.0.0/20" });
      await createHostNetns({ fabric, name: "h1", publicIp: "198.51.100.10", vpc: { bridge: vpc.bridge, privateIp: "10.150.0.2", prefixLen: 20 }, nameservers: ["192.0.2.53"] });
    }
    const relay = readPidFile(path.join("/run/drr-lab", victim, "relay.pid"));
    assert.ok(relay !== undefined && pidAlive(relay));
    const inside = startSleeper(`${victim}-h-h1`);
    const outside = startSleeper();
    const other = startSleeper(`${bystander}-h-h1`);
    pids.push(inside, outside, other);
    registerLabProcess(victim, outside, "test sleeper");
    await new Promise((r) => setTimeout(r, 100));

    const report = await destroyAll(victim);
    assert.deepEqual([...report.namespaces].sort(), [`${victim}-delay`, `${victim}-fabric`, `${victim}-h-h1`]);
    for (const p of [inside, outside, relay]) assert.ok(report.killedPids.includes(p), `pid ${p} not reported`);
    assert.deepEqual(await leftovers(victim, [inside, outside, relay]), []);
    assert.equal(fs.existsSync(path.join("/run/drr-lab", victim)), false);

    assert.ok(pidAlive(other), "a process of another lab was killed");
    assert.deepEqual((await leftovers(bystander)).length, 4, "the other lab must keep its 3 namespaces and /etc/netns dir");
    assert.deepEqual(await destroyAll(victim), { namespaces: [], killedPids: [] }, "second run is a no-op");
  });

  test("refuses prefixes that could match other labs", async () => {
    await assert.rejects(destroyAll(""), /prefix/);
    await assert.rejects(destroyAll("t-"), /prefix/);
  });
});

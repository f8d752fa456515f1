import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { run, runInNetns } from "./exec";
import { netnsEtcDir, renderHostsFile, renderResolvConf, writeNetnsEtc } from "./hostPlumbing";
import { testPrefix } from "./testSupport";

const netns = `${testPrefix()}-h-etc`;

describe("per-netns /etc files", () => {
  after(async () => {
    await run("ip", ["netns", "del", netns], { allowFail: true });
    fs.rmSync(netnsEtcDir(netns), { recursive: true, force: true });
  });

  test("renderers produce what glibc expects", () => {
    assert.equal(renderResolvConf(["192.0.2.53"]), "nameserver 192.0.2.53\noptions timeout:1 attempts:2\n");
    assert.match(renderHostsFile([{ ip: "10.110.0.2", names: ["db-1", "db-1.internal"] }]), /^127\.0\.0\.1\tlocalhost\n[\s\S]*^10\.110\.0\.2\tdb-1 db-1\.internal$/m);
  });

  test("ip netns exec sees the hosts file and resolv.conf; empty settings remove them", async () => {
    await run("ip", ["netns", "add", netns]);
    writeNetnsEtc(netns, { nameservers: ["192.0.2.53"], hosts: [{ ip: "10.110.0.2", names: ["db-1"] }] });
    assert.match((await runInNetns(netns, "getent", ["hosts", "db-1"])).stdout, /^10\.110\.0\.2\s+db-1$/m);
    assert.match((await runInNetns(netns, "cat", ["/etc/resolv.conf"])).stdout, /^nameserver 192\.0\.2\.53$/m);
    writeNetnsEtc(netns, {});
    assert.deepEqual(fs.readdirSync(netnsEtcDir(netns)), []);
    assert.equal((await runInNetns(netns, "getent", ["hosts", "db-1"], { allowFail: true })).code, 2);
  });
});

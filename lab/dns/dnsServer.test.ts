import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runInNetns } from "../net/exec";
import { destroyAll } from "../net/destroyAll";
import { Fabric, createFabric, fabricState } from "../net/fabric";
import { createSpecialHosts } from "../net/hostNetns";
import { pidAlive } from "../net/processes";
import { leftovers, testPrefix } from "../net/testSupport";
import { DnsServer, openDns, servedSerial, startDns, stopDnsFromState } from "./dnsServer";
import type { DnsRecord } from "./dnsTypes";

const prefix = testPrefix();
const clientNs = `${prefix}-h-client`;
const dnsNs = `${prefix}-h-dns`;
const ZONE = "example.test";
const twoLbs: DnsRecord[] = [
  { type: "A", name: "www", value: "203.0.113.10", ttl: 30 },
  { type: "A", name: "www", value: "203.0.113.11", ttl: 30 },
  { type: "TXT", name: "@", value: "lab", ttl: 300 },
];

/** Answer sections of `count` identical queries sent by one dig run from the client (via its resolv.conf). */
async function askMany(name: string, count: number): Promise<string[][]> {
  const args = ["+noall", "+answer", "+time=1", "+tries=1"];
  for (let i = 0; i < count; i++) args.push(name, "A");
  const { stdout } = await runInNetns(clientNs, "dig", args);
  const lines = stdout.split("\n").filter((l) => l.trim());
  const per = lines.length / count;
  assert.ok(Number.isInteger(per) && per > 0, `unexpected dig output:\n${stdout}`);
  return Array.from({ length: count }, (_, i) => lines.slice(i * per, (i + 1) * per));
}

describe("lab DNS (BIND) in a netns, queried from the client", { timeout: 60_000 }, () => {
  let fabric: Fabric;
  let dns: DnsServer;
  let dnsIp: string;
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-dns-test-"));
  const pids: number[] = [];

  before(async () => {
    fabric = await createFabric({ prefix, interRegionDelayMs: 0 });
    const plan = fabricState(fabric).plan;
    dnsIp = plan.dnsIp;
    await createSpecialHosts(fabric, plan);
    dns = await startDns({ netns: dnsNs, listenAddress: dnsIp, stateDir, zones: [{ name: ZONE, records: twoLbs }] });
    pids.push(dns.pid);
  });

  after(async () => {
    await stopDnsFromState(stateDir);
    await destroyAll(prefix);
    fs.rmSync(stateDir, { recursive: true, force: true });
    assert.deepEqual(await leftovers(prefix, pids), []);
  });

  test("both A records come back in both orders (round-robin), with the declared TTL", async () => {
    const answers = await askMany(`www.${ZONE}`, 20);
    const orders = new Set(answers.map((a) => a.map((l) => l.split(/\s+/)[4]).join(",")));
    assert.deepEqual([...orders].sort(), ["203.0.113.10,203.0.113.11", "203.0.113.11,203.0.113.10"]);
    for (const a of answers) for (const line of a) assert.equal(line.split(/\s+/)[1], "30", line);
  });

  test("glibc in the client resolves the lab name through /etc/netns resolv.conf", async () => {
    const { stdout } = await runInNetns(clientNs, "getent", ["ahostsv4", `www.${ZONE}`]);
    assert.match(stdout, /203\.0\.113\.10/);
    assert.match(stdout, /203\.0\.113\.11/);
  });

  test("authoritative only: unknown name NXDOMAIN, foreign zone REFUSED, both immediately", async () => {
    const t0 = Date.now();
    const nx = await runInNetns(clientNs, "dig", [`@${dnsIp}`, `nope.${ZONE}`, "A", "+time=1", "+tries=1"]);
    assert.match(nx.stdout, /status: NXDOMAIN/);
    assert.match(nx.stdout, /flags: qr aa/);
    const foreign = await runInNetns(clientNs, "dig", [`@${dnsIp}`, "www.google.com", "A", "+time=1", "+tries=1"]);
    assert.match(foreign.stdout, /status: REFUSED/);
    assert.ok(Date.now() - t0 < 900, "no timeouts involved");
  });

  test("setRecords: a removed record disappears as soon as the call resolves, with a higher serial", async () => {
    const before = dns.serial(ZONE);
    await dns.setRecords(ZONE, twoLbs.filter((r) => r.value !== "203.0.113.11"));
    assert.ok(dns.serial(ZONE) > before);
    assert.equal(await servedSerial(dnsNs, dnsIp, ZONE), dns.serial(ZONE));
    for (const a of await askMany(`www.${ZONE}`, 5)) assert.deepEqual(a.map((l) => l.split(/\s+/)[4]), ["203.0.113.10"]);
  });

  test("back-to-back updates through a handle reopened from the state dir all land", async () => {
    const again = openDns(stateDir);
    assert.equal(again.pid, dns.pid);
    await again.setRecords(ZONE, twoLbs);
    await again.setRecords(ZONE, [...twoLbs, { type: "A", name: "new", value: "203.0.113.20", ttl: 30 }]);
    const a = await askMany(`new.${ZONE}`, 1);
    assert.match(a[0]?.[0] ?? "", /203\.0\.113\.20/);
  });

  test("a zone named-checkzone rejects is refused and the old data keeps being served", async () => {
    const serial = dns.serial(ZONE);
    await assert.rejects(dns.setRecords(ZONE, [{ type: "CNAME", name: "www", value: "x.", ttl: 30 }, ...twoLbs]), /CNAME/);
    assert.equal(dns.serial(ZONE), serial);
    assert.equal((await askMany(`www.${ZONE}`, 1))[0]?.length, 2);
  });

  test("startDns again with the same zones reuses the running server", async () => {
    const same = await startDns({ netns: dnsNs, listenAddress: dnsIp, stateDir, zones: [{ name: ZONE, records: twoLbs }] });
    assert.equal(same.pid, dns.pid);
  });

  test("stop ends named; stopping again is fine", async () => {
    await dns.stop();
    assert.equal(pidAlive(dns.pid), false);
    await stopDnsFromState(stateDir);
    assert.throws(() => openDns(stateDir), /no running lab DNS/);
  });
});

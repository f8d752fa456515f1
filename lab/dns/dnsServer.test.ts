import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runInNetns } from "../net/exec";
import { destroyAll } from "../net/destroyAll";
import { Fabric, createFabric, fabricState } from "../net/fabric";
import { createSpecialHosts } from "../net/hostNetns";
import { pidAlive } from "../net/processes";
import { leftovers, testPrefix } from "../net/testSupport";
import { DnsServer, openDns, readZoneRecords, servedSerial, servedZones, startDns, stopDnsFromState, updateZoneRecords } from "./dnsServer";
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

const FIXTURE = path.join(__dirname, "dnsStore.fixture.ts");

/** Runs dnsStore.fixture.ts in a process of its own (as the DO API server is); resolves its output line. */
function inOtherProcess(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", require.resolve("tsx"), FIXTURE, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`fixture ${args.join(" ")} exited ${code}: ${err}`))));
  });
}

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
  /** Addresses of one A query from the client straight to the server, sorted. */
  const addresses = async (name: string): Promise<string[]> => {
    const { stdout } = await runInNetns(clientNs, "dig", ["+short", "+time=1", "+tries=1", `@${dnsIp}`, name, "A"]);
    return stdout.split("\n").filter(Boolean).sort();
  };

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

  test("the store gives every record an id; a record's own id (the program's) is kept", async () => {
    const records = readZoneRecords(stateDir, ZONE) ?? [];
    assert.equal(records.length, twoLbs.length);
    assert.equal(new Set(records.map((r) => r.id)).size, records.length);
    for (const r of records) assert.ok(Number.isInteger(r.id) && r.id > 100_000_000, `store id ${r.id}`);
    await dns.update(ZONE, (current) => ({ records: [...current, { id: 400031, type: "A", name: "app", value: "203.0.113.31", ttl: 30 }], result: undefined }));
    assert.deepEqual(readZoneRecords(stateDir, ZONE)?.find((r) => r.name === "app"), { id: 400031, type: "A", name: "app", value: "203.0.113.31", ttl: 30 });
    assert.deepEqual(servedZones(stateDir), [ZONE]);
    assert.equal(readZoneRecords(stateDir, "nope.test"), undefined);
    assert.equal(await updateZoneRecords(stateDir, "nope.test", () => ({ result: 1 })), undefined);
  });

  test("another process deletes and creates a record through the stateDir: the serial bumps and dig sees each change", async () => {
    const withdrawn = readZoneRecords(stateDir, ZONE)?.find((r) => r.name === "www" && r.value === "203.0.113.11");
    assert.ok(withdrawn, "www 203.0.113.11 is in the store");
    assert.deepEqual(await addresses(`www.${ZONE}`), ["203.0.113.10", "203.0.113.11"]);
    const serial = dns.serial(ZONE);
    assert.equal(await inOtherProcess(stateDir, ZONE, "delete", String(withdrawn.id)), "deleted");
    assert.equal(dns.serial(ZONE), serial + 1);
    assert.equal(await servedSerial(dnsNs, dnsIp, ZONE), serial + 1);
    assert.deepEqual(await addresses(`www.${ZONE}`), ["203.0.113.10"]);
    assert.equal(await inOtherProcess(stateDir, ZONE, "delete", String(withdrawn.id)), "missing");
    assert.equal(dns.serial(ZONE), serial + 1, "a no-op change publishes nothing");

    const created = Number(await inOtherProcess(stateDir, ZONE, "add", "www", "203.0.113.12"));
    assert.ok(created > withdrawn.id, `new id ${created} is fresh`);
    assert.deepEqual(await addresses(`www.${ZONE}`), ["203.0.113.10", "203.0.113.12"]);
    assert.equal(await servedSerial(dnsNs, dnsIp, ZONE), serial + 2);
    assert.equal(await inOtherProcess(stateDir, "nope.test", "delete", "1"), "no zone");
  });

  test("two processes and this one changing the zone at once lose none of each other's records", async () => {
    const [a, b] = await Promise.all([
      inOtherProcess(stateDir, ZONE, "add", "pa", "203.0.113.41", "4"),
      inOtherProcess(stateDir, ZONE, "add", "pb", "203.0.113.42", "4"),
      dns.update(ZONE, (current) => ({ records: [...current, { id: 400032, type: "A", name: "pc", value: "203.0.113.43", ttl: 30 }], result: undefined })),
    ]);
    const ids = [...(a as string).split(" "), ...(b as string).split(" ")].map(Number);
    const stored = readZoneRecords(stateDir, ZONE) ?? [];
    assert.equal(new Set(ids).size, 8, "every created record got its own id");
    for (const id of [...ids, 400032]) assert.ok(stored.some((r) => r.id === id), `record ${id} survived`);
    for (const name of ["pa-0", "pa-3", "pb-0", "pb-3", "pc"]) assert.equal((await addresses(`${name}.${ZONE}`)).length, 1, `${name} is served`);
    assert.deepEqual(await addresses(`www.${ZONE}`), ["203.0.113.10", "203.0.113.12"], "www untouched");
  });

  test("startDns with keepExistingRecords keeps what other processes changed, also when named restarts for a new zone", async () => {
    const before = readZoneRecords(stateDir, ZONE);
    const same = await startDns({ netns: dnsNs, listenAddress: dnsIp, stateDir, zones: [{ name: ZONE, records: [] }], keepExistingRecords: true });
    assert.equal(same.pid, dns.pid);
    assert.deepEqual(readZoneRecords(stateDir, ZONE), before);
    const grown = await startDns({
      netns: dnsNs, listenAddress: dnsIp, stateDir, keepExistingRecords: true,
      zones: [{ name: ZONE, records: [] }, { name: "second.test", records: [{ type: "A", name: "www", value: "203.0.113.50", ttl: 30 }] }],
    });
    pids.push(grown.pid);
    assert.notEqual(grown.pid, dns.pid, "a new zone set restarts named");
    assert.deepEqual(readZoneRecords(stateDir, ZONE), before);
    assert.deepEqual(await addresses(`www.${ZONE}`), ["203.0.113.10", "203.0.113.12"]);
    assert.deepEqual(await addresses("www.second.test"), ["203.0.113.50"]);
    assert.deepEqual(servedZones(stateDir), [ZONE, "second.test"].sort());
  });

  test("stop ends named; stopping again is fine", async () => {
    await dns.stop();
    assert.equal(pidAlive(dns.pid), false);
    await stopDnsFromState(stateDir);
    assert.throws(() => openDns(stateDir), /no running lab DNS/);
  });
});

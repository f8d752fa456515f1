import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { allocatePrivateIp, allocatePublicIp } from "./allocate";
import { destroyAll } from "./destroyAll";
import { run, runInNetns } from "./exec";
import { Fabric, createFabric, destroyFabric, ensureVpc, fabricState, peer, unpeer } from "./fabric";
import { blackhole, heal, partition, unblackhole } from "./faults";
import { createHostNetns, destroyHostNetns } from "./hostNetns";
import { readPidFile, stopPid } from "./processes";
import { checkFabric } from "./fabricHealth";
import { allocateReservedIp, assignReservedIp } from "./reservedIp";
import { NameServer, curl, leftovers, ping, startNameServer, tcpProbe, testPrefix, udpAsk } from "./testSupport";
import type { VpcRecord } from "./fabricState";

const prefix = testPrefix();
const ns = (host: string): string => `${prefix}-h-${host}`;
const DELAY = 40;
// Two crossings of the relay (there and back) plus scheduling slack.
const CROSS_RTT = { min: 2 * DELAY - 2, max: 2 * DELAY + 50 };
const FAST_MS = 5;
/** Probe timeout where a silent drop is expected (a reply would arrive in well under 10 ms). */
const SHORT = 600;

describe("lab fabric: 2 regions, 4 droplets, client", { timeout: 120_000 }, () => {
  let fabric: Fabric;
  let nyc: VpcRecord;
  let ams: VpcRecord;
  const ip: Record<string, { pub: string; priv: string }> = {};
  const servers: NameServer[] = [];
  let relayPid: number | undefined;

  before(async () => {
    fabric = await createFabric({ prefix, interRegionDelayMs: DELAY });
    relayPid = readPidFile(path.join(fabric.runDir, "relay.pid"));
    nyc = await ensureVpc(fabric, { name: "vpc-nyc1", region: "nyc1", ipRange: "10.110.0.0/20" });
    ams = await ensureVpc(fabric, { name: "vpc-ams3", region: "ams3", ipRange: "10.120.0.0/20" });
    const layout: [string, VpcRecord][] = [
      ["a1", nyc],
      ["a2", nyc],
      ["b1", ams],
      ["b2", ams],
    ];
    // Concurrent, like the mock cloud creating droplets in parallel.
    await Promise.all(
      layout.map(async ([name, vpc]) => {
        const pub = await allocatePublicIp(fabric, name);
        const priv = await allocatePrivateIp(fabric, vpc.name, name);
        ip[name] = { pub, priv };
        await createHostNetns({ fabric, name, publicIp: pub, vpc: { bridge: vpc.bridge, privateIp: priv, prefixLen: vpc.prefixLen } });
      }),
    );
    const plan = fabricState(fabric).plan;
    await createHostNetns({ fabric, name: "client", publicIp: plan.clientIp, nameservers: [plan.dnsIp] });
    for (const h of ["a1", "a2", "b1"]) servers.push(await startNameServer(ns(h), h));
  });

  after(async () => {
    for (const s of servers) await s.stop();
    if (fabric) await destroyFabric(fabric);
    const afterFabric = await leftovers(prefix, relayPid ? [relayPid] : []);
    await destroyAll(prefix);
    assert.deepEqual(afterFabric, [], "destroyFabric left things behind");
    assert.deepEqual(await leftovers(prefix), []);
    assert.equal(fs.existsSync(path.join("/run/drr-lab", prefix)), false);
  });

  const pub = (h: string): string => (ip[h] as { pub: string }).pub;
  const priv = (h: string): string => (ip[h] as { priv: string }).priv;

  test("allocations are distinct and inside the plan's ranges", () => {
    const all = Object.values(ip).flatMap((x) => [x.pub, x.priv]);
    assert.equal(new Set(all).size, all.length);
    assert.match(pub("a1"), /^198\.51\.100\./);
    assert.match(priv("a1"), /^10\.110\.0\./);
    assert.match(priv("b1"), /^10\.120\.0\./);
  });

  test("droplet NICs: public /32 with default via the fabric, private on the VPC, no IPv6", async () => {
    const { stdout: addrs } = await run("ip", ["-n", ns("a1"), "-br", "addr"]);
    assert.match(addrs, new RegExp(`^eth0\\S*\\s+UP\\s+${pub("a1").replace(/\./g, "\\.")}/32\\s*$`, "m"));
    assert.match(addrs, new RegExp(`^eth1\\S*\\s+UP\\s+${priv("a1").replace(/\./g, "\\.")}/20\\s*$`, "m"));
    const { stdout: routes } = await run("ip", ["-n", ns("a1"), "route"]);
    assert.match(routes, /^default via 198\.51\.100\.1 dev eth0 onlink/m);
    assert.match(routes, /^10\.0\.0\.0\/8 via 10\.110\.0\.1 dev eth1/m);
  });

  test("client gets the lab resolver in its /etc/netns resolv.conf", () => {
    const text = fs.readFileSync(`/etc/netns/${ns("client")}/resolv.conf`, "utf8");
    assert.match(text, /^nameserver 192\.0\.2\.53$/m);
  });

  test("intra-VPC private traffic is bridged and fast", async () => {
    const r = await ping(ns("a1"), priv("a2"));
    assert.equal(r.received, 5);
    assert.ok(r.avgMs < FAST_MS, `intra-VPC RTT ${r.avgMs} ms`);
  });

  test("unpeered VPCs cannot talk; peering opens them with inter-region latency; unpeering closes", async () => {
    assert.equal((await ping(ns("a1"), priv("b1"), 1)).received, 0);
    assert.equal((await tcpProbe(ns("a1"), priv("b1"), 80, SHORT)).what, "timeout");

    await peer(fabric, "vpc-nyc1", "vpc-ams3");
    const cross = await ping(ns("a1"), priv("b1"));
    assert.equal(cross.received, 5);
    assert.ok(cross.avgMs >= CROSS_RTT.min && cross.avgMs <= CROSS_RTT.max, `cross-region RTT ${cross.avgMs} ms`);
    const local = await ping(ns("b1"), priv("b2"));
    assert.ok(local.avgMs < FAST_MS, `intra-region RTT ${local.avgMs} ms while peered`);
    assert.equal((await curl(ns("a1"), `http://${priv("b1")}/`)).body, "b1");

    await unpeer(fabric, "vpc-nyc1", "vpc-ams3");
    assert.equal((await tcpProbe(ns("a1"), priv("b1"), 80, SHORT)).what, "timeout");
  });

  test("public traffic: same region fast, cross region delayed, the client is never delayed", async () => {
    const same = await ping(ns("a1"), pub("a2"));
    assert.equal(same.received, 5);
    assert.ok(same.avgMs < FAST_MS, `same-region public RTT ${same.avgMs}`);
    const cross = await ping(ns("a1"), pub("b1"));
    assert.ok(cross.avgMs >= CROSS_RTT.min && cross.avgMs <= CROSS_RTT.max, `cross-region public RTT ${cross.avgMs}`);
    const client = await ping(ns("client"), pub("b1"));
    assert.ok(client.avgMs < FAST_MS, `client RTT ${client.avgMs}`);
  });

  test("a 4 MB transfer crosses the delay loop intact (segmentation and checksums survive the relay)", async () => {
    const r = await runInNetns(ns("b1"), "curl", ["-sS", "-m", "15", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", `http://${pub("a1")}/bulk`]);
    assert.equal(r.stdout, "200 4000000");
  });

  test("reserved IP: dropped while unassigned, follows every move at once, hairpins, crosses regions", async () => {
    const rip = await allocateReservedIp(fabric, "lb-nyc1");
    assert.match(rip, /^203\.0\.113\./);
    assert.equal((await curl(ns("client"), `http://${rip}/`)).exit, 28, "unassigned reserved IP must time out");

    await assignReservedIp(fabric, rip, "a1");
    assert.equal((await curl(ns("client"), `http://${rip}/`)).body, "a1");
    // Same UDP 5-tuple before and after the move: only a conntrack flush lets it reach the new holder.
    assert.equal(await udpAsk(ns("client"), rip, 9999, 40001), "a1");

    await assignReservedIp(fabric, rip, "a2");
    assert.equal((await curl(ns("client"), `http://${rip}/`)).body, "a2");
    assert.equal(await udpAsk(ns("client"), rip, 9999, 40001), "a2");
    assert.equal((await curl(ns("a2"), `http://${rip}/`)).body, "a2", "holder reaching its own reserved IP");
    assert.equal((await curl(ns("a1"), `http://${rip}/`)).body, "a2", "neighbour reaching the reserved IP");

    await assignReservedIp(fabric, rip, "b1");
    assert.equal((await curl(ns("a1"), `http://${rip}/`)).body, "b1", "cross-region via reserved IP");

    await assignReservedIp(fabric, rip, null);
    assert.equal((await curl(ns("client"), `http://${rip}/`)).exit, 28);
  });

  test("blackhole: connects time out (no RST), on public and private addresses; unblackhole restores", async () => {
    const hits = async (h: string): Promise<string> => (await curl(ns("client"), `http://${pub(h)}/udp-hits`)).body;
    const a2HitsBefore = await hits("a2");
    const refused = await tcpProbe(ns("client"), pub("a1"), 81, SHORT);
    assert.equal(refused.what, "refused", "control: a closed port answers with RST");
    await blackhole(fabric, "a2");
    const t = await tcpProbe(ns("client"), pub("a2"), 80, SHORT);
    assert.equal(t.what, "timeout");
    assert.ok(t.ms >= SHORT - 50);
    assert.equal((await tcpProbe(ns("client"), pub("a2"), 81, SHORT)).what, "timeout", "even a closed port stays silent");
    assert.equal((await tcpProbe(ns("a1"), priv("a2"), 80, SHORT)).what, "timeout", "bridged VPC traffic is dropped too");
    assert.equal((await tcpProbe(ns("a2"), pub("a1"), 80, SHORT)).what, "timeout", "its own traffic is dropped too");
    // One-way checks, so each direction of the drop is guarded on its own.
    const a1Hits = await hits("a1");
    assert.equal(await udpAsk(ns("a2"), pub("a1"), 9999, 40002, SHORT), "timeout");
    assert.equal(await hits("a1"), a1Hits, "a datagram from the blackholed host got out");
    assert.equal(await udpAsk(ns("client"), pub("a2"), 9999, 40003, SHORT), "timeout");
    await unblackhole(fabric, "a2");
    assert.equal((await tcpProbe(ns("client"), pub("a2"), 80, SHORT)).what, "open");
    assert.equal(await hits("a2"), a2HitsBefore, "a datagram reached the blackholed host");
  });

  test("partition cuts two VPCs apart (private and public), not the client; heal restores", async () => {
    await peer(fabric, "vpc-nyc1", "vpc-ams3");
    assert.equal((await tcpProbe(ns("b1"), priv("a1"), 80, SHORT)).what, "open");
    await partition(fabric, "vpc-ams3", "vpc-nyc1");
    assert.equal((await tcpProbe(ns("b1"), priv("a1"), 80, SHORT)).what, "timeout");
    assert.equal((await tcpProbe(ns("b1"), pub("a1"), 80, SHORT)).what, "timeout");
    assert.equal((await tcpProbe(ns("client"), pub("a1"), 80, SHORT)).what, "open");
    assert.equal((await tcpProbe(ns("a2"), pub("a1"), 80, SHORT)).what, "open", "same side unaffected");
    await heal(fabric);
    assert.equal((await tcpProbe(ns("b1"), pub("a1"), 80, 2000)).what, "open");
    assert.equal((await tcpProbe(ns("b1"), priv("a1"), 80, 2000)).what, "open");
  });

  test("everything is idempotent and keeps running processes", async () => {
    await createFabric({ prefix, interRegionDelayMs: DELAY });
    assert.equal(readPidFile(path.join(fabric.runDir, "relay.pid")), relayPid, "relay kept");
    await ensureVpc(fabric, { name: "vpc-nyc1", region: "nyc1", ipRange: "10.110.0.0/20" });
    await createHostNetns({ fabric, name: "a1", publicIp: pub("a1"), vpc: { bridge: nyc.bridge, privateIp: priv("a1"), prefixLen: 20 } });
    assert.equal((await curl(ns("client"), `http://${pub("a1")}/`)).body, "a1");
    assert.equal((await ping(ns("a1"), priv("a2"), 2)).received, 2);
    await assert.rejects(ensureVpc(fabric, { name: "vpc-nyc1", region: "nyc1", ipRange: "10.111.0.0/20" }), /already exists/);
    await assert.rejects(
      createHostNetns({ fabric, name: "a1", publicIp: pub("a2"), vpc: { bridge: nyc.bridge, privateIp: priv("a1"), prefixLen: 20 } }),
      /different addresses|used by/,
    );
    await destroyHostNetns(fabric, "no-such-host");
    assert.equal(await allocatePublicIp(fabric, "a1"), pub("a1"), "allocations are sticky");
    void ams;
  });

  test("checkFabric reports a dead relay; createFabric repairs it", async () => {
    assert.deepEqual(await checkFabric(fabric), []);
    await stopPid(relayPid as number);
    assert.deepEqual(await checkFabric(fabric), ["latency relay is not running: cross-region traffic is dropped"]);
    assert.equal((await ping(ns("a1"), pub("b1"), 1)).received, 0);
    await createFabric({ prefix, interRegionDelayMs: DELAY });
    relayPid = readPidFile(path.join(fabric.runDir, "relay.pid"));
    assert.deepEqual(await checkFabric(fabric), []);
    assert.equal((await ping(ns("a1"), pub("b1"), 1)).received, 1);
  });

  test("destroyHostNetns removes the host and unassigns its reserved IPs", async () => {
    const rip = await allocateReservedIp(fabric, "lb-ams3");
    await createHostNetns({ fabric, name: "tmp", publicIp: "198.51.100.200" });
    await assignReservedIp(fabric, rip, "tmp");
    await destroyHostNetns(fabric, "tmp");
    assert.equal(fabricState(fabric).reservedIps[rip], null);
    assert.ok(!(await leftovers(prefix)).includes(ns("tmp")));
  });
});

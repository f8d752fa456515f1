import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readZoneRecords, startDns, stopDnsFromState } from "../dns/dnsServer";
import { destroyAll } from "../net/destroyAll";
import { run, runInNetns } from "../net/exec";
import { Fabric, createFabric, ensureVpc, fabricState } from "../net/fabric";
import { createHostNetns } from "../net/hostNetns";
import { netnsPids, pidAlive } from "../net/processes";
import { allocateReservedIp, assignReservedIp, reservedIpHolder } from "../net/reservedIp";
import { leftovers } from "../net/testSupport";
import { DoApi, DoApiDroplet, METADATA_IP, enableMetadataRoute, startDoApi } from "./doApi";

// Fixed, so a crashed run's leftovers are removed by the next run (destroyAll only matches "dat-…").
const prefix = "dat";
const ns = (host: string): string => `${prefix}-h-${host}`;
const TAKEOVER = path.resolve(__dirname, "..", "..", "components", "lb", "scripts", "reserved-ip-takeover.sh");

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string>;
}

/** One HTTP request with curl from inside a netns. */
async function httpFrom(netns: string, method: string, url: string, opts: { token?: string; body?: unknown } = {}): Promise<Reply> {
  // Headers, a blank line, then the body, all on stdout (curl segfaults with -D /dev/stderr on a pipe).
  const args = ["-sS", "-m", "5", "-X", method, "-D", "-", url];
  if (opts.token !== undefined) args.push("-H", `Authorization: Bearer ${opts.token}`);
  if (opts.body !== undefined) args.push("-H", "Content-Type: application/json", "--data-binary", JSON.stringify(opts.body));
  const r = await runInNetns(netns, "curl", args, { allowFail: true });
  assert.equal(r.code, 0, `curl ${method} ${url} from ${netns} failed (${r.code}): ${r.stderr}`);
  const split = r.stdout.indexOf("\r\n\r\n");
  assert.ok(split > 0, `no header block in ${JSON.stringify(r.stdout)}`);
  const blocks = r.stdout.slice(0, split).split("\r\n");
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(blocks[0] ?? "")?.[1]);
  const headers: Record<string, string> = {};
  for (const line of blocks.slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status, body: r.stdout.slice(split + 4), headers };
}

function json<T = Record<string, unknown>>(r: Reply): T {
  return JSON.parse(r.body) as T;
}

describe("lab DO API and metadata service", { timeout: 120_000 }, () => {
  let fabric: Fabric;
  let api: DoApi;
  let tmp: string;
  let rip: string;
  const token = randomBytes(16).toString("hex");
  const droplets: DoApiDroplet[] = [];
  const logLines: string[] = [];
  let restartedPid: number | undefined;
  let dnsPid: number | undefined;
  const byName = (name: string): DoApiDroplet => droplets.find((d) => d.name === name) as DoApiDroplet;

  const takeover = async (host: string, tokenFile: string, extraEnv: string[] = []): Promise<{ code: number; stderr: string }> => {
    const env = [
      `DO_API_URL=${api.url}`,
      `DO_TOKEN_FILE=${tokenFile}`,
      "DNS_RR_HA_ENV_FILE=/nonexistent",
      `TAKEOVER_LOCK_FILE=${path.join(tmp, `lock-${host}`)}`,
      "TAKEOVER_BACKOFF_MS=100",
      "TAKEOVER_POLL_INTERVAL_MS=200",
      "TAKEOVER_POLL_TRIES=20",
      ...extraEnv,
    ];
    const r = await runInNetns(ns(host), "env", [...env, "bash", TAKEOVER, rip], { allowFail: true, timeoutMs: 30_000 });
    return { code: r.code, stderr: r.stderr };
  };

  before(async () => {
    await destroyAll(prefix);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "doapi-test-"));
    fabric = await createFabric({ prefix, interRegionDelayMs: 0 });
    const nyc = await ensureVpc(fabric, { name: "vpc-nyc3", region: "nyc3", ipRange: "10.150.0.0/20" });
    const ams = await ensureVpc(fabric, { name: "vpc-ams3", region: "ams3", ipRange: "10.151.0.0/20" });
    const layout: [string, number, typeof nyc, string, string][] = [
      ["a1", 1001, nyc, "198.51.100.11", "10.150.0.11"],
      ["a2", 1002, nyc, "198.51.100.12", "10.150.0.12"],
      ["b1", 2001, ams, "198.51.100.21", "10.151.0.21"],
    ];
    for (const [name, id, vpc, pub, priv] of layout) {
      await createHostNetns({ fabric, name, publicIp: pub, vpc: { bridge: vpc.bridge, privateIp: priv, prefixLen: vpc.prefixLen } });
      droplets.push({ id, name, publicIpv4: pub, privateIpv4: priv, region: vpc.region });
    }
    const plan = fabricState(fabric).plan;
    await createHostNetns({ fabric, name: "client", publicIp: plan.clientIp });
    rip = await allocateReservedIp(fabric, "lb-nyc3");
    await assignReservedIp(fabric, rip, "a1");
    await createHostNetns({ fabric, name: "dns", publicIp: plan.dnsIp });
    // Before the DNS server exists, as in `up` (the Domain comes later): its domains answer 404 until then.
    api = await startDoApi({
      fabric,
      stateDir: path.join(tmp, "state"),
      token,
      droplets: () => droplets,
      reservedIps: () => [{ ip: rip, region: "nyc3" }],
      log: (l) => logLines.push(l),
      dnsStateDir: path.join(tmp, "dns"),
    });
    for (const d of droplets) {
      await enableMetadataRoute(fabric, d.name);
      await enableMetadataRoute(fabric, d.name); // idempotent
    }
    fs.writeFileSync(path.join(tmp, "token"), `${token}\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(tmp, "wrong-token"), "not-the-token\n", { mode: 0o600 });
  });

  after(async () => {
    api?.detach();
    if (tmp) await stopDnsFromState(path.join(tmp, "dns"));
    const report = await destroyAll(prefix);
    if (restartedPid !== undefined) assert.ok(report.killedPids.includes(restartedPid), "destroyAll did not stop the registered server");
    assert.deepEqual(await leftovers(prefix, [restartedPid, dnsPid].filter((p): p is number => p !== undefined)), []);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("the server runs detached in the fabric netns, registered for destroyAll, API on a free services address", async () => {
    assert.ok((await netnsPids(fabric.netns)).includes(api.pid), "server is not in the fabric netns");
    assert.ok(fs.existsSync(path.join(fabric.runDir, "pids", `${api.pid}.json`)), "server PID is not registered");
    const plan = fabricState(fabric).plan;
    const host = new URL(api.url).hostname;
    assert.match(host, /^192\.0\.2\.\d+$/);
    assert.ok(![plan.clientIp, plan.adminIp, plan.dnsIp, "192.0.2.1"].includes(host), `API address ${host} collides`);
    assert.equal(api.metadataUrl, `http://${METADATA_IP}`);
  });

  test("metadata route: explicit /32 via the public gateway with the public source", async () => {
    const { stdout } = await run("ip", ["-n", ns("a2"), "route", "show", `${METADATA_IP}/32`]);
    assert.match(stdout, /via 198\.51\.100\.1 dev eth0 .*src 198\.51\.100\.12/);
  });

  test("metadata: every droplet gets its own id, hostname, region and addresses; others get 404", async () => {
    for (const d of droplets) {
      const get = async (leaf: string): Promise<string> => {
        const r = await httpFrom(ns(d.name), "GET", `http://${METADATA_IP}/metadata/v1/${leaf}`);
        assert.equal(r.status, 200, `${d.name} ${leaf}`);
        return r.body;
      };
      assert.equal(await get("id"), String(d.id));
      assert.equal(await get("hostname"), d.name);
      assert.equal(await get("region"), d.region);
      assert.equal(await get("interfaces/public/0/ipv4/address"), d.publicIpv4);
      assert.equal(await get("interfaces/private/0/ipv4/address"), d.privateIpv4);
      const doc = json(await httpFrom(ns(d.name), "GET", `http://${METADATA_IP}/metadata/v1.json`)) as {
        droplet_id: number; hostname: string; region: string;
        interfaces: { public: { ipv4: { ip_address: string; gateway: string } }[]; private: { ipv4: { ip_address: string; netmask: string } }[] };
        reserved_ip: { ipv4: { active: boolean; ip_address?: string } };
      };
      assert.equal(doc.droplet_id, d.id);
      assert.equal(doc.hostname, d.name);
      assert.equal(doc.region, d.region);
      assert.equal(doc.interfaces.public[0]?.ipv4.ip_address, d.publicIpv4);
      assert.equal(doc.interfaces.public[0]?.ipv4.gateway, "198.51.100.1");
      assert.equal(doc.interfaces.private[0]?.ipv4.ip_address, d.privateIpv4);
      assert.equal(doc.interfaces.private[0]?.ipv4.netmask, "255.255.240.0");
      assert.deepEqual(doc.reserved_ip.ipv4, d.name === "a1" ? { active: true, ip_address: rip } : { active: false });
    }
    assert.equal((await httpFrom(ns("a1"), "GET", `http://${METADATA_IP}/metadata/v1/nope`)).status, 404);
    assert.equal((await httpFrom(ns("client"), "GET", `http://${METADATA_IP}/metadata/v1/id`)).status, 404, "a non-droplet must not get an id");
  });

  test("the takeover script moves the reserved IP to the droplet running it and exits 0; a re-run is a no-op", async () => {
    assert.equal(reservedIpHolder(fabric, rip), "a1");
    const r = await takeover("a2", path.join(tmp, "token"));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(reservedIpHolder(fabric, rip), "a2");
    const got = json<{ reserved_ip: { droplet: { id: number } | null; region: { slug: string }; locked: boolean } }>(
      await httpFrom(ns("a1"), "GET", `${api.url}/v2/reserved_ips/${rip}`, { token }),
    );
    assert.equal(got.reserved_ip.droplet?.id, 1002);
    assert.equal(got.reserved_ip.region.slug, "nyc3");
    assert.equal(got.reserved_ip.locked, false);
    const posts = (): number => api.requests.filter((q) => q.method === "POST" && q.status === 201 && q.fromIp === byName("a2").publicIpv4).length;
    assert.equal(posts(), 1);
    const again = await takeover("a2", path.join(tmp, "token"));
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /already assigned/);
    assert.equal(posts(), 1, "a re-run must not post another action");
  });

  test("wrong token: 401 and the script fails without moving the IP", async () => {
    const bare = await httpFrom(ns("a1"), "GET", `${api.url}/v2/reserved_ips/${rip}`);
    assert.equal(bare.status, 401);
    assert.equal(json(bare).id, "unauthorized");
    const r = await takeover("a1", path.join(tmp, "wrong-token"));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /HTTP 401/);
    assert.equal(reservedIpHolder(fabric, rip), "a2");
    assert.ok(api.requests.some((q) => q.status === 401 && q.method === "POST" && q.fromIp === byName("a1").publicIpv4));
  });

  test("a droplet in another region gets 422; the script gives up; the IP stays", async () => {
    const r = await httpFrom(ns("b1"), "POST", `${api.url}/v2/reserved_ips/${rip}/actions`, { token, body: { type: "assign", droplet_id: 2001 } });
    assert.equal(r.status, 422);
    assert.match(String(json(r).message), /same region/);
    const s = await takeover("b1", path.join(tmp, "token"), ["TAKEOVER_MAX_TRIES=2"]);
    assert.notEqual(s.code, 0);
    assert.match(s.stderr, /HTTP 422/);
    assert.equal(reservedIpHolder(fabric, rip), "a2");
  });

  test("API: action shape, asynchronous completion within 1 s, lock while pending, unassign, 404s", async () => {
    const url = `${api.url}/v2/reserved_ips/${rip}/actions`;
    const body = JSON.stringify({ type: "assign", droplet_id: 1001 });
    // Two POSTs on one connection, back to back: the second must hit the pending action.
    const pair = await runInNetns(ns("a1"), "curl", [
      "-sS", "-m", "5", "-X", "POST", "-H", `Authorization: Bearer ${token}`, "-H", "Content-Type: application/json",
      "--data-binary", body, "-w", "\n%{http_code}\n", url, url,
    ]);
    const [b1, c1, b2, c2] = pair.stdout.trim().split("\n");
    assert.equal(c1, "201");
    assert.equal(c2, "422");
    assert.match(String((JSON.parse(b2 as string) as { message: string }).message), /pending/);
    const started = Date.now();
    const action = (JSON.parse(b1 as string) as { action: Record<string, unknown> }).action;
    assert.equal(action.status, "in-progress");
    assert.equal(action.type, "assign_ip");
    assert.equal(action.resource_type, "reserved_ip");
    assert.equal(action.region_slug, "nyc3");
    assert.equal(typeof action.id, "number");
    assert.match(String(action.started_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(action.resource_id, rip.split(".").reduce((a, o) => a * 256 + Number(o), 0));
    const locked = json<{ reserved_ip: { locked: boolean } }>(await httpFrom(ns("a1"), "GET", `${api.url}/v2/reserved_ips/${rip}`, { token }));
    assert.equal(locked.reserved_ip.locked, true);

    let status = "";
    while (Date.now() - started < 3000) {
      status = String(json<{ action: { status: string } }>(await httpFrom(ns("a1"), "GET", `${api.url}/v2/actions/${action.id}`, { token })).action.status);
      if (status === "completed") break;
    }
    assert.equal(status, "completed");
    assert.ok(Date.now() - started < 1500, `action took ${Date.now() - started} ms`);
    assert.equal(reservedIpHolder(fabric, rip), "a1");
    const scoped = await httpFrom(ns("a1"), "GET", `${api.url}/v2/reserved_ips/${rip}/actions/${action.id}`, { token });
    assert.equal(json<{ action: { completed_at: string } }>(scoped).action.completed_at.length > 0, true);

    const un = await httpFrom(ns("a1"), "POST", url, { token, body: { type: "unassign" } });
    assert.equal(un.status, 201);
    assert.equal(json<{ action: { type: string } }>(un).action.type, "unassign_ip");
    const deadline = Date.now() + 3000;
    while (reservedIpHolder(fabric, rip) !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(reservedIpHolder(fabric, rip), null);
    const free = json<{ reserved_ip: { droplet: unknown } }>(await httpFrom(ns("a1"), "GET", `${api.url}/v2/reserved_ips/${rip}`, { token }));
    assert.equal(free.reserved_ip.droplet, null);
    assert.equal((await httpFrom(ns("a1"), "POST", url, { token, body: { type: "unassign" } })).status, 422, "unassigning a free IP");

    assert.equal((await httpFrom(ns("a1"), "GET", `${api.url}/v2/reserved_ips/203.0.113.250`, { token })).status, 404);
    assert.equal((await httpFrom(ns("a1"), "POST", `${api.url}/v2/reserved_ips/203.0.113.250/actions`, { token, body: { type: "assign", droplet_id: 1001 } })).status, 404);
    assert.equal((await httpFrom(ns("a1"), "POST", url, { token, body: { type: "assign", droplet_id: 999999 } })).status, 404, "unknown droplet");
    assert.equal((await httpFrom(ns("a1"), "POST", url, { token, body: { type: "teleport" } })).status, 422);
    assert.equal((await httpFrom(ns("a1"), "GET", `${api.url}/v2/actions/1`, { token })).status, 404);
  });

  test("requests are logged (method, path, status, source) and forwarded to the lab's log", async () => {
    const a1 = byName("a1").publicIpv4;
    assert.ok(api.requests.some((q) => q.service === "metadata" && q.method === "GET" && q.path === "/metadata/v1/id" && q.status === 200 && q.fromIp === a1));
    assert.ok(api.requests.some((q) => q.service === "api" && q.path === "/v2/reserved_ips/203.0.113.250" && q.status === 404 && q.fromIp === a1));
    const deadline = Date.now() + 3000;
    while (!logLines.some((l) => l.includes(`api ${a1} GET /v2/reserved_ips/203.0.113.250 -> 404`)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(logLines.some((l) => l.includes(`api ${a1} GET /v2/reserved_ips/203.0.113.250 -> 404`)), logLines.slice(-5).join("\n"));
  });

  test("domain records over HTTP from a droplet: list/filter/page, delete and create reach a real BIND (dig), 404/422", async () => {
    const zone = "dns-rr-ha.test";
    const dnsDir = path.join(tmp, "dns");
    const records = `${api.url}/v2/domains/${zone}/records`;
    const dnsIp = fabricState(fabric).plan.dnsIp;
    const dig = async (name: string, type = "A"): Promise<string[]> =>
      (await runInNetns(ns("client"), "dig", ["+short", "+time=1", "+tries=1", `@${dnsIp}`, name, type])).stdout.split("\n").filter(Boolean).sort();
    assert.equal((await httpFrom(ns("a1"), "GET", records, { token })).status, 404, "no zone yet");

    // The program's records, with the ids the model gave them, as labCloud stores them.
    const dns = await startDns({
      netns: ns("dns"), listenAddress: dnsIp, stateDir: dnsDir,
      zones: [{ name: zone, records: [
        { id: 400020, type: "A", name: "www", value: "198.51.100.11", ttl: 30 },
        { id: 400021, type: "A", name: "www", value: "198.51.100.12", ttl: 30 },
        { id: 400022, type: "AAAA", name: "www", value: "2001:db8:a::1", ttl: 30 },
        { id: 400023, type: "TXT", name: "@", value: "lab", ttl: 300 },
      ] }],
    });
    dnsPid = dns.pid;
    type Listing = { domain_records: { id: number; type: string; name: string; data: string; ttl: number; priority: null }[]; links: Record<string, unknown>; meta: { total: number } };
    const all = await httpFrom(ns("a1"), "GET", records, { token });
    assert.equal(all.status, 200);
    assert.equal(all.headers["ratelimit-limit"], "250");
    assert.deepEqual(json<Listing>(all).domain_records[0], { id: 400020, type: "A", name: "www", data: "198.51.100.11", priority: null, port: null, ttl: 30, weight: null, flags: null, tag: null });
    assert.equal(json<Listing>(all).meta.total, 4);
    const www = json<Listing>(await httpFrom(ns("a1"), "GET", `${records}?type=A&name=www.${zone}`, { token }));
    assert.deepEqual(www.domain_records.map((r) => r.id), [400020, 400021]);
    const paged = json<Listing>(await httpFrom(ns("a1"), "GET", `${records}?per_page=1&page=2`, { token }));
    assert.deepEqual(paged.domain_records.map((r) => r.id), [400021]);
    assert.equal(paged.meta.total, 4);
    assert.ok(paged.links.pages, "pages links");
    assert.equal(json<{ domain_record: { data: string } }>(await httpFrom(ns("a1"), "GET", `${records}/400022`, { token })).domain_record.data, "2001:db8:a::1");

    // Withdraw a2's address: answered once BIND serves it.
    const serial = dns.serial(zone);
    assert.deepEqual(await dig(`www.${zone}`), ["198.51.100.11", "198.51.100.12"]);
    const del = await httpFrom(ns("a1"), "DELETE", `${records}/400021`, { token });
    assert.equal(del.status, 204);
    assert.equal(del.body, "");
    assert.deepEqual(await dig(`www.${zone}`), ["198.51.100.11"]);
    assert.equal(dns.serial(zone), serial + 1);
    assert.equal((await httpFrom(ns("a1"), "DELETE", `${records}/400021`, { token })).status, 404);

    // Restore it: a new record with a fresh id.
    const created = await httpFrom(ns("a1"), "POST", records, { token, body: { type: "A", name: "www", data: "198.51.100.12", ttl: 30 } });
    assert.equal(created.status, 201);
    const record = json<{ domain_record: { id: number; name: string; data: string; ttl: number } }>(created).domain_record;
    assert.deepEqual([record.name, record.data, record.ttl], ["www", "198.51.100.12", 30]);
    assert.ok(![400020, 400021, 400022, 400023].includes(record.id));
    assert.deepEqual(await dig(`www.${zone}`), ["198.51.100.11", "198.51.100.12"]);
    assert.ok(readZoneRecords(dnsDir, zone)?.some((r) => r.id === record.id), "the API's record is in the DNS server's store");
    assert.ok(readZoneRecords(dnsDir, zone)?.some((r) => r.id === 400020), "the program's record keeps its id");

    const bad = await httpFrom(ns("a1"), "POST", records, { token, body: { type: "A", name: "www", data: "2001:db8::1", ttl: 30 } });
    assert.equal(bad.status, 422);
    assert.equal(json(bad).id, "unprocessable_entity");
    assert.equal((await httpFrom(ns("a1"), "POST", records, { token, body: { type: "AAAA", name: "www", data: "198.51.100.9", ttl: 30 } })).status, 422);
    assert.equal((await httpFrom(ns("a1"), "POST", records, { token, body: { type: "A", name: "www", data: "198.51.100.9", ttl: 10 } })).status, 422);
    assert.equal((await httpFrom(ns("a1"), "GET", `${api.url}/v2/domains/other.test/records`, { token })).status, 404);
    assert.equal((await httpFrom(ns("a1"), "DELETE", `${records}/400020`)).status, 401);
    assert.deepEqual(await dig(`www.${zone}`), ["198.51.100.11", "198.51.100.12"], "refused requests changed nothing");
    assert.equal(dns.serial(zone), serial + 2);
  });

  test("startDoApi again adopts the running server; sync() publishes catalog changes", async () => {
    const again = await startDoApi({ fabric, stateDir: path.join(tmp, "state"), token, droplets: () => droplets, reservedIps: () => [{ ip: rip, region: "nyc3" }] });
    assert.equal(again.pid, api.pid);
    assert.equal(again.url, api.url);
    byName("a1").tags = ["lb", "blue"];
    again.sync();
    assert.equal((await httpFrom(ns("a1"), "GET", `http://${METADATA_IP}/metadata/v1/tags`)).body, "lb\nblue\n");
  });

  test("rate limit: 250 requests per minute, then 429 with ratelimit-* headers", async () => {
    const first = await httpFrom(ns("a2"), "GET", `${api.url}/v2/reserved_ips`, { token });
    assert.equal(first.status, 200);
    assert.equal(first.headers["ratelimit-limit"], "250");
    const remaining = Number(first.headers["ratelimit-remaining"]);
    assert.ok(remaining > 0 && remaining < 250, `remaining ${remaining}`);
    const url = `${api.url}/v2/reserved_ips`;
    const burst = await runInNetns(ns("a2"), "curl", [
      "-sS", "-m", "20", "-H", `Authorization: Bearer ${token}`, "-w", "%{http_code}\n",
      // -o applies to one URL each.
      ...Array.from({ length: remaining }, () => ["-o", "/dev/null", url]).flat(),
    ], { timeoutMs: 30_000 });
    const codes = burst.stdout.trim().split("\n");
    assert.deepEqual([...new Set(codes)], ["200"], "every request within the limit succeeds");
    assert.equal(codes.length, remaining);
    const over = await httpFrom(ns("a2"), "GET", url, { token });
    assert.equal(over.status, 429);
    assert.equal(json(over).id, "too_many_requests");
    assert.equal(over.headers["ratelimit-limit"], "250");
    assert.equal(over.headers["ratelimit-remaining"], "0");
    const reset = Number(over.headers["ratelimit-reset"]);
    const nowSec = Date.now() / 1000;
    assert.ok(reset > nowSec && reset <= nowSec + 61, `ratelimit-reset ${reset}`);
    assert.ok(Number(over.headers["retry-after"]) >= 1);
  });

  test("stop() ends the server and removes its addresses; a restarted one is stopped by destroyAll", async () => {
    const pid = api.pid;
    await api.stop();
    assert.equal(pidAlive(pid), false);
    assert.equal(fs.existsSync(path.join(fabric.runDir, "pids", `${pid}.json`)), false);
    const { stdout } = await run("ip", ["-n", fabric.netns, "addr", "show", "dev", "lo"]);
    assert.doesNotMatch(stdout, /169\.254\.169\.254/);
    const r = await runInNetns(ns("a1"), "curl", ["-sS", "-m", "2", `http://${METADATA_IP}/metadata/v1/id`], { allowFail: true });
    assert.notEqual(r.code, 0);

    api = await startDoApi({ fabric, stateDir: path.join(tmp, "state"), token, droplets: () => droplets, reservedIps: () => [{ ip: rip, region: "nyc3" }] });
    assert.notEqual(api.pid, pid);
    restartedPid = api.pid;
    assert.equal((await httpFrom(ns("a1"), "GET", `http://${METADATA_IP}/metadata/v1/id`)).body, "1001");
  });
});

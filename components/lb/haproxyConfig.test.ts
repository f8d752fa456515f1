import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import type * as http from "node:http";
import * as path from "node:path";
import {
  appServersForRegion,
  DB_HEALTH_URI,
  LB_HEALTH_URI,
  renderHaproxyConfig,
  validateHaproxySettings,
  type HaproxyServer,
  type HaproxySettings,
} from "./haproxyConfig";
import { configSection as section, freePort, httpRequest, makeTempDir, run, startServer, waitFor, type TestServer } from "./testHelpers";

const tmp = makeTempDir("lb-haproxy-test");
after(() => tmp.cleanup());

let fileSeq = 0;
/** Runs the real `haproxy -c` on `text`. */
async function haproxyCheck(text: string) {
  const file = path.join(tmp.dir, `check-${fileSeq++}.cfg`);
  fs.writeFileSync(file, text);
  return run("haproxy", ["-c", "-f", file]);
}

const base: HaproxySettings = {
  siteName: "www.example.com",
  privateAddress: "10.110.0.5",
  servers: appServersForRegion("ams3", [{ name: "web-ams3-1", address: "10.110.0.10", port: 80, region: "ams3" }]),
};

const threeRegions = appServersForRegion("ams3", [
  { name: "web-fra1-1", address: "10.120.0.11", port: 80, region: "fra1" },
  { name: "web-ams3-1", address: "10.110.0.11", port: 80, region: "ams3" },
  { name: "web-ams3-2", address: "10.110.0.12", port: 8080, region: "ams3" },
  { name: "web-nyc3-1", address: "10.130.0.11", port: 80, region: "nyc3" },
  { name: "web-fra1-2", address: "10.120.0.12", port: 80, region: "fra1" },
  { name: "web-nyc3-2", address: "10.130.0.12", port: 80, region: "nyc3" },
]);

describe("renderHaproxyConfig passes haproxy -c", () => {
  test("one local server", async () => {
    const r = await haproxyCheck(renderHaproxyConfig(base));
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test("six servers in three regions, custom ports and timeouts", async () => {
    const cfg = renderHaproxyConfig({
      ...base,
      servers: threeRegions,
      httpPort: 8080,
      statsPort: 9000,
      maxconn: 5000,
      timeouts: { serverMs: 60000, connectMs: 2000 },
      healthCheck: { intervalMs: 1000, fall: 3, rise: 5 },
      healthPath: "/health.php?full=1",
    });
    const r = await haproxyCheck(cfg);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test("a corrupted config is rejected (the check really runs)", async () => {
    const cfg = renderHaproxyConfig(base).replace("balance roundrobin", "balance no-such-algorithm");
    const r = await haproxyCheck(cfg);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /balance only supports/);
  });
});

describe("renderHaproxyConfig semantics", () => {
  const cfg = renderHaproxyConfig({ ...base, servers: threeRegions });

  test("local servers are normal, remote ones backup, local listed first", () => {
    const servers = section(cfg, "backend app").filter((l) => l.startsWith("server "));
    assert.equal(servers.length, 6);
    for (const line of servers) {
      const name = line.split(/\s+/)[1];
      assert.equal(/\sbackup(\s|$)/.test(line), !name.includes("ams3"), line);
    }
    assert.deepEqual(
      servers.slice(0, 2).map((l) => l.split(/\s+/)[1]),
      ["web-ams3-1", "web-ams3-2"],
    );
    assert.ok(section(cfg, "backend app").includes("option allbackups"));
  });

  test("stats listener binds only the private address and is read-only", () => {
    const stats = section(cfg, "listen stats");
    assert.deepEqual(stats.filter((l) => l.startsWith("bind ")), ["bind 10.110.0.5:8404"]);
    assert.ok(stats.includes("stats uri /stats"));
    assert.doesNotMatch(cfg, /stats admin/);
    assert.doesNotMatch(cfg, /bind\s+(\*|0\.0\.0\.0|::)?:8404/);
  });

  test("with ipv6, the public frontend also listens on every IPv6 address, and haproxy -c accepts it", async () => {
    const text = renderHaproxyConfig({ ...base, ipv6: true });
    assert.match(text, /^    bind :::80 v6only$/m);
    assert.doesNotMatch(renderHaproxyConfig(base), /bind :::/);
    const r = await haproxyCheck(text);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.throws(() => renderHaproxyConfig({ ...base, ipv6: true, bindAddress: "127.0.0.1" }), /HaproxySettings\.ipv6/);
  });

  test("retries, redispatch and idempotent-only L7 retries", () => {
    const be = section(cfg, "backend app");
    assert.ok(be.includes("retries 3"));
    assert.ok(be.some((l) => /^option redispatch\b/.test(l)));
    assert.ok(be.includes("retry-on conn-failure empty-response response-timeout 502 503 504"));
    assert.ok(be.includes("http-request disable-l7-retry if !METH_GET !METH_OPTIONS"));
  });

  test("health check sends GET healthPath with the site's Host and expects 200", () => {
    const be = section(cfg, "backend app");
    assert.ok(be.includes("option httpchk GET /healthz HTTP/1.1"));
    assert.ok(be.includes("http-check send hdr Host www.example.com"));
    assert.ok(be.includes("http-check expect status 200"));
    assert.ok(be.includes("default-server inter 2000ms fastinter 1000ms downinter 2000ms fall 2 rise 2"));
  });

  test("public frontend binds *:80 and serves /lb-health off nbsrv(app)", () => {
    const fe = section(cfg, "frontend public");
    assert.ok(fe.includes("bind *:80"));
    assert.ok(fe.includes("monitor-uri /lb-health"));
    assert.ok(fe.includes("monitor fail if { nbsrv(app) lt 1 }"));
    assert.ok(fe.includes("option forwardfor"));
  });
});

describe("with TLS, the health URIs stay plain HTTP", () => {
  const tls = { certificatePath: "/etc/haproxy/tls/site.pem" };

  test("/db-health is exempt from the https redirect exactly like /lb-health, and is not answered by HAProxy", () => {
    assert.equal(DB_HEALTH_URI, "/db-health");
    const fe = section(renderHaproxyConfig({ ...base, tls }), "frontend public");
    const redirects = fe.filter((l) => l.startsWith("http-request redirect"));
    assert.deepEqual(redirects, [`http-request redirect scheme https code 301 unless { ssl_fc } || { path ${LB_HEALTH_URI} } || { path ${DB_HEALTH_URI} }`]);
    // HAProxy answers /lb-health itself; /db-health goes to the app backend like any page.
    assert.deepEqual(fe.filter((l) => /^(monitor-uri|use_backend|http-request (return|deny))\b/.test(l)), [`monitor-uri ${LB_HEALTH_URI}`]);
    assert.ok(fe.includes("default_backend app"));
  });

  test("without TLS nothing is redirected at all", () => {
    assert.doesNotMatch(renderHaproxyConfig(base), /redirect/);
  });
});

describe("validateHaproxySettings", () => {
  const bad: [string, Partial<HaproxySettings>, RegExp][] = [
    ["no servers", { servers: [] }, /HaproxySettings\.servers: must list at least one/],
    [
      "duplicate names",
      { servers: [...base.servers, { ...base.servers[0], address: "10.110.0.11" }] },
      /servers\[1\]\.name: duplicate server name "web-ams3-1"/,
    ],
    ["name with a space", { servers: [{ ...base.servers[0], name: "web 1" }] }, /servers\[0\]\.name: .*no spaces/],
    ["port 0", { servers: [{ ...base.servers[0], port: 0 }] }, /servers\[0\]\.port: must be an integer in 1\.\.65535/],
    ["port 70000", { httpPort: 70000 }, /HaproxySettings\.httpPort: must be an integer/],
    ["fractional port", { statsPort: 80.5 }, /HaproxySettings\.statsPort: must be an integer/],
    ["stats port == http port", { statsPort: 80 }, /statsPort: must differ from httpPort/],
    ["bad private address", { privateAddress: "10.0.0" }, /privateAddress: must be an IPv4/],
    ["bad server address", { servers: [{ ...base.servers[0], address: "web.internal" }] }, /servers\[0\]\.address/],
    ["only backups", { servers: [{ ...base.servers[0], backup: true }] }, /at least one non-backup/],
    ["site name with a space", { siteName: "www example.com" }, /siteName: must be a DNS host name/],
    ["relative health path", { healthPath: "healthz" }, /healthPath: must start with "\/"/],
    ["health path with space", { healthPath: "/a b" }, /healthPath/],
    ["zero timeout", { timeouts: { serverMs: 0 } }, /timeouts\.serverMs: must be an integer/],
    ["bad bind address", { bindAddress: "0.0.0.0.0" }, /bindAddress: must be an IPv4/],
  ];
  for (const [label, patch, message] of bad) {
    test(`rejects ${label}`, () => {
      assert.throws(() => validateHaproxySettings({ ...base, ...patch }), message);
      assert.throws(() => renderHaproxyConfig({ ...base, ...patch }), message);
    });
  }

  test("accepts the base settings", () => {
    assert.doesNotThrow(() => validateHaproxySettings(base));
  });
});

/** A fake app server recording what HAProxy sends it. */
interface FakeApp {
  readonly name: string;
  readonly ts: TestServer;
  /** Non-health requests received. */
  readonly hits: http.IncomingMessage[];
  /** Health-check requests received. */
  readonly checks: http.IncomingMessage[];
  healthy: boolean;
  /** Optional hook; returns true when it handled (or dropped) the request. */
  hook?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
}

async function startApp(name: string, host: string): Promise<FakeApp> {
  const app = { name, hits: [], checks: [], healthy: true } as unknown as { -readonly [K in keyof FakeApp]: FakeApp[K] };
  app.ts = await startServer(host, (req, res) => {
    if (req.url === "/healthz") {
      app.checks.push(req);
      res.writeHead(app.healthy ? 200 : 503).end();
      return;
    }
    app.hits.push(req);
    if (app.hook?.(req, res)) return;
    res.writeHead(200, { "content-type": "text/plain" }).end(name);
  });
  return app;
}

/** A running haproxy with the rendered config in front of `apps`. */
interface Stack {
  readonly url: string;
  readonly statsUrl: string;
  readonly apps: FakeApp[];
  stop(): Promise<void>;
}

const stacks: Stack[] = [];
after(async () => {
  for (const s of stacks) await s.stop();
});

async function startStack(specs: { name: string; host: string; backup: boolean }[]): Promise<Stack> {
  const apps = await Promise.all(specs.map((s) => startApp(s.name, s.host)));
  const servers: HaproxyServer[] = specs.map((s, i) => ({
    name: s.name,
    address: s.host,
    port: apps[i].ts.port,
    region: s.backup ? "remote" : "local",
    backup: s.backup,
  }));
  const httpPort = await freePort();
  const statsPort = await freePort();
  const cfgFile = path.join(tmp.dir, `run-${fileSeq++}.cfg`);
  fs.writeFileSync(
    cfgFile,
    renderHaproxyConfig({
      siteName: "www.example.com",
      privateAddress: "127.0.0.1",
      bindAddress: "127.0.0.1",
      httpPort,
      statsPort,
      servers,
      maxconn: 1000,
      log: "stdout",
      runAs: null,
      chroot: null,
      adminSocket: null,
      healthCheck: { intervalMs: 300, fall: 2, rise: 2 },
      timeouts: { connectMs: 1000, serverMs: 5000 },
    }),
  );
  const child: ChildProcess = spawn("haproxy", ["-f", cfgFile, "-db"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const url = `http://127.0.0.1:${httpPort}`;
  const stack: Stack = {
    url,
    statsUrl: `http://127.0.0.1:${statsPort}`,
    apps,
    async stop() {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, "SIGTERM");
      await exited;
      await Promise.all(apps.map((a) => a.ts.kill()));
    },
  };
  stacks.push(stack);
  await waitFor("haproxy up", async () => (await httpRequest(`${url}/lb-health`)).status === 200, 5000).catch((err) => {
    throw new Error(`${String(err)}; haproxy output:\n${output}`);
  });
  return stack;
}

describe("haproxy behaviour with the rendered config", () => {
  test("killing a server mid-stream loses no GET (retry + redispatch)", async () => {
    const stack = await startStack([
      { name: "a", host: "127.0.0.2", backup: false },
      { name: "b", host: "127.0.0.3", backup: false },
    ]);
    const [, b] = stack.apps;
    let droppedInFlight = 0;
    b.hook = (req) => {
      // On its 5th request B dies without answering: that request is in
      // flight and must be replayed on A; later ones hit a closed port.
      if (b.hits.length === 5) {
        droppedInFlight++;
        void b.ts.kill();
        req.socket.destroy();
        return true;
      }
      return false;
    };
    const results: string[] = [];
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < 50) {
        next++;
        try {
          const r = await httpRequest(`${stack.url}/page`);
          if (r.status === 200) results.push(r.body);
          else failures.push(`HTTP ${r.status}`);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    assert.deepEqual(failures, []);
    assert.equal(results.length, 50);
    assert.equal(droppedInFlight, 1);
    assert.equal(results.filter((r) => r === "b").length, 4, "B answered 4 requests before dying");
  });

  test("an empty response is replayed for GET but not for POST", async () => {
    const stack = await startStack([
      { name: "a", host: "127.0.0.2", backup: false },
      { name: "b", host: "127.0.0.3", backup: false },
    ]);
    const dropped: string[] = [];
    for (const app of stack.apps) {
      app.hook = (req) => {
        // Every POST and the first GET to /flaky die without a response.
        if (req.method === "POST" || (req.url === "/flaky" && !dropped.includes("GET"))) {
          dropped.push(req.method ?? "");
          req.socket.destroy();
          return true;
        }
        return false;
      };
    }
    const get = await httpRequest(`${stack.url}/flaky`);
    assert.equal(get.status, 200);
    const post = await httpRequest(`${stack.url}/order`, { method: "POST", body: "x=1" });
    assert.equal(post.status, 502);
    assert.deepEqual(dropped, ["GET", "POST"], "the POST reached a server exactly once");
  });

  test("a 502 from a server going down is replayed on another for GET, passed through for POST", async () => {
    const stack = await startStack([
      { name: "a", host: "127.0.0.2", backup: false },
      { name: "b", host: "127.0.0.3", backup: false },
    ]);
    const answered502: string[] = [];
    for (const app of stack.apps) {
      app.hook = (req, res) => {
        // Each server answers its first /going-down GET and every POST with 502, as nginx does
        // once PHP-FPM has stopped.
        if (req.method === "POST" || (req.url === "/going-down" && !answered502.includes(`GET ${app.name}`))) {
          answered502.push(`${req.method} ${app.name}`);
          res.writeHead(502).end("bad gateway");
          return true;
        }
        return false;
      };
    }
    const get = await httpRequest(`${stack.url}/going-down`);
    assert.equal(get.status, 200, "the GET was replayed on the other server");
    const post = await httpRequest(`${stack.url}/order`, { method: "POST", body: "x=1" });
    assert.equal(post.status, 502);
    assert.equal(answered502.filter((x) => x.startsWith("POST")).length, 1, "the POST reached a server exactly once");
  });

  test("forwarding headers and health-check requests", async () => {
    const stack = await startStack([{ name: "a", host: "127.0.0.2", backup: false }]);
    const [a] = stack.apps;
    await httpRequest(`${stack.url}/x`, { headers: { "X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https" } });
    const seen = a.hits.at(-1);
    assert.ok(seen);
    assert.equal(seen.headers["x-forwarded-for"], "127.0.0.1", "client-supplied X-Forwarded-For is dropped");
    assert.equal(seen.headers["x-forwarded-proto"], "http");
    await waitFor("a health check", async () => a.checks.length > 0, 3000);
    assert.equal(a.checks[0].method, "GET");
    assert.equal(a.checks[0].headers.host, "www.example.com");
  });

  test("/lb-health is 503 on both listeners when no server is up, 200 again after recovery", async () => {
    const stack = await startStack([
      { name: "a", host: "127.0.0.2", backup: false },
      { name: "b", host: "127.0.0.3", backup: true },
    ]);
    const status = async (u: string) => (await httpRequest(u)).status;
    assert.equal(await status(`${stack.statsUrl}/lb-health`), 200);
    assert.equal(await status(`${stack.statsUrl}/stats`), 200);
    for (const app of stack.apps) app.healthy = false;
    await waitFor("public /lb-health 503", async () => (await status(`${stack.url}/lb-health`)) === 503, 5000);
    assert.equal(await status(`${stack.statsUrl}/lb-health`), 503);
    stack.apps[1].healthy = true;
    await waitFor("/lb-health back to 200 via a backup", async () => (await status(`${stack.url}/lb-health`)) === 200, 5000);
  });

  test("backups take no traffic while a local server is up, then all share it", async () => {
    const stack = await startStack([
      { name: "local", host: "127.0.0.2", backup: false },
      { name: "remote1", host: "127.0.0.3", backup: true },
      { name: "remote2", host: "127.0.0.4", backup: true },
    ]);
    const bodies = async (n: number) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push((await httpRequest(`${stack.url}/`)).body);
      return out;
    };
    assert.deepEqual(new Set(await bodies(10)), new Set(["local"]));
    stack.apps[0].healthy = false;
    await waitFor("local marked down", async () => (await httpRequest(`${stack.url}/`)).body !== "local", 5000);
    assert.deepEqual(new Set(await bodies(10)), new Set(["remote1", "remote2"]));
  });
});

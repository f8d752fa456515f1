import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import type * as http from "node:http";
import * as path from "node:path";
import { lbScripts, lbScriptSourcePath } from "./lbScripts";
import { lbScriptPaths } from "./scriptPaths";
import { freePort, makeTempDir, readBody, run, startServer, type TestServer } from "./testHelpers";

const tmp = makeTempDir("lb-scripts-test");
after(() => tmp.cleanup());

const checkScript = lbScriptSourcePath("checkHaproxy");
const takeoverScript = lbScriptSourcePath("reservedIpTakeover");

describe("lbScripts()", () => {
  test("maps every script to its install path, executable, with strict bash", () => {
    const files = lbScripts();
    assert.deepEqual(files.map((f) => f.path).sort(), Object.values(lbScriptPaths).sort());
    for (const f of files) {
      assert.equal(f.mode, "0755");
      assert.match(f.content, /^#!\/bin\/bash\n/);
      assert.match(f.content, /\nset -euo pipefail\n/);
    }
    const takeover = files.find((f) => f.path === lbScriptPaths.reservedIpTakeover);
    assert.equal(takeover?.content, fs.readFileSync(takeoverScript, "utf8"));
  });
});

describe("shellcheck", () => {
  for (const file of [checkScript, takeoverScript]) {
    test(`${path.basename(file)} is clean`, async () => {
      const r = await run("shellcheck", ["--shell=bash", file]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    });
  }

  test("flags a bad script (the check really runs)", async () => {
    const bad = path.join(tmp.dir, "bad.sh");
    fs.writeFileSync(bad, '#!/bin/bash\nrm -rf $1/*\n');
    const r = await run("shellcheck", [bad]);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /SC2086/);
  });
});

describe("check-haproxy.sh", () => {
  let status = 200;
  let hang = false;
  const paths: string[] = [];
  let lb: TestServer;
  const servers: TestServer[] = [];
  after(async () => {
    for (const s of servers) await s.kill();
  });

  const check = async (port: number | string) => {
    const started = Date.now();
    const r = await run("bash", [checkScript, String(port)], { timeoutMs: 5000 });
    return { ...r, ms: Date.now() - started };
  };

  test("exits 0 iff /lb-health answers 200", async () => {
    lb = await startServer("127.0.0.1", (req, res) => {
      paths.push(req.url ?? "");
      if (hang) return; // never answer
      res.writeHead(req.url === "/lb-health" ? status : 404).end();
    });
    servers.push(lb);
    assert.equal((await check(lb.port)).code, 0);
    assert.deepEqual(paths, ["/lb-health"]);
    status = 503; // HAProxy up but no app server: must fail so the peer takes over
    assert.equal((await check(lb.port)).code, 1);
    status = 500;
    assert.equal((await check(lb.port)).code, 1);
  });

  test("fails fast when HAProxy hangs or is not listening", async () => {
    hang = true;
    const hung = await check(lb.port);
    assert.notEqual(hung.code, 0);
    assert.ok(hung.ms < 2500, `took ${hung.ms} ms`);
    const closed = await check(await freePort());
    assert.notEqual(closed.code, 0);
  });

  test("rejects a bad port argument", async () => {
    const r = await check("80x");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad port/);
  });
});

/** A fake DigitalOcean metadata service + API on 127.0.0.1. */
interface FakeDo {
  readonly url: string;
  readonly requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string; at: number }[];
  /** Statuses returned by successive assign POSTs; 201 once exhausted. */
  postStatuses: number[];
  /** GETs answered "not yet assigned" after the POST was accepted. */
  pendingPolls: number;
  /** Droplet currently holding the IP. */
  holder: number | null;
}

const IP = "203.0.113.10";
const DROPLET = 123456;
const fakes: TestServer[] = [];
after(async () => {
  for (const f of fakes) await f.kill();
});

async function startFakeDo(): Promise<FakeDo> {
  let accepted = false;
  const fake = { requests: [], postStatuses: [], pendingPolls: 0, holder: null } as unknown as {
    -readonly [K in keyof FakeDo]: FakeDo[K];
  };
  const json = (res: http.ServerResponse, code: number, body: unknown) =>
    res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(body));
  const srv = await startServer("127.0.0.1", (req, res) => {
    void readBody(req).then((body) => {
      fake.requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body, at: Date.now() });
      if (req.method === "GET" && req.url === "/metadata/v1/id") {
        res.writeHead(200, { "content-type": "text/plain" }).end(String(DROPLET));
      } else if (req.method === "POST" && req.url === `/v2/reserved_ips/${IP}/actions`) {
        const code = fake.postStatuses.shift() ?? 201;
        if (code === 201) {
          accepted = true;
          json(res, 201, { action: { id: 42, status: "in-progress", type: "assign_ip" } });
        } else {
          json(res, code, { id: "error", message: `fake error ${code}` });
        }
      } else if (req.method === "GET" && req.url === `/v2/reserved_ips/${IP}`) {
        if (accepted && fake.pendingPolls-- <= 0) fake.holder = DROPLET;
        json(res, 200, { reserved_ip: { ip: IP, droplet: fake.holder === null ? null : { id: fake.holder } } });
      } else {
        json(res, 404, { id: "not_found", message: "not found" });
      }
    });
  });
  fakes.push(srv);
  fake.url = `http://127.0.0.1:${srv.port}`;
  return fake;
}

let caseSeq = 0;
/** Writes a token file and runs the takeover script against `fake`. */
async function takeover(fake: FakeDo, opts: { viaEnvFile?: boolean; token?: string | null; maxTries?: number } = {}) {
  const dir = path.join(tmp.dir, `case-${caseSeq++}`);
  fs.mkdirSync(dir);
  const tokenFile = path.join(dir, "do-token");
  if (opts.token !== null) fs.writeFileSync(tokenFile, `${opts.token ?? "test-token"}\n`, { mode: 0o600 });
  const urls = { DO_API_URL: fake.url, DO_METADATA_URL: fake.url, DO_TOKEN_FILE: tokenFile };
  const envFile = path.join(dir, "lb.env");
  if (opts.viaEnvFile) {
    fs.writeFileSync(envFile, `# test\n${Object.entries(urls).map(([k, v]) => `${k}="${v}"`).join("\n")}\n`);
  }
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    DNS_RR_HA_ENV_FILE: envFile,
    TAKEOVER_MAX_TRIES: String(opts.maxTries ?? 6),
    TAKEOVER_BACKOFF_MS: "100",
    TAKEOVER_POLL_TRIES: "10",
    TAKEOVER_POLL_INTERVAL_MS: "50",
    TAKEOVER_LOCK_FILE: path.join(dir, "lock"),
    ...(opts.viaEnvFile ? {} : urls),
  };
  return run("bash", [takeoverScript, IP], { env });
}

const posts = (fake: FakeDo) => fake.requests.filter((r) => r.method === "POST");

describe("reserved-ip-takeover.sh against a fake DO API", () => {
  test("retries 429 with backoff, assigns, then polls until assigned (settings from lb.env)", async () => {
    const fake = await startFakeDo();
    fake.postStatuses = [429, 429];
    fake.pendingPolls = 2;
    const r = await takeover(fake, { viaEnvFile: true });
    assert.equal(r.code, 0, r.stderr);

    const p = posts(fake);
    assert.equal(p.length, 3);
    const last = p[2];
    assert.deepEqual(JSON.parse(last.body), { type: "assign", droplet_id: DROPLET });
    assert.equal(last.headers.authorization, "Bearer test-token");
    assert.equal(last.headers["content-type"], "application/json");
    const gap1 = p[1].at - p[0].at;
    const gap2 = p[2].at - p[1].at;
    // Lower bounds only: the backoff base is 100 ms, so a fixed delay fails gap2 >= 190. A ratio of
    // the two gaps is not the script's property: a loaded machine inflates either (CI saw 648/672).
    assert.ok(gap1 >= 95 && gap2 >= 190, `backoff gaps ${gap1} ms, ${gap2} ms`);

    // One pre-check GET, then polls until the third reports our droplet, then stop.
    const lastPost = fake.requests.indexOf(last);
    const after = fake.requests.slice(lastPost + 1);
    assert.equal(after.length, 3);
    assert.ok(after.every((q) => q.method === "GET" && q.url === `/v2/reserved_ips/${IP}`));
    assert.equal(fake.holder, DROPLET);
    assert.match(r.stderr, /now routes to droplet 123456/);
  });

  test("missing token file: exits non-zero, logs why, calls no API", async () => {
    const fake = await startFakeDo();
    const r = await takeover(fake, { token: null });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /token file .*do-token is missing/);
    assert.deepEqual(fake.requests, []);
  });

  test("already assigned to this droplet: no assign call", async () => {
    const fake = await startFakeDo();
    fake.holder = DROPLET;
    const r = await takeover(fake);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(posts(fake), []);
  });

  test("gives up after the bounded number of tries on persistent 5xx", async () => {
    const fake = await startFakeDo();
    fake.postStatuses = [503, 503, 503, 503];
    const r = await takeover(fake, { maxTries: 3 });
    assert.notEqual(r.code, 0);
    assert.equal(posts(fake).length, 3);
    assert.match(r.stderr, /giving up/);
  });

  test("does not retry a 401", async () => {
    const fake = await startFakeDo();
    fake.postStatuses = [401];
    const r = await takeover(fake);
    assert.notEqual(r.code, 0);
    assert.equal(posts(fake).length, 1);
    assert.match(r.stderr, /HTTP 401/);
  });

  test("rejects a malformed IP argument before any request", async () => {
    const r = await run("bash", [takeoverScript, "203.0.113.300"], { env: { PATH: process.env.PATH } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not an IPv4 address/);
  });
});

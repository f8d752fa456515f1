import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderNginxSite, NginxSiteSettings } from "./nginxSite";
import { startAppStack, AppStack, nginxMainConf } from "./testing/appStack";
import { request, getJson } from "./testing/http";
import { makeTempDir, removeTempDir, run } from "./testing/processes";

const base: NginxSiteSettings = {
  listenAddress: "10.10.0.5",
  phpFpmSocket: "/run/php/dns-rr-ha-fpm.sock",
  uploadsDir: "/var/www/dns-rr-ha/shared/uploads",
  trustedProxyCidrs: ["10.10.0.0/20", "10.20.0.0/20"],
  clientMaxBodySizeMb: 16,
};

/** `nginx -t` on a site text wrapped in the test main config; listen is forced to 127.0.0.1. */
function nginxCheck(siteText: string): { ok: boolean; output: string } {
  const dir = makeTempDir("dnsrrha-nginx-t");
  try {
    fs.mkdirSync(path.join(dir, "tmp"));
    const site = path.join(dir, "site.conf");
    fs.writeFileSync(site, siteText);
    const conf = path.join(dir, "nginx.conf");
    fs.writeFileSync(conf, nginxMainConf(dir, site));
    const r = run("nginx", ["-t", "-c", conf, "-e", "/dev/stderr", "-p", `${dir}/`]);
    return { ok: r.status === 0, output: r.stdout + r.stderr };
  } finally {
    removeTempDir(dir);
  }
}

describe("renderNginxSite: config validity", () => {
  test("passes nginx -t with several settings", () => {
    const variants: NginxSiteSettings[] = [
      { ...base, listenAddress: "127.0.0.1", listenPort: 18080 },
      { ...base, listenAddress: "127.0.0.1", listenPort: 18081, trustedProxyCidrs: [] },
      { ...base, listenAddress: "127.0.0.1", listenPort: 18082, trustedProxyCidrs: ["10.0.0.1"], statusAllowFrom: ["127.0.0.1/32", "10.0.0.0/8"], fpmStatusPath: "/status" },
    ];
    for (const v of variants) {
      const r = nginxCheck(renderNginxSite(v));
      assert.ok(r.ok, r.output);
    }
  });

  test("the nginx -t harness rejects a broken site (guards the check above)", () => {
    const broken = renderNginxSite({ ...base, listenAddress: "127.0.0.1" }).replace("real_ip_header", "real_ip_headr");
    assert.equal(nginxCheck(broken).ok, false);
  });

  test("listens only on the private address, default port 80", () => {
    const text = renderNginxSite(base);
    const listens = text.split("\n").filter((l) => /^\s*listen\s/.test(l));
    assert.deepEqual(listens.map((l) => l.trim()), ["listen 10.10.0.5:80 default_server;"]);
    assert.match(text, /^\s*set_real_ip_from 10\.10\.0\.0\/20;$/m);
    assert.match(text, /^\s*set_real_ip_from 10\.20\.0\.0\/20;$/m);
    assert.match(text, /client_max_body_size 16m;/);
  });

  test("refuses values that would inject nginx syntax", () => {
    assert.throws(() => renderNginxSite({ ...base, listenAddress: "10.0.0.1; include /etc/passwd" }), /listenAddress/);
    assert.throws(() => renderNginxSite({ ...base, trustedProxyCidrs: ["10.0.0.0/33"] }), /trustedProxyCidrs/);
    assert.throws(() => renderNginxSite({ ...base, uploadsDir: "/var/www/up loads" }), /uploadsDir/);
    assert.throws(() => renderNginxSite({ ...base, root: "/var/www/../etc" }), /root/);
    assert.throws(() => renderNginxSite({ ...base, clientMaxBodySizeMb: 0 }), /clientMaxBodySizeMb/);
    assert.throws(() => renderNginxSite({ ...base, listenPort: 70000 }), /listenPort/);
  });
});

describe("renderNginxSite: real nginx + php-fpm serving the demo app", () => {
  let stack: AppStack;
  before(async () => {
    // LB = 127.0.0.1 (trusted for X-Forwarded-For); "monitoring" = 127.0.0.2.
    stack = await startAppStack({ site: { trustedProxyCidrs: ["127.0.0.1/32"], statusAllowFrom: ["127.0.0.2/32"] } });
  });
  after(async () => {
    await stack?.stop();
  });
  const url = (p: string) => `${stack.baseUrl}${p}`;

  test("/healthz is answered by PHP with 200 ok", async () => {
    const r = await request(url("/healthz"));
    assert.equal(r.status, 200, stack.logs());
    assert.equal(r.body.trim(), "ok");
    assert.equal(r.headers["x-powered-by"], undefined, "pool hides X-Powered-By");
  });

  test("/ runs index.php and /whoami.json runs whoami.php", async () => {
    const page = await request(url("/"));
    assert.equal(page.status, 200);
    assert.match(page.body, /<dd id="region">test-region<\/dd>/);
    const { status, json } = await getJson<{ host: string; region: string; count: number; db: { error?: string } }>(url("/whoami.json"));
    assert.equal(status, 200);
    assert.equal(json.host, os.hostname());
    assert.equal(json.region, "test-region");
    assert.equal(typeof json.count, "number");
    assert.match(json.db.error ?? "", /DB_HOSTS is empty/);
  });

  test("client address comes from X-Forwarded-For only via a trusted proxy", async () => {
    type W = { client_ip: string };
    const viaLb = await getJson<W>(url("/whoami.json?write=0"), { headers: { "X-Forwarded-For": "203.0.113.7" } });
    assert.equal(viaLb.json.client_ip, "203.0.113.7");
    const spoofed = await getJson<W>(url("/whoami.json?write=0"), { headers: { "X-Forwarded-For": "198.51.100.1, 203.0.113.7" } });
    assert.equal(spoofed.json.client_ip, "203.0.113.7", "leftmost (client-supplied) entry is ignored");
    const chained = await getJson<W>(url("/whoami.json?write=0"), { headers: { "X-Forwarded-For": "203.0.113.7, 127.0.0.1" } });
    assert.equal(chained.json.client_ip, "203.0.113.7", "trusted hops are skipped");
    const direct = await getJson<W>(url("/whoami.json?write=0"), { localAddress: "127.0.0.2", headers: { "X-Forwarded-For": "203.0.113.7" } });
    assert.equal(direct.json.client_ip, "127.0.0.2", "untrusted peer cannot set its address");
  });

  test("php-fpm status is reachable only from the allowed TCP peer, not via X-Forwarded-For", async () => {
    const allowed = await request(url("/fpm-status"), { localAddress: "127.0.0.2" });
    assert.equal(allowed.status, 200, allowed.body);
    assert.match(allowed.body, /^pool:\s+dns-rr-ha$/m);
    const viaLb = await request(url("/fpm-status"), { headers: { "X-Forwarded-For": "127.0.0.2" } });
    assert.equal(viaLb.status, 403);
  });

  test("dotfiles and lib.php are not served", async () => {
    fs.writeFileSync(path.join(stack.docroot, ".env"), "SECRET=1\n");
    fs.mkdirSync(path.join(stack.docroot, ".git"));
    fs.writeFileSync(path.join(stack.docroot, ".git", "config"), "[core]\n");
    assert.equal((await request(url("/.env"))).status, 403);
    assert.equal((await request(url("/.git/config"))).status, 403);
    assert.equal((await request(url("/.hidden.php"))).status, 403);
    assert.equal((await request(url("/lib.php"))).status, 404);
  });

  test("uploads are served statically: PHP inside is not executed, dotfiles hidden, sandboxed", async () => {
    fs.writeFileSync(path.join(stack.uploadsDir, "evil.php"), "<?php echo 'EXEC' . 'UTED';");
    fs.writeFileSync(path.join(stack.uploadsDir, ".evil.txt.Xy12"), "partial");
    fs.writeFileSync(path.join(stack.uploadsDir, "pic.txt"), "hello");
    const evil = await request(url("/uploads/evil.php"));
    assert.equal(evil.status, 200);
    assert.ok(evil.body.includes("<?php"), "served as data");
    assert.ok(!evil.body.includes("EXECUTED"));
    assert.match(String(evil.headers["content-security-policy"]), /sandbox/);
    assert.equal(evil.headers["x-content-type-options"], "nosniff");
    assert.equal((await request(url("/uploads/.evil.txt.Xy12"))).status, 403);
    assert.equal((await request(url("/uploads/pic.txt"))).body, "hello");
    assert.equal((await request(url("/uploads/"))).status, 403, "no directory listing");
  });

  test("client_max_body_size limits request bodies", async () => {
    const big = Buffer.alloc(9 * 1024 * 1024, 97);
    const r = await request(url("/upload.php"), { method: "POST", body: big, headers: { "Content-Type": "application/octet-stream" } });
    assert.equal(r.status, 413);
  });

  test("/healthz fails once php-fpm is dead (health reflects the pool)", async () => {
    await stack.fpm.stop();
    const r = await request(url("/healthz"));
    assert.equal(r.status, 502);
  });
});

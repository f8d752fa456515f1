import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import fc from "fast-check";
import { computePmSizes, renderPhpFpmPool, PhpFpmPoolSettings } from "./phpFpmPool";
import { fpmMainConf } from "./testing/appStack";
import { makeTempDir, removeTempDir, run } from "./testing/processes";
import { knownIniDirectives } from "./testing/phpIni";

const base: PhpFpmPoolSettings = { memoryMb: 1024, uploadMaxMb: 16, appEnvPath: "/etc/dns-rr-ha/app.env" };

/** `php-fpm8.2 -t -y` on a pool text inside the test's global config wrapper. */
function fpmCheck(poolText: string): { ok: boolean; output: string } {
  const dir = makeTempDir("dnsrrha-fpm-t");
  try {
    const pool = path.join(dir, "pool.conf");
    fs.writeFileSync(pool, poolText);
    const conf = path.join(dir, "php-fpm.conf");
    fs.writeFileSync(conf, fpmMainConf(dir, pool));
    const r = run("php-fpm8.2", ["-t", "-y", conf]);
    return { ok: r.status === 0, output: r.stdout + r.stderr };
  } finally {
    removeTempDir(dir);
  }
}

describe("renderPhpFpmPool", () => {
  test("passes php-fpm -t for droplet sizes from 512 MiB to 64 GiB", () => {
    for (const memoryMb of [512, 1024, 2048, 4096, 8192, 65536]) {
      const r = fpmCheck(renderPhpFpmPool({ ...base, memoryMb, listenSocket: "/tmp/dnsrrha-check.sock" }));
      assert.ok(r.ok, `${memoryMb} MiB: ${r.output}`);
    }
  });

  test("the php-fpm -t harness rejects pm sizes php-fpm forbids (guards the check above)", () => {
    const text = renderPhpFpmPool({ ...base, listenSocket: "/tmp/dnsrrha-check.sock" }).replace(/^pm\.max_spare_servers = \d+$/m, "pm.max_spare_servers = 999");
    assert.equal(fpmCheck(text).ok, false);
  });

  test("pm sizes satisfy php-fpm's ordering for any memory size", () => {
    fc.assert(
      fc.property(fc.integer({ min: 256, max: 512 * 1024 }), fc.integer({ min: 8, max: 512 }), fc.integer({ min: 0, max: 256 }), (mem, per, reserved) => {
        const p = computePmSizes(mem, per, Math.min(reserved, mem));
        assert.ok(p.maxChildren >= 2 && p.maxChildren <= 256);
        assert.ok(p.minSpareServers >= 1);
        assert.ok(p.minSpareServers <= p.startServers && p.startServers <= p.maxSpareServers);
        assert.ok(p.maxSpareServers <= p.maxChildren);
      }),
    );
  });

  test("children fit in the memory left after the reserve", () => {
    const p = computePmSizes(2048, 40, 384);
    assert.equal(p.maxChildren, Math.floor((2048 - 384) / 40));
    assert.equal(computePmSizes(512, 40, 384).maxChildren, 3);
    assert.equal(computePmSizes(256, 64, 256).maxChildren, 2, "floor of 2 workers");
  });

  test("every php_admin_value/flag names a directive the installed PHP knows", () => {
    const known = knownIniDirectives();
    const keys = [...renderPhpFpmPool(base).matchAll(/^php_admin_(?:value|flag)\[([^\]]+)\]/gm)].map((m) => m[1] ?? "");
    assert.ok(keys.length >= 5);
    for (const k of keys) assert.ok(known.has(k), `unknown ini directive ${k}`);
    assert.equal(known.has("upload_max_filesiz"), false, "the known-directive list is not a catch-all");
  });

  test("sets listen socket, status path, upload limits and the app env path", () => {
    const text = renderPhpFpmPool({ ...base, listenSocket: "/run/php/x.sock", uploadMaxMb: 32 });
    assert.match(text, /^listen = \/run\/php\/x\.sock$/m);
    assert.match(text, /^pm\.status_path = \/fpm-status$/m);
    assert.match(text, /^php_admin_value\[upload_max_filesize\] = 32M$/m);
    assert.match(text, /^php_admin_value\[post_max_size\] = 33M$/m);
    assert.match(text, /^env\[DNS_RR_HA_APP_ENV\] = \/etc\/dns-rr-ha\/app\.env$/m);
    assert.doesNotMatch(renderPhpFpmPool({ memoryMb: 1024, uploadMaxMb: 1 }), /^env\[/m);
  });

  test("refuses values that would inject config", () => {
    assert.throws(() => renderPhpFpmPool({ ...base, user: "www-data\nuser = root" }), /user/);
    assert.throws(() => renderPhpFpmPool({ ...base, listenSocket: "relative.sock" }), /listenSocket/);
    assert.throws(() => renderPhpFpmPool({ ...base, memoryMb: 100 }), /memoryMb/);
  });
});

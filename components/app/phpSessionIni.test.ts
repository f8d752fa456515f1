import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { renderPhpSessionIni, sessionReplicaCount, PhpSessionIniSettings } from "./phpSessionIni";
import { startAppStack } from "./testing/appStack";
import { CookieJar, getJson } from "./testing/http";
import { freePort, makeTempDir, removeTempDir } from "./testing/processes";
import { iniValues, knownIniDirectives, parseIni } from "./testing/phpIni";
import { memcachedStats, startMemcached, Memcached } from "./testing/services";

const two: PhpSessionIniSettings = { memcachedServers: [{ address: "10.10.0.7", port: 11211 }, { address: "10.20.0.7", port: 11211 }] };

/** Directives of an ini text the installed PHP does not know (PHP ignores them silently). */
function unknownKeys(iniText: string): string[] {
  const known = knownIniDirectives();
  return parseIni(iniText).map(([k]) => k).filter((k) => !known.has(k));
}

/** PHP's own spelling of an ini value: booleans read back as "1" / "". */
function phpView(v: string): string {
  if (/^(on|yes|true)$/i.test(v)) return "1";
  if (/^(off|no|false)$/i.test(v)) return "";
  return v;
}

describe("renderPhpSessionIni: directives", () => {
  test("every directive is known to the installed php-memcached / session module", () => {
    const text = renderPhpSessionIni(two);
    assert.ok(parseIni(text).length >= 20);
    assert.deepEqual(unknownKeys(text), []);
    assert.deepEqual(unknownKeys(`${text}memcached.sess_number_of_replica = 1\n`), ["memcached.sess_number_of_replica"], "a typo is caught");
  });

  test("PHP loads every value as rendered", () => {
    const dir = makeTempDir("dnsrrha-ini");
    try {
      const text = renderPhpSessionIni({ ...two, connectTimeoutMs: 250, cookieSecure: true, cookieName: "DNSRRHA" });
      fs.writeFileSync(path.join(dir, "99-session.ini"), text);
      const pairs = parseIni(text);
      const got = iniValues(pairs.map(([k]) => k), { ...process.env, PHP_INI_SCAN_DIR: `:${dir}` });
      for (const [k, v] of pairs) assert.equal(got[k], phpView(v), k);
      assert.equal(got["session.save_path"], "10.10.0.7:11211,10.20.0.7:11211");
      assert.equal(got["memcached.sess_number_of_replicas"], "1");
      assert.equal(got["session.cookie_samesite"], "Lax");
    } finally {
      removeTempDir(dir);
    }
  });

  test("replicas: every node holds every session up to the cap, at least one copy with 2+ nodes", () => {
    assert.equal(sessionReplicaCount(1), 0);
    assert.equal(sessionReplicaCount(2), 1);
    assert.equal(sessionReplicaCount(3), 2);
    assert.equal(sessionReplicaCount(6), 2);
    assert.equal(sessionReplicaCount(6, 4), 4);
    assert.equal(sessionReplicaCount(3, 1), 1);
  });

  test("failover knobs that the kill test depends on", () => {
    const text = renderPhpSessionIni(two);
    assert.match(text, /^memcached\.sess_binary_protocol = On$/m);
    assert.match(text, /^memcached\.sess_consistent_hash = On$/m);
    assert.match(text, /^memcached\.sess_remove_failed_servers = On$/m);
    assert.match(text, /^memcached\.sess_server_failure_limit = 1$/m);
    assert.match(text, /^session\.use_strict_mode = 0$/m, "strict mode's id probe defeats failover");
    assert.match(text, /^session\.cookie_httponly = 1$/m);
  });

  test("refuses bad input", () => {
    assert.throws(() => renderPhpSessionIni({ memcachedServers: [] }), /at least one/);
    assert.throws(() => renderPhpSessionIni({ memcachedServers: [two.memcachedServers[0]!, two.memcachedServers[0]!] }), /duplicate/);
    assert.throws(() => renderPhpSessionIni({ memcachedServers: [{ address: "a\"b", port: 11211 }] }), /address/);
    assert.throws(() => renderPhpSessionIni({ ...two, lockRetries: 1 }), /lockRetries/);
  });
});

describe("renderPhpSessionIni: sessions survive losing a memcached node (real nginx + php-fpm + 2 memcached)", () => {
  test("counter continues after SIGKILL of either node and after it restarts empty", async () => {
    const logDir = makeTempDir("dnsrrha-memcached");
    const ports = [await freePort(), await freePort()] as const;
    const nodes: (Memcached | undefined)[] = [];
    const stack = await startAppStack({
      extraIni: renderPhpSessionIni({ memcachedServers: ports.map((port) => ({ address: "127.0.0.1", port })) }),
    });
    try {
      for (const port of ports) nodes.push(await startMemcached(port, logDir));
      type W = { session_id: string | null; count: number | null };
      // Each node is the victim once, with several sessions per round: a session's
      // data key and its lock key hash independently, so this makes it near
      // certain that some session has its primary copy or its lock on the victim.
      for (const victim of [0, 1]) {
        const jars = [0, 1, 2, 3, 4, 5].map(() => new CookieJar());
        const hit = async (jar: CookieJar) => (await getJson<W>(`${stack.baseUrl}/whoami.json?write=0`, { jar })).json;
        const ids: string[] = [];
        for (const jar of jars) {
          const first = await hit(jar);
          assert.equal(first.count, 1, stack.logs());
          assert.ok(first.session_id);
          ids.push(first.session_id);
          assert.equal((await hit(jar)).count, 2);
          assert.equal((await hit(jar)).count, 3);
        }
        for (const port of ports) {
          const items = Number((await memcachedStats(port)).get("curr_items"));
          assert.ok(items >= jars.length, `node :${port} holds a copy of every session (replication): ${items}`);
        }

        const expectCounts = async (counts: number[], when: string) => {
          for (const expected of counts) {
            for (const [i, jar] of jars.entries()) {
              const w = await hit(jar);
              assert.equal(w.count, expected, `${when}: ${JSON.stringify(w)}\n${stack.logs()}`);
              assert.equal(w.session_id, ids[i]);
            }
          }
        };
        await nodes[victim]!.proc.kill();
        await expectCounts([4, 5, 6], `node ${victim} killed`);
        // It comes back empty: sessions whose primary copy it was are recovered
        // from the replica by the app (lib.php app_session_recover).
        nodes[victim] = await startMemcached(ports[victim], logDir);
        await expectCounts([7, 8], `node ${victim} restarted empty`);
      }
      // Strict mode is off (see phpSessionIni.ts); the app still refuses a made-up id.
      const fixated = new CookieJar();
      fixated.cookies.set("PHPSESSID", "madeupbyattacker0123456789");
      const w = (await getJson<W>(`${stack.baseUrl}/whoami.json?write=0`, { jar: fixated })).json;
      assert.equal(w.count, 1);
      assert.notEqual(w.session_id, "madeupbyattacker0123456789");
      assert.equal(fixated.cookies.get("PHPSESSID"), w.session_id);
    } finally {
      await stack.stop();
      for (const n of nodes) await n?.proc.stop();
      removeTempDir(logDir);
    }
  });
});

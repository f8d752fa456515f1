import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { run } from "../net/exec";
import { NamedConfOptions, renderNamedConf, renderRndcConf } from "./namedConf";
import { renderZone } from "./zoneFile";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "namedconf-test-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const control = { port: 953, keyName: "lab-rndc", keySecret: Buffer.alloc(32, 1).toString("base64") };

function options(zones: string[]): NamedConfOptions {
  for (const z of zones) {
    fs.writeFileSync(path.join(dir, `${z}.zone`), renderZone({ name: z, records: [{ type: "A", name: "www", value: "203.0.113.10", ttl: 30 }] }, { serial: 1, nsAddress: "192.0.2.53" }));
  }
  return { listenAddress: "192.0.2.53", stateDir: dir, zones: zones.map((name) => ({ name, file: path.join(dir, `${name}.zone`) })), control };
}

/** The real named-checkconf, also loading the zones (-z). */
async function checkConf(text: string): Promise<{ code: number; out: string }> {
  const file = path.join(dir, "named.conf");
  fs.writeFileSync(file, text);
  const r = await run("named-checkconf", ["-z", file], { allowFail: true });
  return { code: r.code, out: r.stdout + r.stderr };
}

describe("renderNamedConf", () => {
  test("named-checkconf -z accepts the config and its zones", async () => {
    const { code, out } = await checkConf(renderNamedConf(options(["example.test", "other.test"])));
    assert.equal(code, 0, out);
    assert.match(out, /zone example\.test\/IN: loaded serial 1/);
    assert.match(out, /zone other\.test\/IN: loaded serial 1/);
  });

  test("named-checkconf really rejects a broken config (so the check above means something)", async () => {
    const broken = renderNamedConf(options(["example.test"])).replace("recursion no;", "recursion maybe;");
    assert.notEqual((await checkConf(broken)).code, 0);
  });

  test("authoritative only, random rrset order, minimal responses, control channel on loopback", () => {
    const text = renderNamedConf(options(["example.test"]));
    for (const line of ["recursion no;", "rrset-order { order random; };", "minimal-responses yes;", "listen-on port 53 { 192.0.2.53; 127.0.0.1; };"]) {
      assert.ok(text.includes(`\t${line}`), line);
    }
    assert.match(text, /controls \{\n\tinet 127\.0\.0\.1 port 953 allow \{ 127\.0\.0\.1; \} keys \{ "lab-rndc"; \};/);
    assert.match(renderRndcConf(control), /default-port 953;/);
  });

  test("rejects what it cannot quote or does not understand", () => {
    assert.throws(() => renderNamedConf({ ...options([]), stateDir: '/tmp/a"b' }), /cannot quote/);
    assert.throws(() => renderNamedConf({ ...options([]), control: { ...control, keySecret: "not base64!" } }), /base64/);
    assert.throws(() => renderNamedConf({ ...options(["example.test"]), zones: [{ name: "a.test", file: "/x" }, { name: "A.test.", file: "/y" }] }), /twice/);
    assert.throws(() => renderNamedConf({ ...options([]), listenAddress: "::1" }), /IPv4/);
  });
});

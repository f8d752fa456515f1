import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { run } from "../net/exec";
import type { DnsRecord } from "./dnsTypes";
import { quoteTxt, renderZone } from "./zoneFile";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zonefile-test-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs the real named-checkzone; returns its canonical dump of the zone. */
async function checkZone(zone: string, text: string): Promise<{ code: number; out: string }> {
  const file = path.join(dir, `${zone}.zone`);
  fs.writeFileSync(file, text);
  const r = await run("named-checkzone", ["-D", "-o", "-", zone, file], { allowFail: true });
  return { code: r.code, out: r.stdout + r.stderr };
}

const records: DnsRecord[] = [
  { type: "A", name: "www", value: "203.0.113.10", ttl: 30 },
  { type: "A", name: "www", value: "203.0.113.11", ttl: 30 },
  { type: "A", name: "@", value: "203.0.113.10", ttl: 60 },
  { type: "AAAA", name: "v6", value: "2001:db8:0::1", ttl: 60 },
  { type: "CNAME", name: "app", value: "www.example.test.", ttl: 120 },
  { type: "TXT", name: "@", value: 'v=spf1 -all "quoted" \\ back ünïcode', ttl: 300 },
  { type: "A", name: "db.example.test.", value: "10.110.0.5", ttl: 30 },
  { type: "A", name: "*.wild", value: "203.0.113.12", ttl: 30 },
];

describe("renderZone", () => {
  test("named-checkzone accepts the zone and serves what was declared (TTLs included)", async () => {
    const { code, out } = await checkZone("example.test", renderZone({ name: "example.test", records }, { serial: 42, nsAddress: "192.0.2.53" }));
    assert.equal(code, 0, out);
    assert.match(out, /example\.test\.\s+30\s+IN\s+SOA\s+lab-ns\.example\.test\. hostmaster\.example\.test\. 42 /);
    assert.match(out, /example\.test\.\s+30\s+IN\s+NS\s+lab-ns\.example\.test\./);
    assert.match(out, /lab-ns\.example\.test\.\s+30\s+IN\s+A\s+192\.0\.2\.53/);
    assert.equal(out.match(/www\.example\.test\.\s+30\s+IN\s+A\s+203\.0\.113\.1[01]/g)?.length, 2);
    assert.match(out, /^example\.test\.\s+60\s+IN\s+A\s+203\.0\.113\.10$/m);
    assert.match(out, /v6\.example\.test\.\s+60\s+IN\s+AAAA\s+2001:db8::1/);
    assert.match(out, /app\.example\.test\.\s+120\s+IN\s+CNAME\s+www\.example\.test\./);
    assert.match(out, /db\.example\.test\.\s+30\s+IN\s+A\s+10\.110\.0\.5/, "absolute owner inside the zone");
    assert.match(out, /\*\.wild\.example\.test\.\s+30\s+IN\s+A/);
    assert.ok(out.includes('"v=spf1 -all \\"quoted\\" \\\\ back \\195\\188n\\195\\175code"'), out);
  });

  test("named-checkzone really rejects a broken zone (so the check above means something)", async () => {
    const broken = renderZone({ name: "example.test", records }, { serial: 1, nsAddress: "192.0.2.53" }).replace(/^@\t30\tIN\tSOA.*$/m, "");
    assert.notEqual((await checkZone("example.test", broken)).code, 0);
  });

  test("records' own apex NS replace the generated one", async () => {
    const text = renderZone(
      { name: "example.test", records: [{ type: "NS", name: "@", value: "ns1.example.net.", ttl: 300 }] },
      { serial: 1, nsAddress: "192.0.2.53" },
    );
    assert.equal(text.match(/\tNS\t/g)?.length, 1);
    assert.equal((await checkZone("example.test", text)).code, 0);
  });

  test("long TXT values are split into 255-byte strings", async () => {
    const long = "x".repeat(600);
    assert.equal(quoteTxt(long).split('" "').length, 3);
    assert.equal(quoteTxt(""), '""');
    const text = renderZone({ name: "example.test", records: [{ type: "TXT", name: "big", value: long, ttl: 30 }] }, { serial: 1, nsAddress: "192.0.2.53" });
    assert.equal((await checkZone("example.test", text)).code, 0);
  });

  test("rejects what DNS forbids or what is malformed, with clear messages", () => {
    const r = (recs: DnsRecord[], serial = 1) => renderZone({ name: "example.test", records: recs }, { serial, nsAddress: "192.0.2.53" });
    assert.throws(() => r([{ type: "CNAME", name: "@", value: "x.example.net.", ttl: 30 }]), /CNAME at @/);
    assert.throws(
      () =>
        r([
          { type: "CNAME", name: "a", value: "b", ttl: 30 },
          { type: "TXT", name: "a", value: "t", ttl: 30 },
        ]),
      /CNAME at a/,
    );
    assert.throws(() => r([{ type: "A", name: "x.example.org.", value: "192.0.2.1", ttl: 30 }]), /outside zone/);
    assert.throws(() => r([{ type: "A", name: "bad name", value: "192.0.2.1", ttl: 30 }]), /invalid record name/);
    assert.throws(() => r([{ type: "A", name: "x", value: "2001:db8::1", ttl: 30 }]), /IPv4/);
    assert.throws(() => r([{ type: "A", name: "x", value: "192.0.2.1", ttl: -1 }]), /TTL/);
    assert.throws(() => r([], 0), /serial/);
    assert.throws(() => renderZone({ name: "bad..zone", records: [] }, { serial: 1, nsAddress: "192.0.2.53" }), /zone name/);
  });
});

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { addressIndex, cidrContains, formatCidr, formatIp, ipInCidr, mergeCidrs, nthAddress, parseCidr, parseIpv4, parseIpv6 } from "./cidr";

describe("cidr", () => {
  test("parses and formats IPv4 and IPv6", () => {
    assert.equal(parseIpv4("10.110.0.1"), 0x0a6e0001n);
    assert.equal(formatIp(6, parseIpv6("2001:db8:0:0:0:0:0:1")), "2001:db8::1");
    assert.equal(formatIp(6, parseIpv6("::")), "::");
    assert.equal(formatIp(6, parseIpv6("::ffff:192.0.2.1")), "::ffff:c000:201");
    assert.equal(formatIp(6, parseIpv6("1:0:0:2:0:0:0:3")), "1:0:0:2::3", "longest zero run is compressed");
  });

  test("rejects malformed addresses", () => {
    for (const bad of ["1.2.3", "1.2.3.256", "01.2.3.4", "1.2.3.4.5", "a.b.c.d", ""]) assert.throws(() => parseIpv4(bad), /IPv4/, bad);
    for (const bad of ["1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "g::1"]) assert.throws(() => parseIpv6(bad), /IPv6/, bad);
    assert.throws(() => parseCidr("10.0.0.0/33"), /too long/);
  });

  test("clears host bits and tests containment", () => {
    assert.equal(formatCidr(parseCidr("10.110.3.4/20")), "10.110.0.0/20");
    assert.equal(formatCidr(parseCidr("192.0.2.7/32")), "192.0.2.7");
    assert.ok(cidrContains(parseCidr("10.0.0.0/8"), parseCidr("10.110.0.0/20")));
    assert.ok(!cidrContains(parseCidr("10.110.0.0/20"), parseCidr("10.0.0.0/8")));
    assert.ok(!cidrContains(parseCidr("10.0.0.0/8"), parseCidr("::/0")));
    assert.ok(ipInCidr("10.110.15.255", "10.110.0.0/20"));
    assert.ok(!ipInCidr("10.110.16.0", "10.110.0.0/20"));
  });

  test("nthAddress and addressIndex are inverse and bounded", () => {
    assert.equal(nthAddress("10.110.0.0/20", 1), "10.110.0.1");
    assert.equal(nthAddress("10.110.0.0/20", 4095), "10.110.15.255");
    assert.throws(() => nthAddress("10.110.0.0/20", 4096), /outside/);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4095 }), (n) => addressIndex("10.110.0.0/20", nthAddress("10.110.0.0/20", n)) === n),
    );
  });

  test("mergeCidrs removes covered and duplicate prefixes and sorts", () => {
    assert.deepEqual(mergeCidrs(["10.1.2.3", "10.0.0.0/8", "192.0.2.1/24", "10.0.0.0/8", "2001:db8::1", "2001:db8::/32"]), [
      "10.0.0.0/8",
      "192.0.2.0/24",
      "2001:db8::/32",
    ]);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.ipV4(), fc.integer({ min: 8, max: 32 })), { maxLength: 20 }), (list) => {
        const input = list.map(([a, l]) => `${a}/${l}`);
        const merged = mergeCidrs(input).map(parseCidr);
        // No element covers another, and every input stays covered.
        for (const a of merged) for (const b of merged) if (a !== b) assert.ok(!cidrContains(a, b));
        for (const c of input) assert.ok(merged.some((m) => cidrContains(m, parseCidr(c))));
      }),
    );
  });
});

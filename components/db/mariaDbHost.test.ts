import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { cidrToMariaDbHost } from "./mariaDbHost";

describe("cidrToMariaDbHost", () => {
  test("converts prefix lengths to dotted netmasks", () => {
    assert.equal(cidrToMariaDbHost("10.10.0.0/20"), "10.10.0.0/255.255.240.0");
    assert.equal(cidrToMariaDbHost("10.0.0.0/8"), "10.0.0.0/255.0.0.0");
    assert.equal(cidrToMariaDbHost("192.168.1.128/25"), "192.168.1.128/255.255.255.128");
    assert.equal(cidrToMariaDbHost("128.0.0.0/1"), "128.0.0.0/128.0.0.0");
    assert.equal(cidrToMariaDbHost("255.255.255.254/31"), "255.255.255.254/255.255.255.254");
  });
  test("a /32 is the bare address", () => {
    assert.equal(cidrToMariaDbHost("10.1.2.3/32"), "10.1.2.3");
  });
  test("rejects host bits, suggesting the network", () => {
    assert.throws(() => cidrToMariaDbHost("10.10.1.0/20"), /host bits set.*10\.10\.0\.0\/20/);
  });
  test("rejects malformed input and /0", () => {
    for (const bad of ["10.10.0.0", "10.10.0.0/33", "10.10.0/20", "300.1.1.1/8", "0.0.0.0/0", "fd00::/8"]) {
      assert.throws(() => cidrToMariaDbHost(bad), /cidrToMariaDbHost/, bad);
    }
    assert.equal(cidrToMariaDbHost(" 10.0.0.0/8 "), "10.0.0.0/255.0.0.0");
  });
});

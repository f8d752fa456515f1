import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  DEFAULT_ADDRESS_PLAN,
  adminCidr,
  allocateFrom,
  fabricNetnsName,
  hostNetnsName,
  hostPortNames,
  makeAddressPlan,
  publicGatewayFor,
  stableMac,
  validatePrefix,
  vpcBridgeName,
} from "./addressPlan";
import { cidrOverlaps, ipInCidr, parseCidr } from "./cidr";

describe("address plan", () => {
  test("default plan uses documentation ranges that do not overlap", () => {
    const plan = makeAddressPlan();
    assert.deepEqual(plan, { ...DEFAULT_ADDRESS_PLAN, privateSupernets: [...DEFAULT_ADDRESS_PLAN.privateSupernets] });
    const ranges = [plan.dropletPublicRange, plan.servicesRange, plan.reservedRange].map(parseCidr);
    for (const [i, a] of ranges.entries()) for (const b of ranges.slice(i + 1)) assert.ok(!cidrOverlaps(a, b));
    for (const ip of [plan.clientIp, plan.adminIp, plan.dnsIp]) assert.ok(ipInCidr(ip, plan.servicesRange));
    assert.equal(adminCidr(plan), "192.0.2.22/32");
  });

  test("rejects overlapping or misplaced ranges", () => {
    assert.throws(() => makeAddressPlan({ reservedRange: "198.51.100.128/25" }), /overlaps/);
    assert.throws(() => makeAddressPlan({ clientIp: "198.51.100.9" }), /inside servicesRange/);
    assert.throws(() => makeAddressPlan({ dnsIp: "192.0.2.1" }), /gateway/);
    assert.throws(() => makeAddressPlan({ adminIp: "192.0.2.10" }), /distinct/);
    assert.throws(() => makeAddressPlan({ privateSupernets: ["192.0.0.0/8"] }), /overlaps/);
  });

  test("public gateway is the first host of the range holding the address", () => {
    const plan = makeAddressPlan();
    assert.equal(publicGatewayFor(plan, "198.51.100.10"), "198.51.100.1");
    assert.equal(publicGatewayFor(plan, "192.0.2.10"), "192.0.2.1");
    assert.throws(() => publicGatewayFor(plan, "203.0.113.5"), /outside/);
    assert.throws(() => publicGatewayFor(plan, "198.51.100.1"), /reserved/);
  });

  test("allocateFrom returns the lowest free address and stops at the broadcast", () => {
    assert.equal(allocateFrom("10.110.0.0/20", [], 2), "10.110.0.2");
    assert.equal(allocateFrom("10.110.0.0/20", ["10.110.0.2", "10.110.0.4"], 2), "10.110.0.3");
    const all = Array.from({ length: 4 }, (_, i) => `192.0.2.${i + 2}`);
    assert.throws(() => allocateFrom("192.0.2.0/29", all.concat(["192.0.2.6"]), 2), /exhausted/);
  });

  test("names: prefix rules, netns names, ≤15-char unique interface names", () => {
    assert.equal(validatePrefix("drr"), "drr");
    for (const bad of ["", "d", "drr-x", "Drr", "1drr", "drrdrrdrrdr"]) assert.throws(() => validatePrefix(bad), /prefix/, bad);
    assert.equal(fabricNetnsName("drr"), "drr-fabric");
    assert.equal(hostNetnsName("drr", "lb-nyc3-1"), "drr-h-lb-nyc3-1");
    assert.throws(() => hostNetnsName("drr", "Bad_Name"));
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,40}$/), { minLength: 2, maxLength: 30 }), (names) => {
        const ifaces = names.flatMap((n) => [vpcBridgeName(n), hostPortNames(n).pub, hostPortNames(n).vpc]);
        for (const i of ifaces) assert.ok(i.length <= 15 && /^[a-z0-9-]+$/.test(i), i);
        assert.equal(new Set(ifaces).size, ifaces.length);
      }),
    );
  });

  test("stable MACs are locally administered unicast and deterministic", () => {
    const mac = stableMac("x");
    assert.match(mac, /^02(:[0-9a-f]{2}){5}$/);
    assert.equal(stableMac("x"), mac);
    assert.notEqual(stableMac("y"), mac);
  });
});

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { extraDelayMs, innerIpv4, regionLookup, regionPairKey } from "./pairLatency";

/** A VXLAN datagram carrying an IPv4 packet from `src` to `dst`. */
function vxlan(src: string, dst: string, ethertype = 0x0800): Buffer {
    const b = Buffer.alloc(8 + 14 + 20);
    b.writeUInt16BE(ethertype, 8 + 12);
    src.split(".").forEach((o, i) => (b[8 + 14 + 12 + i] = Number(o)));
    dst.split(".").forEach((o, i) => (b[8 + 14 + 16 + i] = Number(o)));
    return b;
}

describe("per-pair latency of the delay relay", () => {
    const regionOf = regionLookup({
        vpcs: {
            vpc1: { name: "vpc1", region: "nyc3", ipRange: "10.110.0.0/20", bridge: "b1", gateway: "10.110.0.1", prefixLen: 20 },
            vpc2: { name: "vpc2", region: "ams3", ipRange: "10.111.0.0/20", bridge: "b2", gateway: "10.111.0.1", prefixLen: 20 },
        },
        hosts: {
            lb: { name: "lb", netns: "n", publicIp: "198.51.100.18", publicGateway: "g", region: "nyc3", ports: { pub: "p" } },
            client: { name: "client", netns: "c", publicIp: "192.0.2.21", publicGateway: "g", ports: { pub: "q" } },
        },
    });
    test("regions from VPC ranges and hosts' public addresses; the internet has none", () => {
        assert.equal(regionOf("10.111.0.5"), "ams3");
        assert.equal(regionOf("198.51.100.18"), "nyc3");
        assert.equal(regionOf("192.0.2.21"), undefined);
    });
    test("the inner addresses are read from the VXLAN frame; non-IPv4 frames are left alone", () => {
        assert.deepEqual(innerIpv4(vxlan("10.110.0.6", "10.111.0.7")), { src: "10.110.0.6", dst: "10.111.0.7" });
        assert.equal(innerIpv4(vxlan("10.110.0.6", "10.111.0.7", 0x86dd)), undefined);
        assert.equal(innerIpv4(Buffer.alloc(10)), undefined);
    });
    test("extra delay only for the configured pair, in both directions", () => {
        const extra = { [regionPairKey("nyc3", "ams3")]: 100 };
        assert.equal(regionPairKey("nyc3", "ams3"), "ams3|nyc3");
        assert.equal(extraDelayMs(vxlan("10.110.0.6", "10.111.0.7"), regionOf, extra), 100);
        assert.equal(extraDelayMs(vxlan("10.111.0.7", "198.51.100.18"), regionOf, extra), 100);
        assert.equal(extraDelayMs(vxlan("10.110.0.6", "10.110.0.7"), regionOf, extra), 0);
        assert.equal(extraDelayMs(vxlan("10.110.0.6", "192.0.2.21"), regionOf, extra), 0);
        assert.equal(extraDelayMs(vxlan("10.110.0.6", "10.111.0.7"), regionOf, {}), 0);
    });
});

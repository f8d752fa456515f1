import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { makeAddressPlan } from "./addressPlan";
import { run } from "./exec";
import { renderFabricNft } from "./fabricNft";
import type { FabricState, HostRecord } from "./fabricState";

function host(name: string, publicIp: string, vpc?: { name: string; region: string; privateIp: string }): HostRecord {
  return {
    name,
    netns: `x-h-${name}`,
    publicIp,
    publicGateway: "198.51.100.1",
    ...(vpc ? { region: vpc.region, vpc: { name: vpc.name, bridge: `v-${vpc.name}`, privateIp: vpc.privateIp, prefixLen: 20, gateway: "" } } : {}),
    ports: { pub: `p-${name}`, ...(vpc ? { vpc: `q-${name}` } : {}) },
  };
}

function sampleState(): FabricState {
  const vpc = (name: string, region: string, ipRange: string) => ({ name, region, ipRange, bridge: `v-${name}`, gateway: "", prefixLen: 20 });
  return {
    version: 1,
    prefix: "x",
    plan: makeAddressPlan(),
    interRegionDelayMs: 40,
    vpcs: { nyc: vpc("nyc", "nyc3", "10.110.0.0/20"), ams: vpc("ams", "ams3", "10.120.0.0/20"), sfo: vpc("sfo", "sfo3", "10.130.0.0/20") },
    peerings: [["ams", "nyc"]],
    hosts: {
      lb1: host("lb1", "198.51.100.10", { name: "nyc", region: "nyc3", privateIp: "10.110.0.2" }),
      lb2: host("lb2", "198.51.100.11", { name: "ams", region: "ams3", privateIp: "10.120.0.2" }),
      client: host("client", "192.0.2.10"),
    },
    reservedIps: { "203.0.113.10": "lb1", "203.0.113.11": null },
    allocations: { public: {}, private: {}, reserved: {} },
    blackholed: ["lb2"],
    partitions: [["nyc", "ams"]],
  };
}

async function nftCheck(text: string): Promise<{ code: number; stderr: string }> {
  // -c parses and validates in the kernel without committing anything.
  const r = await run("nft", ["-c", "-f", "-"], { input: text, allowFail: true });
  return { code: r.code, stderr: r.stderr };
}

describe("renderFabricNft", () => {
  test("nft -c actually rejects a broken script (the check below is meaningful)", async () => {
    const broken = renderFabricNft(sampleState()).replace("policy drop;", "policy sometimes;");
    assert.notEqual((await nftCheck(broken)).code, 0);
  });

  test("an empty fabric and a busy one both pass nft -c", async () => {
    const empty: FabricState = { ...sampleState(), vpcs: {}, hosts: {}, peerings: [], partitions: [], reservedIps: {}, blackholed: [] };
    for (const state of [empty, sampleState()]) {
      const r = await nftCheck(renderFabricNft(state));
      assert.equal(r.code, 0, r.stderr);
    }
  });

  test("replaces its tables atomically", () => {
    const lines = renderFabricNft(sampleState()).split("\n");
    assert.deepEqual(lines.slice(1, 5), [
      "table inet drr_fabric",
      "delete table inet drr_fabric",
      "table bridge drr_fabric_l2",
      "delete table bridge drr_fabric_l2",
    ]);
  });

  test("reserved IPs: only assigned ones are DNATed, with hairpin SNAT; the rest of the range is dropped", () => {
    const text = renderFabricNft(sampleState());
    assert.match(text, /dnat ip to ip daddr map \{ 203\.0\.113\.10 : 198\.51\.100\.10 \}/);
    assert.doesNotMatch(text, /203\.0\.113\.11/);
    assert.match(text, /ct status dnat ip saddr 198\.51\.100\.10 ip daddr 198\.51\.100\.10 snat ip to 198\.51\.100\.1/);
    assert.match(text, /ip daddr 203\.0\.113\.0\/24 drop/);
  });

  test("latency marks exactly the ordered pairs of different regions, and none at 0 ms", () => {
    const text = renderFabricNft(sampleState());
    const marks = text.split("\n").filter((l) => l.includes("meta mark set"));
    assert.equal(marks.length, 3 * 2, "3 regions -> 6 ordered pairs");
    assert.match(text, /set region_1 \{[^}]*elements = \{ 10\.110\.0\.0\/20, 198\.51\.100\.10 \}/, "nyc3 holds its VPC and its droplet");
    assert.doesNotMatch(text, /192\.0\.2\.10/, "the client is in no region");
    assert.equal(renderFabricNft({ ...sampleState(), interRegionDelayMs: 0 }).includes("meta mark set"), false);
  });

  test("forward: partition drops come before the public and peering accepts; unpeered VPCs have no accept", () => {
    const fwd = /chain forward \{([\s\S]*?)\n  \}/.exec(renderFabricNft(sampleState()))?.[1] ?? "";
    const lines = fwd.split("\n").filter((l) => !l.trim().startsWith("#") && l.trim());
    assert.match(lines[0] ?? "", /policy drop/);
    assert.equal(lines.findIndex((l) => l.includes("drop") && l.includes("member_")), 1);
    assert.ok(lines.findIndex((l) => l.includes("@public_nets") && l.endsWith("accept")) > 2);
    // vpc_0 = ams, vpc_1 = nyc, vpc_2 = sfo (sorted)
    assert.ok(lines.some((l) => l.includes("ip saddr @vpc_0 ip daddr @vpc_1 accept")));
    assert.ok(!lines.some((l) => l.includes("@vpc_2")));
  });

  test("blackholed hosts' ports are in the L2 drop set; output does not depend on insertion order", () => {
    const s = sampleState();
    assert.match(renderFabricNft(s), /elements = \{ "p-lb2", "q-lb2" \}/);
    const reversed: FabricState = {
      ...s,
      vpcs: Object.fromEntries(Object.entries(s.vpcs).reverse()),
      hosts: Object.fromEntries(Object.entries(s.hosts).reverse()),
    };
    assert.equal(renderFabricNft(reversed), renderFabricNft(s));
  });
});

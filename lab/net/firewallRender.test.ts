import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { run } from "./exec";
import { firewallsForDroplet, parsePortRange, renderFirewallNft } from "./firewallRender";
import { DoFirewall, FirewallRenderInput, indexDropletsByTag } from "./firewallTypes";

const web: DoFirewall = {
  name: "fw-web",
  tags: ["web"],
  inboundRules: [
    { protocol: "tcp", portRange: "80", sourceAddresses: ["0.0.0.0/0", "::/0"] },
    { protocol: "tcp", portRange: "22", sourceAddresses: ["192.0.2.22/32"] },
    { protocol: "icmp", sourceAddresses: ["0.0.0.0/0"] },
  ],
  outboundRules: [
    { protocol: "tcp", portRange: "1-65535", destinationAddresses: ["0.0.0.0/0", "::/0"] },
    { protocol: "udp", portRange: "all", destinationAddresses: ["0.0.0.0/0"] },
  ],
};
const internal: DoFirewall = {
  name: "fw-internal",
  tags: ["web"],
  inboundRules: [
    { protocol: "tcp", portRange: "3306-3307", sourceTags: ["db", "no-such-tag"] },
    { protocol: "udp", portRange: "53", sourceDropletIds: [7] },
    { protocol: "tcp", portRange: "80", sourceAddresses: ["0.0.0.0/0", "::/0"] },
  ],
};
const other: DoFirewall = { name: "fw-other", tags: ["other"], inboundRules: [{ protocol: "tcp", portRange: "9999", sourceAddresses: ["0.0.0.0/0"] }] };

function input(overrides: Partial<FirewallRenderInput> = {}): FirewallRenderInput {
  return {
    droplet: { name: "web-1", id: 1, tags: ["web"], addresses: ["198.51.100.10", "10.110.0.2"] },
    firewalls: [web, internal, other],
    dropletsByTag: indexDropletsByTag([
      { tags: ["db"], addresses: ["198.51.100.20", "10.110.0.20"] },
      { tags: ["db", "web"], addresses: ["198.51.100.21", "10.110.0.21", "2001:db8::21"] },
    ]),
    dropletsById: new Map([[7, ["198.51.100.7", "10.110.0.7"]]]),
    reservedIpsOfDroplet: ["203.0.113.10"],
    ...overrides,
  };
}

async function nftCheck(text: string): Promise<void> {
  const r = await run("nft", ["-c", "-f", "-"], { input: text, allowFail: true });
  assert.equal(r.code, 0, `${r.stderr}\n${text}`);
}

function chain(text: string, name: string): string[] {
  const body = new RegExp(`chain ${name} \\{([\\s\\S]*?)\\n  \\}`).exec(text)?.[1] ?? "";
  return body.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
}

describe("renderFirewallNft", () => {
  test("picks firewalls by tag or droplet ID only", () => {
    assert.deepEqual(firewallsForDroplet(input().droplet, [web, internal, other]).map((f) => f.name), ["fw-web", "fw-internal"]);
    const byId: DoFirewall = { name: "by-id", dropletIds: [1] };
    assert.deepEqual(firewallsForDroplet({ name: "x", id: 1, tags: [], addresses: [] }, [byId, web]).map((f) => f.name), ["by-id"]);
    assert.deepEqual(firewallsForDroplet({ name: "x", tags: [], addresses: [] }, [byId]), []);
  });

  test("a droplet without firewalls is open", async () => {
    const text = renderFirewallNft(input({ droplet: { name: "lonely", tags: ["none"], addresses: [] } }));
    assert.deepEqual(chain(text, "input"), ["type filter hook input priority filter; policy accept;"]);
    assert.deepEqual(chain(text, "output"), ["type filter hook output priority filter; policy accept;"]);
    await nftCheck(text);
  });

  test("the union of the droplet's firewalls, default drop, stateful, tags and IDs resolved", async () => {
    const text = renderFirewallNft(input());
    await nftCheck(text);
    const inbound = chain(text, "input");
    assert.deepEqual(inbound.slice(0, 6), [
      "type filter hook input priority filter; policy drop;",
      'iifname != { "eth0", "eth1" } accept',
      "ct state established,related accept",
      "ct state invalid drop",
      "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept",
      "meta nfproto ipv4 tcp dport 80 accept",
    ]);
    assert.ok(inbound.includes("meta nfproto ipv6 tcp dport 80 accept"));
    assert.equal(inbound.filter((l) => l === "meta nfproto ipv4 tcp dport 80 accept").length, 1, "duplicate rule from two firewalls kept once");
    assert.ok(inbound.includes("ip saddr { 192.0.2.22 } tcp dport 22 accept"));
    assert.ok(inbound.includes("meta nfproto ipv4 meta l4proto icmp accept"));
    assert.ok(inbound.includes("ip saddr { 10.110.0.20, 10.110.0.21, 198.51.100.20, 198.51.100.21 } tcp dport 3306-3307 accept"));
    assert.ok(inbound.includes("ip6 saddr { 2001:db8::21 } tcp dport 3306-3307 accept"));
    assert.ok(inbound.includes("ip saddr { 10.110.0.7, 198.51.100.7 } udp dport 53 accept"));
    assert.ok(!text.includes("9999"), "fw-other does not apply");
    const outbound = chain(text, "output");
    assert.ok(outbound.includes("meta nfproto ipv4 meta l4proto tcp accept"));
    assert.ok(outbound.includes("meta nfproto ipv4 meta l4proto udp accept"));
    assert.match(text, /# reserved IPs delivered here.*203\.0\.113\.10/);
  });

  test("no outbound rules means no new outbound traffic (DigitalOcean semantics)", async () => {
    const text = renderFirewallNft(input({ firewalls: [internal] }));
    await nftCheck(text);
    assert.deepEqual(chain(text, "output").slice(0, 1), ["type filter hook output priority filter; policy drop;"]);
    assert.equal(chain(text, "output").filter((l) => l.endsWith("accept")).length, 3, "only lo, established and ND");
  });

  test("deny rules are placed before allow rules", async () => {
    const fw: DoFirewall = {
      tags: ["web"],
      inboundRules: [
        { protocol: "tcp", portRange: "22", sourceAddresses: ["0.0.0.0/0"] },
        { protocol: "tcp", portRange: "22", sourceAddresses: ["192.0.2.66"], action: "deny" },
      ],
    };
    const text = renderFirewallNft(input({ firewalls: [fw] }));
    await nftCheck(text);
    const rules = chain(text, "input").slice(5);
    assert.deepEqual(rules, ["ip saddr { 192.0.2.66 } tcp dport 22 drop", "meta nfproto ipv4 tcp dport 22 accept"]);
  });

  test("rules whose sources resolve to nothing render no match-all rule", async () => {
    const fw: DoFirewall = { tags: ["web"], inboundRules: [{ protocol: "tcp", portRange: "5432", sourceTags: ["empty"] }] };
    const text = renderFirewallNft(input({ firewalls: [fw] }));
    await nftCheck(text);
    assert.ok(!chain(text, "input").some((l) => l.includes("5432")));
  });

  test("port ranges and invalid input", () => {
    assert.equal(parsePortRange(undefined), undefined);
    assert.equal(parsePortRange("all"), undefined);
    assert.equal(parsePortRange("1-65535"), undefined);
    assert.equal(parsePortRange("8080"), "8080");
    assert.equal(parsePortRange("8000-9000"), "8000-9000");
    for (const bad of ["0-5", "9000-8000", "65536", "80,443", "x"]) assert.throws(() => parsePortRange(bad), /portRange/, bad);
    const bad = (rule: NonNullable<DoFirewall["inboundRules"]>[number]) => renderFirewallNft(input({ firewalls: [{ tags: ["web"], inboundRules: [rule] }] }));
    assert.throws(() => bad({ protocol: "sctp", sourceAddresses: ["0.0.0.0/0"] }), /protocol/);
    assert.throws(() => bad({ protocol: "tcp", portRange: "80", sourceLoadBalancerUids: ["lb"] }), /not emulated/);
    assert.throws(() => bad({ protocol: "tcp", portRange: "80", sourceAddresses: ["10.0.0.300"] }), /IPv4/);
  });
});

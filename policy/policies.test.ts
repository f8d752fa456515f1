/** Each policy of the pack, called with resource arguments as the engine would (no CLI). */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { policies } from "./policies";
import { firewallWorldPolicy, worldOpenViolations } from "./firewallWorld";
import { firewallSshPolicy, sshSourceViolations } from "./firewallSsh";
import { dropletPlacementPolicy } from "./dropletPlacement";
import { dnsTtlPolicy } from "./dnsTtl";
import { dbVolumePolicy, isDbDroplet } from "./dbVolumes";
import { reservedIpPolicy } from "./reservedIps";
import { cidrWithin, isWholeInternet } from "./cidr";
import { runResourcePolicy, runStackPolicy, TestResource, urnOf } from "./testing";

const FIREWALL = "digitalocean:index/firewall:Firewall";
const DROPLET = "digitalocean:index/droplet:Droplet";
const RECORD = "digitalocean:index/dnsRecord:DnsRecord";

const firewall = (...inboundRules: Record<string, unknown>[]): TestResource => ({ type: FIREWALL, name: "fw", inputs: { tags: ["prod-lb"], inboundRules } });
const tcp = (portRange: string | undefined, sourceAddresses: string[]) => ({ protocol: "tcp", ...(portRange !== undefined ? { portRange } : {}), sourceAddresses });
const WORLD = ["0.0.0.0/0", "::/0"];
const ADMIN = { allowedCidrs: ["198.51.100.10/32", "2001:db8:1::/48"] };

describe("the pack", () => {
    test("six policies, uniquely named, all mandatory", () => {
        assert.equal(policies.length, 6);
        assert.equal(new Set(policies.map((p) => p.name)).size, policies.length);
        for (const p of policies) assert.equal(p.enforcementLevel, "mandatory", p.name);
    });

    test("a resource policy does not apply to other types", async () => {
        assert.deepEqual(await runResourcePolicy(firewallWorldPolicy, { type: DROPLET, name: "d", inputs: { inboundRules: [tcp("22", WORLD)] } }), []);
    });
});

describe("CIDR arithmetic", () => {
    test("containment, IPv4 and IPv6, bare addresses", () => {
        assert.ok(cidrWithin("198.51.100.10/32", "198.51.100.0/24"));
        assert.ok(cidrWithin("198.51.100.10", "198.51.100.10/32"));
        assert.ok(!cidrWithin("198.51.100.0/24", "198.51.100.10/32"));
        assert.ok(!cidrWithin("198.51.101.1/32", "198.51.100.0/24"));
        assert.ok(cidrWithin("2001:db8:1:2::7/128", "2001:db8:1::/48"));
        assert.ok(!cidrWithin("2001:db8:2::/64", "2001:db8:1::/48"));
        assert.ok(!cidrWithin("::ffff:198.51.100.10/128", "198.51.100.0/24"), "families never mix");
        assert.ok(!cidrWithin("not-a-cidr", "0.0.0.0/0"));
        assert.ok(isWholeInternet("0.0.0.0/0") && isWholeInternet("::/0") && isWholeInternet("10.0.0.0/0"));
        assert.ok(!isWholeInternet("0.0.0.0/1"));
    });
});

describe(firewallWorldPolicy.name, () => {
    test("passes 80 and 443 from the world, anything from tags or narrow ranges", async () => {
        const fw = firewall(tcp("80", WORLD), tcp("443", WORLD), tcp("22", ["198.51.100.10/32"]), { protocol: "tcp", portRange: "3306", sourceTags: ["prod-app"] }, { protocol: "icmp", sourceTags: ["prod-lb"] });
        assert.deepEqual(await runResourcePolicy(firewallWorldPolicy, fw), []);
    });

    test("flags other ports, ranges, all ports, UDP and ICMP from the world", async () => {
        const fw = firewall(tcp("3306", ["0.0.0.0/0"]), tcp("80-443", WORLD), tcp(undefined, ["::/0"]), { protocol: "udp", portRange: "443", sourceAddresses: WORLD }, { protocol: "icmp", sourceAddresses: ["0.0.0.0/0"] }, tcp("all", ["0.0.0.0/0"]));
        const messages = await runResourcePolicy(firewallWorldPolicy, fw);
        assert.equal(messages.length, 6, messages.join("\n"));
        assert.match(messages[0]!, /inboundRules\[0\] opens tcp\/3306 to the whole internet \(0\.0\.0\.0\/0\)/);
        assert.match(messages[1]!, /tcp\/80-443/);
        assert.match(messages[2]!, /tcp\/all .*::\/0/);
        assert.match(messages[3]!, /udp\/443/);
        assert.match(messages[4]!, /opens icmp/);
    });

    test("the predicate alone", () => {
        assert.deepEqual(worldOpenViolations({}), []);
        assert.equal(worldOpenViolations({ inboundRules: [tcp("22", ["1.2.3.4/32", "0.0.0.0/0"])] }).length, 1);
    });
});

describe(firewallSshPolicy.name, () => {
    test("passes SSH from the allowed CIDRs (or inside them) and from tags", async () => {
        const fw = firewall(tcp("22", ["198.51.100.10/32"]), tcp("22", ["2001:db8:1:5::/64"]), { protocol: "tcp", portRange: "22", sourceTags: ["prod-app"] }, tcp("80", WORLD));
        assert.deepEqual(await runResourcePolicy(firewallSshPolicy, fw, ADMIN), []);
    });

    test("flags SSH from the world, from outside the list, and ranges or all-ports rules that cover 22", async () => {
        const fw = firewall(tcp("22", ["0.0.0.0/0"]), tcp("22", ["198.51.100.0/24"]), tcp("20-25", ["203.0.113.5/32"]), tcp(undefined, ["::/0"]), tcp("1-65535", ["198.51.100.10/32"]));
        const messages = await runResourcePolicy(firewallSshPolicy, fw, ADMIN);
        assert.equal(messages.length, 4, messages.join("\n"));
        assert.match(messages[0]!, /inboundRules\[0\] \(tcp\/22\) lets SSH in from 0\.0\.0\.0\/0, which is outside the allowed admin CIDRs \[198\.51\.100\.10\/32, 2001:db8:1::\/48\]/);
        assert.match(messages[1]!, /from 198\.51\.100\.0\/24/, "wider than the allowed /32");
        assert.match(messages[2]!, /inboundRules\[2\] \(tcp\/20-25\) .* 203\.0\.113\.5\/32/);
        assert.match(messages[3]!, /inboundRules\[3\] \(tcp\/all\) .* ::\/0/);
    });

    test("with no config (the schema's default: no CIDR allowed), any SSH source address is a violation", async () => {
        const messages = await runResourcePolicy(firewallSshPolicy, firewall(tcp("22", ["198.51.100.10/32"])));
        assert.equal(messages.length, 1);
        assert.match(messages[0]!, /allowed admin CIDRs \[\]/);
    });

    test("UDP 22 is not SSH; the predicate alone", () => {
        assert.deepEqual(sshSourceViolations({ inboundRules: [{ protocol: "udp", portRange: "22", sourceAddresses: ["10.0.0.0/8"] }] }, { allowedCidrs: [] }), []);
    });
});

describe(dropletPlacementPolicy.name, () => {
    const droplet = (inputs: Record<string, unknown>): TestResource => ({ type: DROPLET, name: "d", inputs: { region: "nyc3", size: "s-1vcpu-1gb", image: "debian-12-x64", ...inputs } });

    test("passes a droplet in a VPC with monitoring", async () => {
        assert.deepEqual(await runResourcePolicy(dropletPlacementPolicy, droplet({ vpcUuid: "vpc-1", monitoring: true })), []);
    });

    test("flags a droplet with no VPC, or monitoring off or unset", async () => {
        assert.deepEqual(await runResourcePolicy(dropletPlacementPolicy, droplet({ monitoring: true })), ["the droplet has no vpcUuid: put it in the stack's VPC of its region, or it lands in the account's default VPC"]);
        const both = await runResourcePolicy(dropletPlacementPolicy, droplet({ vpcUuid: "" }));
        assert.equal(both.length, 2);
        assert.match(both[1]!, /monitoring unset/);
        assert.match((await runResourcePolicy(dropletPlacementPolicy, droplet({ vpcUuid: "v", monitoring: false })))[0]!, /monitoring false/);
    });
});

describe(dnsTtlPolicy.name, () => {
    const record = (inputs: Record<string, unknown>): TestResource => ({ type: RECORD, name: "r", inputs: { domain: "example.com", name: "www", value: "198.51.100.10", ...inputs } });

    test("passes A/AAAA records with TTL up to 60, and other record types whatever their TTL", async () => {
        for (const inputs of [{ type: "A", ttl: 30 }, { type: "AAAA", ttl: 60 }, { type: "TXT", ttl: 3600 }, { type: "CNAME" }]) {
            assert.deepEqual(await runResourcePolicy(dnsTtlPolicy, record(inputs)), [], JSON.stringify(inputs));
        }
    });

    test("flags A/AAAA records with a long or default TTL", async () => {
        assert.deepEqual(await runResourcePolicy(dnsTtlPolicy, record({ type: "A", ttl: 300 })), ["A record \"www\" has TTL 300; a round-robin record needs ttl <= 60 so clients leave a failed region quickly"]);
        assert.match((await runResourcePolicy(dnsTtlPolicy, record({ type: "AAAA", ttl: 61 })))[0]!, /AAAA record "www" has TTL 61/);
        assert.match((await runResourcePolicy(dnsTtlPolicy, record({ type: "A" })))[0]!, /TTL unset \(DigitalOcean's default is 1800\)/);
    });
});

describe(dbVolumePolicy.name, () => {
    const db = (name: string, id: string, tags = ["db", "nyc3", "prod", "prod-db"]): TestResource => ({ type: DROPLET, name, inputs: { tags }, outputs: { id, tags } });
    const attachment = (name: string, dropletId: unknown, deps?: string[]): TestResource => ({
        type: "digitalocean:index/volumeAttachment:VolumeAttachment", name, inputs: { dropletId, volumeId: "vol" }, ...(deps ? { propertyDependencies: { dropletId: deps } } : {}),
    });

    test("recognizes DB droplets by the \"<stack>-db\" role tag next to the stack tag", () => {
        const as = (tags: unknown) => ({ type: DROPLET, urn: "u", name: "d", props: { tags } });
        assert.ok(isDbDroplet(as(["prod", "prod-db"])));
        assert.ok(isDbDroplet(as(["my-stack", "my-stack-db", "ams3"])));
        assert.ok(!isDbDroplet(as(["prod", "prod-app", "db"])), "the plain \"db\" tag alone is not the stack's role tag");
        assert.ok(!isDbDroplet(as(["other-db"])));
        assert.ok(!isDbDroplet(as(undefined)));
    });

    test("passes when every DB droplet has an attachment, by id (numeric or not) or by property dependency", async () => {
        const a = db("db-a", "101");
        const b = db("db-b", "102");
        const app = db("app", "103", ["prod", "prod-app"]);
        const resources = [a, b, app, attachment("att-a", 101), attachment("att-b", undefined, [urnOf(b)])];
        assert.deepEqual(await runStackPolicy(dbVolumePolicy, resources), []);
    });

    test("flags each DB droplet without one, against its URN", async () => {
        const a = db("db-a", "101");
        const b = db("db-b", "102");
        const reported = await runStackPolicy(dbVolumePolicy, [a, b, attachment("att-a", "101")]);
        assert.deepEqual(reported, [{ urn: urnOf(b), message: "DB droplet db-b has no volume attached: declare a digitalocean.VolumeAttachment with its dropletId, so the data survives the droplet" }]);
        assert.equal((await runStackPolicy(dbVolumePolicy, [a, b])).length, 2);
    });
});

describe(reservedIpPolicy.name, () => {
    const ip = (name: string, address: string): TestResource => ({ type: "digitalocean:index/reservedIp:ReservedIp", name, inputs: { region: "nyc3" }, outputs: { region: "nyc3", ipAddress: address } });
    const ip6 = (name: string, address: string): TestResource => ({ type: "digitalocean:index/reservedIpv6:ReservedIpv6", name, inputs: { regionSlug: "nyc3" }, outputs: { ip: address } });
    const assign = (name: string, props: Record<string, unknown>, deps?: Record<string, string[]>): TestResource => ({
        type: `digitalocean:index/${"ip" in props ? "reservedIpv6Assignment:ReservedIpv6Assignment" : "reservedIpAssignment:ReservedIpAssignment"}`, name, inputs: { dropletId: 7, ...props }, ...(deps ? { propertyDependencies: deps } : {}),
    });

    test("passes when each reserved IP (v4 and v6) has an assignment, by address or by property dependency", async () => {
        const a = ip("ip-a", "198.51.100.10");
        const b = ip("ip-b", "198.51.100.11");
        const c = ip6("ip6-c", "2001:db8::1");
        const resources = [a, b, c, assign("as-a", { ipAddress: "198.51.100.10" }), assign("as-b", {}, { ipAddress: [urnOf(b)] }), assign("as-c", { ip: "2001:db8::1" })];
        assert.deepEqual(await runStackPolicy(reservedIpPolicy, resources), []);
    });

    test("flags an unassigned reserved IP, and does not count an assignment of another address", async () => {
        const a = ip("ip-a", "198.51.100.10");
        const c = ip6("ip6-c", "2001:db8::1");
        const reported = await runStackPolicy(reservedIpPolicy, [a, c, assign("as-x", { ipAddress: "198.51.100.99" })]);
        assert.deepEqual(reported.map((r) => r.urn), [urnOf(a), urnOf(c)]);
        assert.match(reported[0]!.message, /reserved IP ip-a is not assigned: declare a ReservedIpAssignment with its ipAddress/);
        assert.match(reported[1]!.message, /ReservedIpv6Assignment with its ip\b/);
    });
});

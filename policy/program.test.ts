/**
 * The pack against the real program: index.ts with each shipped stack config, declared under the
 * lab's DigitalOcean model; every resource's type, inputs and outputs go through every policy.
 */
import { describe, test, before } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { runIndex, shippedStackConfig } from "../test/support/program";
import { policies } from "./policies";
import { fromModel, PackConfig, runPack, TestResource, urnOf } from "./testing";

/** The pack config shipped for a stack (what `--policy-pack-config policy/config.<stack>.json` passes). */
function packConfig(stack: string): PackConfig {
    return JSON.parse(fs.readFileSync(path.join(__dirname, `config.${stack}.json`), "utf8")) as PackConfig;
}

async function graphOf(stack: string): Promise<TestResource[]> {
    const { model } = await runIndex(shippedStackConfig(stack), stack);
    return fromModel(model.resources);
}

const ofType = (resources: TestResource[], kind: string) => resources.filter((r) => r.type.endsWith(`:${kind}`));

for (const stack of ["prod", "lab"]) {
    describe(`the shipped ${stack} stack`, () => {
        let resources: TestResource[];
        before(async () => {
            resources = await graphOf(stack);
        });

        test("has no violation", async () => {
            // The graph holds what every policy looks at, so "no violation" is not "nothing checked".
            for (const kind of ["Firewall", "Droplet", "DnsRecord", "VolumeAttachment", "ReservedIp", "ReservedIpAssignment"]) {
                assert.ok(ofType(resources, kind).length > 0, `the ${stack} graph has a ${kind}`);
            }
            assert.deepEqual(await runPack(policies, resources, packConfig(stack)), []);
        });

        test("its admin CIDR is what the shipped pack config allows, and nothing else passes", async () => {
            const violations = await runPack(policies, resources, {});
            assert.ok(violations.length > 0 && violations.every((v) => v.policy === "firewall-ssh-only-from-admin-cidrs"), JSON.stringify(violations));
        });
    });
}

describe("a mutated prod graph", () => {
    let resources: TestResource[];
    before(async () => {
        resources = await graphOf("prod");
    });

    /** A copy of the graph with one resource's inputs (and outputs) changed. */
    const mutate = (pick: (r: TestResource) => boolean, change: (inputs: Record<string, unknown>) => Record<string, unknown>): { graph: TestResource[]; urn: string } => {
        const target = resources.find(pick);
        assert.ok(target, "the resource to mutate exists");
        const changed = { ...target, inputs: change(structuredClone(target.inputs)), outputs: change(structuredClone(target.outputs ?? target.inputs)) };
        return { graph: resources.map((r) => (r === target ? changed : r)), urn: urnOf(target) };
    };
    const without = (pick: (r: TestResource) => boolean): TestResource[] => {
        const i = resources.findIndex(pick);
        assert.ok(i >= 0);
        return resources.filter((_, j) => j !== i);
    };
    const violationsOf = async (graph: TestResource[]) => (await runPack(policies, graph, packConfig("prod"))).map((v) => ({ policy: v.policy, urn: v.urn }));

    test("MySQL open to the world is caught on the DB firewall", async () => {
        const { graph, urn } = mutate((r) => r.type.endsWith(":Firewall") && r.name.endsWith("-db"), (i) => ({
            ...i, inboundRules: [...(i.inboundRules as unknown[]), { protocol: "tcp", portRange: "3306", sourceAddresses: ["0.0.0.0/0"] }],
        }));
        assert.deepEqual(await violationsOf(graph), [{ policy: "firewall-public-only-http-https", urn }]);
    });

    test("SSH open to the world is caught by both firewall policies", async () => {
        const { graph, urn } = mutate((r) => r.type.endsWith(":Firewall") && r.name.endsWith("-app"), (i) => ({
            ...i, inboundRules: (i.inboundRules as Record<string, unknown>[]).map((rule) => (rule.portRange === "22" && rule.sourceAddresses ? { ...rule, sourceAddresses: ["::/0"] } : rule)),
        }));
        assert.deepEqual(await violationsOf(graph), [{ policy: "firewall-public-only-http-https", urn }, { policy: "firewall-ssh-only-from-admin-cidrs", urn }]);
    });

    test("a round-robin record with TTL 300 is caught", async () => {
        const { graph, urn } = mutate((r) => r.type.endsWith(":DnsRecord"), (i) => ({ ...i, ttl: 300 }));
        assert.deepEqual(await violationsOf(graph), [{ policy: "round-robin-record-ttl", urn }]);
    });

    test("a droplet outside any VPC, with monitoring off, is caught", async () => {
        const { graph, urn } = mutate((r) => r.type.endsWith(":Droplet"), ({ vpcUuid: _, ...i }) => ({ ...i, monitoring: false }));
        const twice = { policy: "droplet-in-vpc-with-monitoring", urn };
        assert.deepEqual(await violationsOf(graph), [twice, twice], "one violation for the VPC, one for monitoring");
    });

    const removals = [
        { what: "a DB droplet without its volume attachment", kind: "VolumeAttachment", policy: "db-droplets-have-volumes", urn: /Droplet::prod-db-/ },
        { what: "a reserved IP without its assignment", kind: "ReservedIpAssignment", policy: "reserved-ips-assigned", urn: /ReservedIp::prod-lb-/ },
    ];
    for (const { what, kind, policy, urn } of removals) {
        test(`${what} is caught`, async () => {
            const violations = await violationsOf(without((r) => r.type.endsWith(`:${kind}`)));
            assert.equal(violations.length, 1, JSON.stringify(violations));
            assert.equal(violations[0]!.policy, policy);
            assert.match(violations[0]!.urn!, urn);
        });
    }
});

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fc from "fast-check";
import * as pulumi from "@pulumi/pulumi";
import { assertCidrList, assertInput, assertInt, assertList, fail, show } from "./assert";

describe("show", () => {
    test("renders values as JSON-like text", () => {
        assert.equal(show("nyc3"), "\"nyc3\"");
        assert.equal(show("a\"b\n"), "\"a\\\"b\\n\"");
        assert.equal(show(30), "30");
        assert.equal(show(-0), "-0");
        assert.equal(show(NaN), "NaN");
        assert.equal(show(Infinity), "Infinity");
        assert.equal(show(null), "null");
        assert.equal(show(undefined), "undefined");
        assert.equal(show(true), "true");
        assert.equal(show([1, "a", null]), "[1,\"a\",null]");
        assert.equal(show({ region: "nyc3", n: [1] }), "{\"region\":\"nyc3\",\"n\":[1]}");
    });

    test("never throws: null-prototype objects, symbols, BigInt, cycles, throwing getters, revoked proxies", () => {
        assert.equal(show(Object.create(null)), "{}");
        assert.equal(show(Object.assign(Object.create(null), { a: 1 })), "{\"a\":1}");
        assert.equal(show(Symbol("x")), "Symbol(x)");
        assert.equal(show(10n), "10n");
        assert.equal(show([10n]), "[10n]");
        const cyclic: Record<string, unknown> = { a: 1 };
        cyclic.self = cyclic;
        assert.equal(show(cyclic), "{\"a\":1,\"self\":(circular)}");
        const shared = { x: 1 };
        assert.equal(show([shared, shared]), "[{\"x\":1},{\"x\":1}]", "a value seen twice is not a cycle");
        assert.equal(show({ get boom() { throw new Error("no"); } }), "{\"boom\":(unreadable)}");
        const { proxy, revoke } = Proxy.revocable({}, {});
        revoke();
        assert.equal(show(proxy), "(unprintable value)");
        assert.equal(show(() => 1), "(a function)");
        assert.equal(show(new Date(0)), "Date {}");
        assert.equal(show(Promise.resolve(1)), "(a Promise)");
        assert.equal(show(pulumi.output("x")), "(a pulumi Output)");
    });

    test("cuts long and deep values", () => {
        assert.equal(show("A".repeat(500)).length, 200);
        assert.ok(show("A".repeat(500)).endsWith("…"));
        assert.equal(show(Array.from({ length: 20 }, (_, i) => i)), "[0,1,2,3,4,5,6,7,8,9,…]");
        assert.equal(show({ a: { b: { c: { d: 1 } } } }), "{\"a\":{\"b\":{\"c\":{…}}}}");
    });

    test("property: any value renders to a string without throwing", () => {
        fc.assert(fc.property(fc.anything({ withBigInt: true, withNullPrototype: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withBoxedValues: true, withDate: true }), (v) => {
            assert.equal(typeof show(v), "string");
        }), { numRuns: 500 });
    });
});

describe("assertions", () => {
    test("messages read <field> <value>: <what is allowed>", () => {
        assert.throws(() => fail("XArgs.size", 1, "must be a size slug"), { message: "XArgs.size 1: must be a size slug" });
        assert.throws(() => assertInt("XArgs.n", "3", 1, 5), { message: "XArgs.n \"3\": must be a whole number from 1 to 5" });
        assert.throws(() => assertInt("XArgs.n", 2.5, 1, 5), { message: "XArgs.n 2.5: must be a whole number from 1 to 5" });
        assert.throws(() => assertList("XArgs.l", { length: 1 }, "must be a list"), { message: "XArgs.l {\"length\":1}: must be a list" });
        // eslint-disable-next-line no-sparse-arrays
        assert.throws(() => assertList("XArgs.l", [1, , 3], "must be a list"), { message: "XArgs.l[1] undefined: is a hole in the list; must be a list" });
        assert.throws(() => assertCidrList("XArgs.c", [], "must list one", true), { message: "XArgs.c must list one" });
        assert.throws(() => assertCidrList("XArgs.c", ["2001:db8::/32"], "must list one", true), { message: "XArgs.c[0] \"2001:db8::/32\": must be an IPv4 CIDR such as \"10.110.0.0/20\"" });
        assertCidrList("XArgs.c", ["2001:db8::/32"], "must list one", false);
    });

    test("an Input may be a value, an Output or a Promise", () => {
        const isText = (v: unknown) => typeof v === "string";
        assertInput("XArgs.i", "v", isText, "must be text");
        assertInput("XArgs.i", pulumi.output(1), isText, "must be text");
        assertInput("XArgs.i", Promise.resolve(1), isText, "must be text");
        assert.throws(() => assertInput("XArgs.i", 1, isText, "must be text"), { message: "XArgs.i 1: must be text" });
    });
});

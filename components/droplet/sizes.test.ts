import { test } from "node:test";
import assert from "node:assert/strict";
import { sizeMemoryMb } from "./sizes";

test("memory is read from DigitalOcean size slugs", () => {
    assert.equal(sizeMemoryMb("s-1vcpu-1gb"), 1024);
    assert.equal(sizeMemoryMb("s-2vcpu-4gb"), 4096);
    assert.equal(sizeMemoryMb("s-1vcpu-512mb-10gb"), 512);
    assert.equal(sizeMemoryMb("g-2vcpu-8gb"), 8192);
    assert.equal(sizeMemoryMb("c-4"), 1024, "unknown shapes fall back to 1 GiB");
});

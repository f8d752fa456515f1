import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { imageCacheKey, imagePackageSet, LAB_BASE_PACKAGES, normalizePackages } from "./imagePackages";

describe("image package set and cache key", () => {
  test("key ignores order, duplicates and surrounding spaces", () => {
    assert.equal(imageCacheKey(["haproxy", "nginx-light"]), imageCacheKey([" nginx-light", "haproxy", "haproxy"]));
  });

  test("key changes when the package set changes", () => {
    assert.notEqual(imageCacheKey(["haproxy"]), imageCacheKey(["haproxy", "keepalived"]));
    assert.notEqual(imageCacheKey([]), imageCacheKey(["haproxy"]));
  });

  test("key is a short hex string usable in a path", () => {
    assert.match(imageCacheKey(["haproxy"]), /^[0-9a-f]{16}$/);
  });

  test("every image carries the lab base packages", () => {
    const set = imagePackageSet(["haproxy"]);
    for (const p of [...LAB_BASE_PACKAGES, "haproxy"]) assert.ok(set.includes(p), p);
    assert.ok(LAB_BASE_PACKAGES.includes("cloud-init") && LAB_BASE_PACKAGES.includes("openssh-server"));
  });

  test("rejects names apt would not accept", () => {
    assert.throws(() => normalizePackages(["haproxy; rm -rf /"]), /invalid Debian package name/);
    assert.throws(() => normalizePackages(["-y"]), /invalid Debian package name/);
    assert.throws(() => normalizePackages([""]), /invalid Debian package name/);
    assert.deepEqual(normalizePackages(["php8.2-fpm", "libc6:amd64", "g++"]), ["g++", "libc6:amd64", "php8.2-fpm"]);
  });
});

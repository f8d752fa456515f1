/**
 * Helpers shared by the host layer's integration tests (not used at runtime):
 * a throw-away network namespace, the small test image, an SSH key pair.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { BaseImage, ensureBaseImage } from "../image/ensureBaseImage";
import { listPids, namespaceOf } from "./procfs";

/** Role packages of the test image (small; cached after the first build). */
export const TEST_ROLE_PACKAGES: readonly string[] = ["haproxy"];

/** Builds or reuses the test image, printing build progress phases only. */
export function testImage(): Promise<BaseImage> {
  return ensureBaseImage({
    packages: TEST_ROLE_PACKAGES,
    log: (l) => (/\] /.test(l) ? undefined : console.log(l)),
  });
}

/** A network namespace owned by one test: only `lo`, up. */
export interface TestNetns {
  name: string;
  path: string;
  remove(): void;
}

/** Creates `drr-test-<random>` with just loopback up (no traffic can leave it). */
export function createTestNetns(): TestNetns {
  const name = `drr-test-${randomBytes(3).toString("hex")}`;
  execFileSync("ip", ["netns", "add", name]);
  execFileSync("ip", ["-n", name, "link", "set", "lo", "up"]);
  return {
    name,
    path: `/run/netns/${name}`,
    remove() {
      if (existsSync(`/run/netns/${name}`)) execFileSync("ip", ["netns", "del", name]);
    },
  };
}

/** True if `ip netns list` still shows the namespace. */
export function netnsExists(name: string): boolean {
  return execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .some((l) => l.split(" ")[0] === name);
}

/** A fresh ed25519 key pair in `dir`; returns the private key path and the public key line. */
export function makeSshKey(dir: string): { privateKey: string; publicKey: string } {
  const privateKey = path.join(dir, "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "lab-test", "-f", privateKey]);
  return { privateKey, publicKey: readFileSync(privateKey + ".pub", "utf8").trim() };
}

/** Host PIDs of processes still in the PID namespace identified by `pidNs` (e.g. "pid:[4026532210]"). */
export function processesInNamespace(pidNs: string): number[] {
  return listPids().filter((p) => namespaceOf(p, "pid") === pidNs);
}

/** The /proc/mounts lines that mention `dir` (a plain text check, independent of mountTable). */
export function procMountsMentioning(dir: string): string[] {
  return readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .filter((l) => l.includes(dir));
}

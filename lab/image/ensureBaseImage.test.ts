import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { BaseImage, DEFAULT_IMAGE_CACHE_DIR, ensureBaseImage } from "./ensureBaseImage";
import { LAB_BASE_PACKAGES } from "./imagePackages";
import { mountsUnder } from "./mountTable";

// Builds on first run (about a minute), then hits the cache.
const ROLE_PACKAGES = ["haproxy"];

function dpkgStatus(root: string, pkg: string): string {
  return execFileSync("dpkg-query", [`--admindir=${root}/var/lib/dpkg`, "-W", "-f", "${Status}", pkg], { encoding: "utf8" });
}

/** cloud-init's own config loader, as it will read the file at boot. */
function cloudInitReadConf(file: string): Record<string, unknown> {
  const py = "import json,sys\nfrom cloudinit import util\nprint(json.dumps(util.read_conf(sys.argv[1])))";
  return JSON.parse(execFileSync("/usr/bin/python3", ["-c", py, file], { encoding: "utf8" })) as Record<string, unknown>;
}

describe("ensureBaseImage", () => {
  let image: BaseImage;
  before(async () => {
    const t = Date.now();
    const log = (l: string) => (/debootstrap\]|bake\]/.test(l) ? undefined : console.log(l));
    // Two concurrent callers must get the very same tree.
    const [a, b] = await Promise.all([ensureBaseImage({ packages: ROLE_PACKAGES, log }), ensureBaseImage({ packages: [...ROLE_PACKAGES].reverse(), log })]);
    assert.deepEqual(a, b);
    image = a;
    console.log(`image ${image.key}: ${image.fromCache ? "from cache" : `built in ${((image.buildMs ?? 0) / 1000).toFixed(1)} s`} (${Date.now() - t} ms)`);
  });

  test("second call is a cache hit on the same tree", async () => {
    const t = Date.now();
    const again = await ensureBaseImage({ packages: ROLE_PACKAGES });
    assert.equal(again.rootfs, image.rootfs);
    assert.equal(again.fromCache, true);
    assert.ok(Date.now() - t < 1000);
    assert.equal(path.dirname(image.rootfs), DEFAULT_IMAGE_CACHE_DIR);
  });

  test("role and base packages are installed", () => {
    for (const p of [...ROLE_PACKAGES, ...LAB_BASE_PACKAGES, "systemd-sysv", "dbus"]) {
      assert.equal(dpkgStatus(image.rootfs, p), "install ok installed", p);
    }
    const manifest = JSON.parse(readFileSync(path.join(image.rootfs, "etc/dns-rr-ha-lab-image.json"), "utf8")) as { key: string; packages: string[] };
    assert.equal(manifest.key, image.key);
    assert.ok(manifest.packages.includes("haproxy"));
  });

  test("apt has no sources and no indexes, so cloud-init's apt-get update has nothing to fetch", () => {
    assert.deepEqual(readdirSync(path.join(image.rootfs, "etc/apt/sources.list.d")), []);
    assert.equal(existsSync(path.join(image.rootfs, "etc/apt/sources.list")), false);
    const lists = readdirSync(path.join(image.rootfs, "var/lib/apt/lists")).filter((f) => f !== "partial" && f !== "lock");
    assert.deepEqual(lists, []);
  });

  test("no build leftovers: policy-rc.d gone, no SSH host keys, empty machine-id, no resolv.conf", () => {
    assert.equal(existsSync(path.join(image.rootfs, "usr/sbin/policy-rc.d")), false);
    assert.deepEqual(readdirSync(path.join(image.rootfs, "etc/ssh")).filter((f) => f.startsWith("ssh_host_")), []);
    assert.equal(statSync(path.join(image.rootfs, "etc/machine-id")).size, 0);
    assert.throws(() => lstatSync(path.join(image.rootfs, "etc/resolv.conf")), /ENOENT/);
    const cache = path.dirname(image.rootfs);
    assert.deepEqual(readdirSync(cache).filter((f) => f.startsWith("build-")), []);
    assert.deepEqual(mountsUnder(cache), []);
  });

  test("sshd allows root with keys only; cloud-init lets root in and manages /etc/hosts", () => {
    const drop = readFileSync(path.join(image.rootfs, "etc/ssh/sshd_config.d/50-lab.conf"), "utf8");
    assert.match(drop, /^PermitRootLogin prohibit-password$/m);
    assert.match(readFileSync(path.join(image.rootfs, "etc/ssh/sshd_config"), "utf8"), /^Include \/etc\/ssh\/sshd_config\.d\/\*\.conf$/m);
    const cfg = cloudInitReadConf(path.join(image.rootfs, "etc/cloud/cloud.cfg.d/90-lab-image.cfg"));
    assert.equal(cfg["disable_root"], false);
    assert.equal(cfg["manage_etc_hosts"], true);
  });

  test("role daemons stay off until a droplet's wiring starts them, sshd is on, and the default locale exists", () => {
    const wants = path.join(image.rootfs, "etc/systemd/system/multi-user.target.wants");
    assert.ok(existsSync(path.join(wants, "ssh.service")), "ssh.service enabled");
    assert.ok(!existsSync(path.join(wants, "haproxy.service")), "haproxy.service must not start by itself: one image serves every role");
    assert.ok(existsSync(path.join(image.rootfs, "lib/systemd/system/haproxy.service")), "haproxy is installed");
    const locales = execFileSync("localedef", ["--list-archive", path.join(image.rootfs, "usr/lib/locale/locale-archive")], { encoding: "utf8" });
    assert.match(locales, /^en_US\.utf8$/m);
    assert.match(readFileSync(path.join(image.rootfs, "etc/default/locale"), "utf8"), /^LANG=en_US\.UTF-8$/m);
  });
});

describe("bake-rootfs.sh", () => {
  test("passes shellcheck", () => {
    execFileSync("shellcheck", ["--shell=bash", path.join(__dirname, "bake-rootfs.sh")], { stdio: "pipe" });
  });
});

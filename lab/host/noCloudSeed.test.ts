import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { renderLabCloudCfg, renderMetaData, renderResolvConf } from "./noCloudSeed";

const dir = mkdtempSync(path.join(tmpdir(), "drr-seed-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs Python with the host's cloud-init 22.4 (the same version baked into the image). */
function cloudInitPython(code: string, ...args: string[]): unknown {
  return JSON.parse(execFileSync("/usr/bin/python3", ["-c", code, ...args], { encoding: "utf8" }));
}

const READ_SEED = `
import json, sys
from cloudinit import util, sources
md, ud, vd = util.read_seeded(base="file://" + sys.argv[1] + "/", file_retries=0)
print(json.dumps({"md": md, "ud": ud.decode(), "keys": sources.normalize_pubkey_data(md.get("public-keys"))}))
`;

describe("NoCloud seed as cloud-init reads it", () => {
  test("meta-data gives instance-id, hostname and every key verbatim; user-data is byte for byte", () => {
    const keys = [
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm8e3w7V6X5j1Yq9N0fM3k1mPqC0mF7cO1d1u3s9kZ deploy@ci: #1",
      "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 'quoted' key",
    ];
    const userData = "#cloud-config\nruncmd:\n  - echo 'héllo: [x]'\n";
    writeFileSync(path.join(dir, "meta-data"), renderMetaData({ instanceId: "droplet-1234", localHostname: "lb-fra1-1", publicKeys: keys }));
    writeFileSync(path.join(dir, "user-data"), userData);
    const got = cloudInitPython(READ_SEED, dir) as { md: Record<string, unknown>; ud: string; keys: string[] };
    assert.equal(got.md["instance-id"], "droplet-1234");
    assert.equal(got.md["local-hostname"], "lb-fra1-1");
    assert.deepEqual(got.keys, keys);
    assert.equal(got.ud, userData);
  });

  test("an empty instance-id is refused (cloud-init would treat every boot as new)", () => {
    assert.throws(() => renderMetaData({ instanceId: " ", localHostname: "x", publicKeys: [] }), /instanceId/);
  });

  test("99-lab.cfg restricts datasources to NoCloud and disables network config", () => {
    const file = path.join(dir, "99-lab.cfg");
    writeFileSync(file, renderLabCloudCfg());
    const cfg = cloudInitPython("import json,sys\nfrom cloudinit import util\nprint(json.dumps(util.read_conf(sys.argv[1])))", file) as Record<string, unknown>;
    assert.deepEqual(cfg["datasource_list"], ["NoCloud", "None"]);
    // cloud-init compares network.config with the exact string "disabled".
    assert.deepEqual(cfg["network"], { config: "disabled" });
    // ds-identify reads datasource_list with a line-based parser: it must stay on one line.
    assert.match(renderLabCloudCfg(), /^datasource_list: \[ NoCloud, None \]$/m);
  });
});

describe("resolv.conf as the resolver reads it", () => {
  test("host(1) uses the search domain and both nameservers in order", () => {
    const file = path.join(dir, "resolv.conf");
    writeFileSync(file, renderResolvConf(["10.9.9.53", "10.9.9.54"], ["example.test"]));
    // Private mount + network namespace with loopback down: the file is seen as
    // /etc/resolv.conf and no query can leave the namespace.
    const r = spawnSync("unshare", ["--mount", "--net", "sh", "-c", 'mount --bind "$1" /etc/resolv.conf && exec host -v -W 1 -R 0 www', "sh", file], {
      encoding: "utf8",
    });
    const out = r.stdout + r.stderr;
    assert.match(out, /Trying "www\.example\.test"/);
    const servers = [...out.matchAll(/UDP setup with ([0-9.]+)#53/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(servers)], ["10.9.9.53", "10.9.9.54"]);
  });

  test("refuses names where addresses belong", () => {
    assert.throws(() => renderResolvConf(["dns.example.test"]), /IP address/);
    assert.equal(renderResolvConf([]).includes("nameserver"), false);
  });
});

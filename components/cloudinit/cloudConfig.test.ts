import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { checkWith } from "../../test/support/tools";
import { parse } from "yaml";
import { renderCloudConfig } from "./cloudConfig";

/** Runs the real `cloud-init schema` on a user-data text. */
function cloudInitSchema(userData: string): { status: number | null; output: string } {
    return checkWith("cloud-init", ["schema", "--config-file", "{}"], userData, "user-data");
}

describe("renderCloudConfig", () => {
    const sample = renderCloudConfig({
        role: "lb",
        region: "nyc3",
        packages: ["haproxy"],
        files: [{ path: "/usr/local/libexec/x", content: "#!/bin/sh\necho 'hi: there'\n", permissions: "0755" }],
        runcmd: [["systemctl", "enable", "haproxy"]],
    });

    test("is valid cloud-config for the real cloud-init", () => {
        const r = cloudInitSchema(sample);
        assert.equal(r.status, 0, r.output);
        assert.match(r.output, /Valid cloud-config/);
    });

    test("the schema check catches a bad document (the check is real)", () => {
        const r = cloudInitSchema(sample.replace("runcmd:", "runcmd: 5\nbogus_runcmd:"));
        assert.notEqual(r.status, 0);
    });

    test("keeps content exact, adds base packages and role file, turns password login off", () => {
        const doc = parse(sample) as { packages: string[]; write_files: { path: string; content: string }[]; ssh_pwauth: boolean };
        assert.ok(sample.startsWith("#cloud-config\n"));
        assert.deepEqual(doc.packages.slice(0, 4), ["curl", "jq", "ca-certificates", "unattended-upgrades"]);
        assert.ok(doc.packages.includes("haproxy"));
        assert.equal(doc.write_files.find((f) => f.path === "/usr/local/libexec/x")?.content, "#!/bin/sh\necho 'hi: there'\n");
        assert.equal(doc.write_files.find((f) => f.path === "/etc/dns-rr-ha/role")?.content, "ROLE=lb\nREGION=nyc3\n");
        assert.equal(doc.ssh_pwauth, false);
    });
});

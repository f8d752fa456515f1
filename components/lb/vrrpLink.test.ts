import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import { checkWith } from "../../test/support/tools";
import { renderKeepalivedDropIn, renderVrrpLinkUnit, VRRP_LINK_UNIT, vrrpLinkAddress } from "./vrrpLink";

function verify(unitText: string, name = VRRP_LINK_UNIT): { status: number | null; output: string } {
    return checkWith("systemd-analyze", ["verify", "--man=no", "{}"], unitText, name);
}

describe("the VXLAN link carrying VRRP", () => {
    const unit = renderVrrpLinkUnit({ privateAddress: "10.110.0.6", peerAddress: "10.110.0.7", side: 0 });

    test("the unit passes systemd-analyze verify, and a broken one does not", () => {
        const ok = verify(unit);
        assert.equal(ok.status, 0, ok.output);
        const bad = verify(unit.replace("ExecStart=/bin/sh", "ExecStart=/no/such/sh"));
        assert.notEqual(bad.status, 0);
    });

    test("its commands build a working link in a network namespace, and both sides get distinct addresses", () => {
        const ns = `vrrp-test-${process.pid}`;
        spawnSync("ip", ["netns", "add", ns]);
        try {
            spawnSync("ip", ["-n", ns, "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p"]);
            spawnSync("ip", ["-n", ns, "addr", "add", "10.110.0.6/20", "dev", "eth1"]);
            spawnSync("ip", ["-n", ns, "link", "set", "eth1", "up"]);
            const start = unit.split("\n").find((l) => l.startsWith("ExecStart="))!;
            const script = /^ExecStart=\/bin\/sh -c '(.*)'$/.exec(start)![1]!;
            // Twice: a restart must rebuild the link over an existing one.
            for (let i = 0; i < 2; i++) {
                const r = spawnSync("ip", ["netns", "exec", ns, "sh", "-c", script], { encoding: "utf8" });
                assert.equal(r.status, 0, `${script}: ${r.stderr}`);
            }
            const show = spawnSync("ip", ["-n", ns, "-d", "addr", "show", "vrrp0"], { encoding: "utf8" }).stdout;
            assert.match(show, /vxlan id 4242 remote 10\.110\.0\.7 local 10\.110\.0\.6 dev eth1/);
            assert.match(show, /inet 169\.254\.253\.1\/30/);
            assert.notEqual(vrrpLinkAddress(0), vrrpLinkAddress(1));
        } finally {
            spawnSync("ip", ["netns", "del", ns]);
        }
    });

    test("keepalived waits for the link", () => {
        assert.match(renderKeepalivedDropIn(), new RegExp(`Requires=${VRRP_LINK_UNIT}`));
        assert.match(renderKeepalivedDropIn(), new RegExp(`After=${VRRP_LINK_UNIT}`));
    });

    test("rejects bad addresses", () => {
        assert.throws(() => renderVrrpLinkUnit({ privateAddress: "10.0.0.1", peerAddress: "10.0.0.1", side: 0 }), /two ends/);
        assert.throws(() => renderVrrpLinkUnit({ privateAddress: "x", peerAddress: "10.0.0.1", side: 0 }), /privateAddress/);
        assert.throws(() => renderVrrpLinkUnit({ privateAddress: "10.0.0.2", peerAddress: "10.0.0.1", side: 1, vni: 0 }), /vni/);
    });
});

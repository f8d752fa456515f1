/**
 * The net probe's stream mode as a process (as the lab runs it in a namespace, here without
 * one), against a local app behind a TLS terminator with a throwaway CA.
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startDemoApp, DemoApp } from "../../bench/demo/servers";
import { startTlsTerminator, throwawayCa, TestCa, TlsTerminator } from "./testTls";

const PROBE = path.join(__dirname, "netProbe.ts");
const TSX = require.resolve("tsx");
const SITE = "www.dns-rr-ha.test";

interface StreamResult { ok: number; failed: number; errors: string[]; bodies: string[]; results: boolean[] }

/** Runs the probe without blocking this process (the servers answer from it). */
function probe(input: Record<string, unknown>): Promise<StreamResult> {
    return new Promise((resolve, reject) => {
        execFile(process.execPath, ["--import", TSX, PROBE, JSON.stringify(input)], { encoding: "utf8", timeout: 60_000 }, (err, out, stderr) => {
            if (err) reject(new Error(`${err.message}\n${stderr}`));
            else resolve(JSON.parse(out) as StreamResult);
        });
    });
}

describe("netProbe stream mode", () => {
    let dir: string;
    let ca: TestCa;
    let other: TestCa;
    let app: DemoApp;
    let tls: TlsTerminator;
    const stream = (more: Record<string, unknown>) => ({ mode: "stream", host: "127.0.0.1", hostHeader: SITE, path: "/whoami.json?write=0", count: 3, intervalMs: 20, timeoutMs: 5000, ...more });

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "net-probe-"));
        ca = throwawayCa(dir, "site-ca", SITE);
        other = throwawayCa(dir, "other-ca", SITE);
        app = await startDemoApp({ name: "app-1" });
        tls = await startTlsTerminator(app.port, ca.server);
    });
    after(async () => {
        await tls.close();
        await app.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("with tls: HTTPS to the address, SNI = servername, verified against caFile; one handshake per request", async () => {
        const seen = tls.handshakes.length;
        const r = await probe(stream({ port: tls.port, tls: { caFile: ca.caFile, servername: SITE } }));
        assert.deepEqual([r.ok, r.failed], [3, 0], r.errors.join("; "));
        assert.deepEqual(r.bodies, Array(3).fill('{"host":"app-1"}'));
        assert.deepEqual(tls.handshakes.slice(seen), [SITE, SITE, SITE]);
    });

    test("with tls: another CA's root, or another name, fails every request with the TLS error", async () => {
        const wrongCa = await probe(stream({ port: tls.port, tls: { caFile: other.caFile, servername: SITE } }));
        assert.equal(wrongCa.ok, 0);
        for (const e of wrongCa.errors) assert.match(e, /^UNABLE_TO_VERIFY_LEAF_SIGNATURE: /);
        const wrongName = await probe(stream({ port: tls.port, tls: { caFile: ca.caFile, servername: "other.dns-rr-ha.test" } }));
        assert.equal(wrongName.ok, 0);
        for (const e of wrongName.errors) assert.match(e, /ERR_TLS_CERT_ALTNAME_INVALID/);
    });

    test("without tls: plain HTTP as before (the /lb-health probes), and plain HTTP to a TLS port fails", async () => {
        const plain = await probe(stream({ port: app.port, path: "/lb-health" }));
        assert.deepEqual([plain.ok, plain.failed], [3, 0], plain.errors.join("; "));
        const mixed = await probe(stream({ port: tls.port, count: 1, timeoutMs: 1000 }));
        assert.equal(mixed.ok, 0);
    });
});

/**
 * Secure by default, seen from outside (issue 6): Debian's nmap scans every public address of the
 * lab's stack from the client host and from the admin host, and the database port is probed from
 * an LB and from an app server. Figures print as "lab-figure:".
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LabState } from "./labState";
import { launchInNetns } from "./testing/browser";
import { figure, labDownAndCheck, labUp } from "./testing/e2eSupport";
import { inHost, probeFromAsync, siteTls } from "./testing/labClient";
import { openFabric, reservedIpHolder } from "./net";
import { LAB_PREFIX } from "./labPaths";
import { servedZones } from "./dns";
import { openPebble } from "./acme/pebble";
import { obtainCertificateInNetns } from "./acme/obtainInNetns";

/** Open TCP ports per address, from nmap's grepable output. */
function parseOpenPorts(grepable: string): Map<string, number[]> {
    const open = new Map<string, number[]>();
    for (const line of grepable.split("\n")) {
        const m = /^Host: (\S+) .*\tPorts: (.*)$/.exec(line);
        if (!m) continue;
        const ports = m[2]!.split(",").map((p) => p.trim().split("/")).filter((f) => f[1] === "open").map((f) => Number(f[0]));
        open.set(m[1]!, [...(open.get(m[1]!) ?? []), ...ports]);
    }
    return open;
}

/** A SYN scan of every TCP port of `targets` from inside `netns` (the lab's own namespaces only). */
function nmapFrom(netns: string, targets: readonly string[], ports = "1-65535"): { open: Map<string, number[]>; seconds: number } {
    const t = Date.now();
    // Nothing is lost on the lab's veths, so one retry is plenty; the rate keeps a full scan of
    // ~15 addresses near a minute and a half on 2 cores.
    const r = spawnSync("ip", ["netns", "exec", netns, "nmap", "-Pn", "-n", "-sS", "-p", ports, "--max-retries", "1", "--min-rate", "20000", "-T4", "--open", "-oG", "-", ...targets], { encoding: "utf8", timeout: 600_000 });
    assert.equal(r.status, 0, `nmap failed: ${r.stderr}`);
    const done = /# Nmap done at .* -- (\d+) IP address(?:es)? \((\d+) hosts? up\)/.exec(r.stdout);
    assert.ok(done, `nmap did not finish: ${r.stdout.slice(-500)}`);
    assert.equal(Number(done[2]), targets.length, `nmap saw ${done[2]} of ${targets.length} addresses up (-Pn: every address counts)`);
    return { open: parseOpenPorts(r.stdout), seconds: (Date.now() - t) / 1000 };
}

describe("secure by default, seen from outside", { timeout: 1_800_000 }, () => {
    let state: LabState;
    /** Every public address of the stack: the entry points (reserved IPs) and each droplet's own. */
    let publicAddresses: string[];
    /** The ports the site serves to the world: 80 always (it redirects when HTTPS is on), 443 with HTTPS. */
    let webPorts: number[];

    before(() => {
        state = labUp();
        publicAddresses = [...state.entryPoints.map((e) => e.ipv4), ...state.hosts.map((h) => h.publicIpv4)];
        webPorts = state.siteUrl.startsWith("https://") ? [80, 443] : [80];
    });

    after(() => labDownAndCheck());

    test("Chromium, trusting only the lab's ACME CA, loads https:// on every entry point; http:// redirects there", async () => {
        assert.ok(state.siteUrl.startsWith("https://"), `the stack's siteUrl is ${state.siteUrl}`);
        const seen: string[] = [];
        for (const entry of state.entryPoints) {
            const b = await launchInNetns(state.clientNetns, state.siteName, { mapHost: entry.ipv4, caFile: state.acmeRootFile });
            try {
                const page = await b.browser.newPage();
                const res = await page.goto(`http://${state.siteName}/whoami.json`, { timeout: 20_000 });
                assert.ok(res, "no response");
                assert.equal(res.status(), 200, `${entry.ipv4}: ${res.status()}`);
                assert.equal(res.url(), `https://${state.siteName}/whoami.json`, "http:// ends on https://");
                const first = res.request().redirectedFrom();
                assert.ok(first, "the http:// request was redirected");
                assert.equal((await first.response())?.status(), 301);
                const tls = await res.securityDetails();
                assert.ok(tls, "no TLS details");
                assert.equal(tls.subjectName, state.siteName);
                assert.match(tls.issuer ?? "", /pebble/i, "issued by the lab's ACME CA");
                assert.match(tls.protocol ?? "", /^TLS 1\.[23]$/);
                const hsts = res.headers()["strict-transport-security"] ?? "";
                assert.match(hsts, /max-age=(\d+)/);
                assert.ok(Number(/max-age=(\d+)/.exec(hsts)![1]) >= 31_536_000, `HSTS ${hsts}`);
                seen.push(`${entry.region} ${entry.ipv4}: 301 -> 200 over ${tls.protocol}, issuer "${tls.issuer}", valid to ${new Date((tls.validTo ?? 0) * 1000).toISOString().slice(0, 10)}`);
            } finally {
                await b.close();
            }
        }
        // The same browser without the lab root refuses the site: the chain is the lab CA's alone.
        const untrusting = await launchInNetns(state.clientNetns, state.siteName, { mapHost: state.entryPoints[0]!.ipv4 });
        try {
            const page = await untrusting.browser.newPage();
            await assert.rejects(page.goto(`https://${state.siteName}/`, { timeout: 20_000 }), /ERR_CERT_AUTHORITY_INVALID/);
        } finally {
            await untrusting.close();
        }
        figure(`HTTPS in Chromium: ${seen.join("; ")}; without the lab root: ERR_CERT_AUTHORITY_INVALID`);
    });

    test("a renewed certificate goes live on the LB holding an entry point with 0 failed requests", async () => {
        // A renewal as `pulumi up` ships it: a new certificate from the same CA, the bundle written
        // where the wiring writes it, then the wiring's own `systemctl reload-or-restart haproxy`.
        const entry = state.entryPoints[0]!;
        const holder = reservedIpHolder(openFabric(LAB_PREFIX), entry.ipv4)!;
        const serial = () => spawnSync("sh", ["-c", `ip netns exec ${state.clientNetns} openssl s_client -connect ${entry.ipv4}:443 -servername ${state.siteName} -CAfile ${state.acmeRootFile} -verify_return_error </dev/null 2>/dev/null | openssl x509 -noout -serial`], { encoding: "utf8" }).stdout.trim().replace(/^serial=0*/, "").toLowerCase();
        const before = serial();
        assert.match(before, /^[0-9a-f]+$/, "the entry point's certificate serial");
        const pebble = openPebble(path.join(state.labDir, "acme"));
        const zone = servedZones(state.dnsStateDir).find((z) => state.siteName.endsWith(`.${z}`))!;
        const renewed = await obtainCertificateInNetns({
            netns: state.adminNetns, dnsStateDir: state.dnsStateDir, zone, directoryUrl: pebble.directoryUrl, directoryCaPem: pebble.directoryCaPem, names: [state.siteName], keyType: "p256",
        });
        const stream = probeFromAsync<{ ok: number; failed: number; errors: string[] }>(state.clientNetns, {
            mode: "stream", host: entry.ipv4, hostHeader: state.siteName, tls: siteTls(state), path: "/healthz", count: 80, intervalMs: 50, timeoutMs: 10_000,
        });
        await new Promise((r) => setTimeout(r, 1000));
        const bundle = renewed.certificatePem + renewed.issuerPem + renewed.privateKeyPem;
        const tmp = path.join(state.labDir, "renewed-site.pem");
        fs.writeFileSync(tmp, bundle, { mode: 0o600 });
        try {
            const h = state.hosts.find((x) => x.name === holder)!;
            // Into the container's filesystem through its leader's root, then the wiring's reload.
            const put = spawnSync("sh", ["-c", `cat '${tmp}' > /proc/${h.leaderPid}/root/etc/haproxy/tls/site.pem.new`], { encoding: "utf8" });
            assert.equal(put.status, 0, put.stderr);
            const reload = inHost(state, holder, "chown root:haproxy /etc/haproxy/tls/site.pem.new && chmod 0640 /etc/haproxy/tls/site.pem.new && mv /etc/haproxy/tls/site.pem.new /etc/haproxy/tls/site.pem && systemctl reload-or-restart haproxy");
            assert.equal(reload.code, 0, reload.out);
        } finally {
            fs.rmSync(tmp, { force: true });
        }
        const r = await stream;
        const after = serial();
        assert.equal(after, renewed.certificateSerial.replace(/^0+/, ""), "the entry point serves the renewed certificate");
        assert.notEqual(after, before);
        assert.equal(r.failed, 0, r.errors.join("; "));
        figure(`certificate renewed on ${holder} under ${r.ok + r.failed} HTTPS requests at 20/s: ${r.failed} failed; serial ${before} -> ${after}`);
    });

    test("nmap from the client: every TCP port of every public address is filtered but the site's own on the LBs", () => {
        const { open, seconds } = nmapFrom(state.clientNetns, publicAddresses);
        const web = new Set([...state.entryPoints.map((e) => e.ipv4), ...state.hosts.filter((h) => h.role === "lb").map((h) => h.publicIpv4)]);
        const found: string[] = [];
        for (const address of publicAddresses) {
            const ports = [...(open.get(address) ?? [])].sort((a, b) => a - b);
            found.push(`${address} ${ports.join(",") || "-"}`);
            assert.deepEqual(ports, web.has(address) ? webPorts : [], `open TCP ports on ${address} seen from the internet`);
        }
        figure(`nmap -sS -p 1-65535 from the client, ${publicAddresses.length} public addresses in ${seconds.toFixed(0)} s: open ${found.join("; ")}`);
    });

    test("nmap from the admin host (in adminCidrs): SSH answers on every droplet, nothing else opens", () => {
        const droplets = state.hosts.map((h) => h.publicIpv4);
        // The ports of every role's daemons; a full scan from here would only repeat the one above.
        const { open, seconds } = nmapFrom(state.adminNetns, droplets, "22,80,443,3306,4444,4567,4568,4789,8404,8405,9100,11211");
        const lbs = new Set(state.hosts.filter((h) => h.role === "lb").map((h) => h.publicIpv4));
        for (const address of droplets) {
            const expected = [22, ...(lbs.has(address) ? webPorts : [])];
            assert.deepEqual([...(open.get(address) ?? [])].sort((a, b) => a - b), expected, `open TCP ports on ${address} seen from the admin host`);
        }
        figure(`nmap from the admin host: 22 open on all ${droplets.length} droplets (${seconds.toFixed(1)} s)`);
    });

    test("the database port: filtered from an LB, open from an app server, and only over verified TLS", () => {
        const db = state.hosts.find((h) => h.role === "db")!;
        const lb = state.hosts.find((h) => h.role === "lb" && h.region === db.region)!;
        const app = state.hosts.find((h) => h.role === "app" && h.region === db.region)!;

        // From the LB's own network namespace, over the private network.
        const fromLb = nmapFrom(path.basename(lb.netns), [db.privateIpv4], "3306");
        assert.deepEqual(fromLb.open.get(db.privateIpv4) ?? [], [], `${lb.name} must not reach ${db.name}:3306`);

        // The app's own account; the password goes from the app's env file into a 0600 option file
        // inside the app server, never onto a command line.
        const client = (flags: string) => `f=$(mktemp) && awk -F"'" '/^DB_PASSWORD=/{print "[client]"; print "password=" $2}' /etc/dns-rr-ha/app.env > "$f" && mariadb --defaults-extra-file="$f" -h ${db.privateIpv4} -u app --connect-timeout=5 -N -e "SHOW STATUS LIKE 'Ssl_version'" ${flags} 2>&1; rc=$?; rm -f "$f"; exit $rc`;
        const plain = inHost(state, app.name, client("--skip-ssl"));
        assert.notEqual(plain.code, 0, `a plain connection from ${app.name} was accepted: ${plain.out}`);
        // REQUIRE SSL answers "Access denied" to a plain login; the same credentials pass over TLS below.
        assert.match(plain.out, /insecure transport are prohibited|requires SSL|Access denied/i, plain.out);
        const tls = inHost(state, app.name, client("--ssl-ca=/etc/dns-rr-ha/db-ca.pem --ssl-verify-server-cert"));
        assert.equal(tls.code, 0, tls.out);
        assert.match(tls.out, /Ssl_version\s+TLSv1\.[23]/, tls.out);
        figure(`DB port: filtered from ${lb.name}; from ${app.name} plain refused (${plain.out.trim().split("\n")[0]}), verified TLS ok (${tls.out.trim().split(/\s+/).pop()})`);
    });
});

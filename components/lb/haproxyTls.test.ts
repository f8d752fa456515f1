import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { appServersForRegion, renderHaproxyConfig, validateHaproxySettings, type HaproxySettings } from "./haproxyConfig";
import { FFDHE2048_PEM, MOZILLA_INTERMEDIATE, type HaproxyTlsSettings } from "./haproxyTls";
import { configSection as section, freePort, makeTempDir, run, startHaproxy, startServer, type TestHaproxy, type TestServer } from "./testHelpers";

const tmp = makeTempDir("lb-haproxy-tls-test");
after(() => tmp.cleanup());

const SITE = "www.dns-rr-ha.test";
const tls: HaproxyTlsSettings = { certificatePath: "/etc/haproxy/tls/site.pem", dhParamPath: "/etc/haproxy/tls/ffdhe2048.pem" };
const base: HaproxySettings = {
    siteName: SITE,
    privateAddress: "10.110.0.5",
    servers: appServersForRegion("ams3", [{ name: "web-ams3-1", address: "10.110.0.10", port: 80, region: "ams3" }]),
};

/** Runs a command, failing the test with its output if it exits non-zero. */
async function must(cmd: string, args: readonly string[]): Promise<string> {
    const r = await run(cmd, args);
    assert.equal(r.code, 0, `${cmd} ${args.join(" ")}:\n${r.stdout}${r.stderr}`);
    return r.stdout;
}

/** A test CA and a server certificate for SITE signed by it (RSA 2048, as the ACME provider's default key type). */
async function makeCertificates(dir: string): Promise<{ caFile: string; pemFile: string; dhFile: string }> {
    const f = (name: string) => path.join(dir, name);
    await must("openssl", [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "2", "-subj", "/CN=dns-rr-ha test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    await must("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", f("site.key"), "-out", f("site.csr"), "-subj", `/CN=${SITE}`]);
    fs.writeFileSync(f("site.ext"), `subjectAltName=DNS:${SITE}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`);
    await must("openssl", [
        "x509", "-req", "-in", f("site.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-days", "2", "-out", f("site.crt"), "-extfile", f("site.ext"),
    ]);
    // haproxy's crt: certificate (chain) then key, one file.
    fs.writeFileSync(f("site.pem"), fs.readFileSync(f("site.crt"), "utf8") + fs.readFileSync(f("site.key"), "utf8"), { mode: 0o600 });
    fs.writeFileSync(f("ffdhe2048.pem"), FFDHE2048_PEM);
    return { caFile: f("ca.pem"), pemFile: f("site.pem"), dhFile: f("ffdhe2048.pem") };
}

describe("haproxy TLS rendering", () => {
    const cfg = renderHaproxyConfig({ ...base, tls, ipv6: true });

    test("without tls the config has no TLS line at all", () => {
        const plain = renderHaproxyConfig({ ...base, ipv6: true });
        assert.doesNotMatch(plain, /ssl-|ssl crt|Strict-Transport|redirect|:443/);
        // The TLS settings only add lines: removing them gives the plain config back.
        const added = cfg.split("\n").filter((l) => !plain.split("\n").includes(l));
        assert.deepEqual(cfg.split("\n").filter((l) => !added.includes(l)), plain.split("\n"));
    });

    test("public frontend binds :443 (IPv4 and IPv6) with the certificate and ALPN h2,http/1.1", () => {
        const fe = section(cfg, "frontend public");
        assert.ok(fe.includes("bind *:80"));
        assert.ok(fe.includes("bind *:443 ssl crt /etc/haproxy/tls/site.pem alpn h2,http/1.1"));
        assert.ok(fe.includes("bind :::443 v6only ssl crt /etc/haproxy/tls/site.pem alpn h2,http/1.1"));
        assert.ok(!renderHaproxyConfig({ ...base, tls }).includes("bind :::443"), "no IPv6 bind without ipv6");
    });

    test("global section holds Mozilla intermediate: TLS 1.2+, its ciphers, TLS 1.3 suites, curves, no tickets, DH 2048", () => {
        const g = section(cfg, "global");
        assert.ok(g.includes(`ssl-default-bind-ciphers ${MOZILLA_INTERMEDIATE.ciphers.join(":")}`));
        assert.ok(g.includes("ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"));
        assert.ok(g.includes("ssl-default-bind-curves X25519:prime256v1:secp384r1"));
        assert.ok(g.includes("ssl-default-bind-options prefer-client-ciphers ssl-min-ver TLSv1.2 no-tls-tickets"));
        assert.ok(g.includes("ssl-dh-param-file /etc/haproxy/tls/ffdhe2048.pem"));
        assert.ok(section(renderHaproxyConfig({ ...base, tls: { certificatePath: "/x.pem" } }), "global").includes("tune.ssl.default-dh-param 2048"));
        for (const c of MOZILLA_INTERMEDIATE.ciphers) assert.match(c, /GCM|CHACHA20/, "AEAD only");
    });

    test("redirect spares /lb-health and /db-health (and the ACME HTTP-01 prefix when given); HSTS only on TLS", () => {
        const fe = section(cfg, "frontend public");
        assert.ok(fe.includes("http-request redirect scheme https code 301 unless { ssl_fc } || { path /lb-health } || { path /db-health }"));
        assert.ok(fe.includes('http-response set-header Strict-Transport-Security "max-age=63072000" if { ssl_fc }'));
        const acme = section(renderHaproxyConfig({ ...base, tls: { ...tls, acmeHttpPathPrefix: "/.well-known/acme-challenge/" } }), "frontend public");
        assert.ok(acme.includes("http-request redirect scheme https code 301 unless { ssl_fc } || { path /lb-health } || { path /db-health } || { path_beg /.well-known/acme-challenge/ }"));
        assert.ok(!renderHaproxyConfig({ ...base, tls: { ...tls, hstsMaxAgeSeconds: 0 } }).includes("Strict-Transport-Security"));
        // The redirect comes before any header rewriting of the request.
        assert.ok(fe.findIndex((l) => l.includes("redirect")) < fe.findIndex((l) => l.includes("del-header")));
    });

    test("FFDHE2048_PEM is OpenSSL's RFC 7919 ffdhe2048 group", async () => {
        const out = path.join(tmp.dir, "dh-gen.pem");
        await must("openssl", ["genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", out]);
        assert.equal(fs.readFileSync(out, "utf8"), FFDHE2048_PEM);
    });

    test("bad TLS settings are rejected naming the field", () => {
        const bad: [Partial<HaproxyTlsSettings>, RegExp][] = [
            [{ certificatePath: "site.pem" }, /HaproxySettings\.tls\.certificatePath: must be an absolute path/],
            [{ httpsPort: 80 }, /HaproxySettings\.tls\.httpsPort: must differ from httpPort/],
            [{ httpsPort: 8404 }, /HaproxySettings\.tls\.httpsPort: must differ from statsPort/],
            [{ httpsPort: 0 }, /HaproxySettings\.tls\.httpsPort: must be an integer/],
            [{ dhParamPath: "dh.pem" }, /HaproxySettings\.tls\.dhParamPath/],
            [{ hstsMaxAgeSeconds: -1 }, /HaproxySettings\.tls\.hstsMaxAgeSeconds/],
            [{ acmeHttpPathPrefix: "/a b/" }, /HaproxySettings\.tls\.acmeHttpPathPrefix/],
        ];
        for (const [patch, message] of bad) assert.throws(() => validateHaproxySettings({ ...base, tls: { ...tls, ...patch } }), message);
        assert.throws(() => validateHaproxySettings({ ...base, tls: null as unknown as HaproxyTlsSettings }), /HaproxySettings\.tls: must be an object/);
    });

    test("haproxy -c accepts the config with real certificate and DH files", async () => {
        const dir = path.join(tmp.dir, "check");
        fs.mkdirSync(dir);
        const certs = await makeCertificates(dir);
        const file = path.join(dir, "haproxy.cfg");
        fs.writeFileSync(file, renderHaproxyConfig({ ...base, ipv6: true, tls: { certificatePath: certs.pemFile, dhParamPath: certs.dhFile } }));
        const r = await run("haproxy", ["-c", "-f", file]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        // The check really reads the certificate: a missing one fails.
        fs.writeFileSync(file, renderHaproxyConfig({ ...base, tls: { certificatePath: path.join(dir, "missing.pem") } }));
        assert.notEqual((await run("haproxy", ["-c", "-f", file])).code, 0);
    });
});

describe("haproxy terminates TLS with the rendered config (real handshakes)", () => {
    let app: TestServer;
    let haproxy: TestHaproxy;
    let caFile: string;
    let httpPort: number;
    let httpsPort: number;
    const resolve = (port: number) => ["--resolve", `${SITE}:${port}:127.0.0.1`];

    before(async () => {
        const dir = path.join(tmp.dir, "live");
        fs.mkdirSync(dir);
        const certs = await makeCertificates(dir);
        caFile = certs.caFile;
        app = await startServer("127.0.0.2", (req, res) => {
            res.writeHead(200, { "content-type": "text/plain" }).end(`app saw ${req.url} proto=${String(req.headers["x-forwarded-proto"])}`);
        });
        [httpPort, httpsPort] = [await freePort(), await freePort()];
        const cfgFile = path.join(dir, "haproxy.cfg");
        fs.writeFileSync(
            cfgFile,
            renderHaproxyConfig({
                siteName: SITE,
                privateAddress: "127.0.0.1",
                bindAddress: "127.0.0.1",
                httpPort,
                statsPort: await freePort(),
                servers: [{ name: "a", address: "127.0.0.2", port: app.port, region: "local", backup: false }],
                log: "stdout",
                runAs: null,
                chroot: null,
                adminSocket: null,
                healthCheck: { intervalMs: 300, fall: 2, rise: 2 },
                tls: { certificatePath: certs.pemFile, dhParamPath: certs.dhFile, httpsPort },
            }),
        );
        haproxy = await startHaproxy(cfgFile, `http://127.0.0.1:${httpPort}/lb-health`);
    });

    after(async () => {
        await haproxy?.stop();
        await app?.kill();
    });

    /** curl to the site over HTTPS, trusting only the test CA: "<http version> <status>\n<headers>\n<body>". */
    const curlHttps = (extra: string[], urlPath = "/page") =>
        run("curl", ["-sS", "--max-time", "5", "--cacert", caFile, ...resolve(httpsPort), "-D", "-", "-w", "\n%{http_version} %{response_code}", ...extra, `https://${SITE}:${httpsPort}${urlPath}`]);

    for (const version of ["1.2", "1.3"]) {
        test(`curl verifies the chain and gets the app over TLS ${version}, with HSTS`, async () => {
            const r = await curlHttps([`--tlsv${version}`, `--tls-max`, version, "-v"]);
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stderr, new RegExp(`SSL connection using TLSv${version.replace(".", "\\.")}`));
            assert.match(r.stdout, /app saw \/page proto=https/);
            assert.match(r.stdout, /^strict-transport-security: max-age=63072000\r?$/im);
            assert.match(r.stdout, /\n2 200$/, "ALPN negotiated HTTP/2");
        });
    }

    test("curl refuses the server without the test CA (the chain is what is verified)", async () => {
        const r = await run("curl", ["-sS", "--max-time", "5", ...resolve(httpsPort), `https://${SITE}:${httpsPort}/`]);
        assert.equal(r.code, 60, r.stderr);
    });

    test("TLS 1.1 is refused; TLS 1.2 with the same client settings is accepted", async () => {
        // SECLEVEL=0 lets this client offer TLS 1.1 at all: the refusal must come from the server.
        const sClient = (args: string[]) =>
            run("openssl", ["s_client", "-connect", `127.0.0.1:${httpsPort}`, "-servername", SITE, "-cipher", "DEFAULT:@SECLEVEL=0", ...args], { timeoutMs: 10_000 });
        const old = await sClient(["-tls1_1"]);
        assert.notEqual(old.code, 0);
        assert.match(old.stdout + old.stderr, /alert protocol version|no protocols available|unsupported protocol/i);
        const ok = await sClient(["-tls1_2", "-CAfile", caFile, "-verify_return_error"]);
        assert.equal(ok.code, 0, ok.stdout + ok.stderr);
        assert.match(ok.stdout, /Verify return code: 0 \(ok\)/);
    });

    test("only the intermediate TLS 1.2 suites: DHE uses the 2048-bit ffdhe group, CBC suites are refused", async () => {
        const sClient = (cipher: string) =>
            run("openssl", ["s_client", "-connect", `127.0.0.1:${httpsPort}`, "-servername", SITE, "-tls1_2", "-cipher", cipher], { timeoutMs: 10_000 });
        const dhe = await sClient("DHE-RSA-AES128-GCM-SHA256");
        assert.equal(dhe.code, 0, dhe.stdout + dhe.stderr);
        assert.match(dhe.stdout, /Server Temp Key: DH, 2048 bits/);
        const cbc = await sClient("ECDHE-RSA-AES128-SHA256:AES128-SHA");
        assert.notEqual(cbc.code, 0, "a CBC-only client must not get a session");
        assert.match(cbc.stdout + cbc.stderr, /handshake failure/);
    });

    test("plain HTTP redirects with 301 to the same URL on https", async () => {
        const r = await run("curl", ["-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{response_code} %{redirect_url}", "-H", `Host: ${SITE}`, `http://127.0.0.1:${httpPort}/a/b?c=1`]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `301 https://${SITE}/a/b?c=1`);
    });

    test("/db-health reaches the app over plain HTTP (the per-region uptime check probes it by the reserved IP)", async () => {
        const r = await run("curl", ["-sS", "--max-time", "5", "-w", "\n%{response_code}", `http://127.0.0.1:${httpPort}/db-health`]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /app saw \/db-health proto=http\n200$/);
    });

    test("/lb-health stays 200 on plain HTTP (monitoring and DNS agents), and answers on HTTPS too", async () => {
        const plain = await run("curl", ["-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{response_code}", `http://127.0.0.1:${httpPort}/lb-health`]);
        assert.equal(plain.stdout, "200");
        const secure = await curlHttps([], "/lb-health");
        assert.equal(secure.code, 0, secure.stderr);
        assert.match(secure.stdout, / 200$/);
    });
});

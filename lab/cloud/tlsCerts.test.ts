import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { createDbTls } from "../../components/db/dbTls";
import { DigitalOceanModel } from "./digitalOceanModel";
import { runProgram } from "./runProgram";
import { generatePemKeyPair, locallySignedCert, selfSignedCert } from "./tlsCerts";

/** `openssl verify` of a certificate against a CA, as a TLS server certificate. */
function opensslVerify(caPem: string, certPem: string): { status: number | null; output: string } {
    const dir = mkdtempSync(path.join(tmpdir(), "dns-rr-ha-verify-"));
    try {
        writeFileSync(path.join(dir, "ca.pem"), caPem);
        writeFileSync(path.join(dir, "cert.pem"), certPem);
        const r = spawnSync("openssl", ["verify", "-purpose", "sslserver", "-CAfile", path.join(dir, "ca.pem"), path.join(dir, "cert.pem")], { encoding: "utf8" });
        return { status: r.status, output: r.stdout + r.stderr };
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

describe("the model's tls resources", () => {
    test("PrivateKey: ECDSA and RSA keys in the provider's PEM forms; ED25519 stays OpenSSH", () => {
        const model = new DigitalOceanModel();
        const ec = model.create("tls:index/privateKey:PrivateKey", "ec", { algorithm: "ECDSA", ecdsaCurve: "P256" }).state;
        assert.match(ec.privateKeyPem, /^-----BEGIN EC PRIVATE KEY-----\n/);
        assert.match(ec.privateKeyPemPkcs8, /^-----BEGIN PRIVATE KEY-----\n/);
        assert.match(ec.publicKeyOpenssh, /^ecdsa-sha2-nistp256 AAAA/);
        const key = crypto.createPrivateKey(ec.privateKeyPem);
        assert.equal(key.asymmetricKeyDetails?.namedCurve, "prime256v1");
        assert.equal(crypto.createPublicKey(key).export({ type: "spki", format: "pem" }), ec.publicKeyPem);
        const rsa = model.create("tls:index/privateKey:PrivateKey", "rsa", { algorithm: "RSA" }).state;
        assert.match(rsa.privateKeyPem, /^-----BEGIN RSA PRIVATE KEY-----\n/);
        assert.equal(crypto.createPrivateKey(rsa.privateKeyPem).asymmetricKeyDetails?.modulusLength, 2048);
        assert.match(rsa.publicKeyOpenssh, /^ssh-rsa AAAA/);
        const ed = model.create("tls:index/privateKey:PrivateKey", "ed", { algorithm: "ED25519" }).state;
        assert.match(ed.privateKeyOpenssh, /^-----BEGIN OPENSSH PRIVATE KEY-----/);
    });

    test("the OpenSSH public key's fingerprint is ssh-keygen's", () => {
        const pair = generatePemKeyPair("ECDSA", { ecdsaCurve: "P256" });
        const r = spawnSync("ssh-keygen", ["-l", "-f", "-"], { input: pair.publicKeyOpenssh, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`^256 ${pair.publicKeyFingerprintSha256.replace(/[+/]/g, "\\$&")} `));
    });

    test("createDbTls under the model: a CA and per-node server certificates for the node's IP, which openssl verifies", async () => {
        const model = new DigitalOceanModel();
        let caPem: pulumi.Output<string> | undefined;
        let keyOutputs: pulumi.Output<string>[] = [];
        const exports = await runProgram({
            project: "p", stack: "s", config: {}, mocks: model.mocks(),
            program: () => {
                const parent = new pulumi.ComponentResource("test:index:Parent", "db");
                const t = createDbTls(parent, "db", [{ name: "db-a", privateIpv4: "10.110.0.5" }, { name: "db-b", privateIpv4: pulumi.output("10.111.0.5"), dnsNames: ["db-b.internal"] }]);
                caPem = t.caCertPem;
                keyOutputs = t.nodes.map((n) => n.privateKeyPem);
                return { certs: t.nodes.map((n) => n.certPem), keys: t.nodes.map((n) => n.privateKeyPem) };
            },
        });
        assert.ok(caPem);
        assert.equal(await pulumi.isSecret(caPem), false, "the CA certificate is public");
        for (const k of keyOutputs) assert.equal(await pulumi.isSecret(k), true, "node keys are secrets");
        assert.deepEqual(model.ofKind("PrivateKey").map((k) => [k.name, k.inputs.algorithm, k.inputs.ecdsaCurve]), [
            ["db-tls-ca-key", "ECDSA", "P256"], ["db-a-tls-key", "ECDSA", "P256"], ["db-b-tls-key", "ECDSA", "P256"],
        ]);
        const [caRes] = model.ofKind("SelfSignedCert");
        const ca = new crypto.X509Certificate(caRes!.state.certPem);
        assert.equal(ca.ca, true);
        assert.match(ca.subject, /CN=db database CA/);
        assert.equal(caRes!.id, BigInt(`0x${ca.serialNumber}`).toString());
        assert.equal(model.ofKind("CertRequest").length, 2);
        const certs = exports.certs as string[];
        const keys = exports.keys as string[];
        [["10.110.0.5", undefined], ["10.111.0.5", "db-b.internal"]].forEach(([ip, dns], i) => {
            const x = new crypto.X509Certificate(certs[i]!);
            assert.equal(x.ca, false);
            assert.equal(x.checkIP(ip!), ip, `cert ${i} is for ${ip}`);
            assert.equal(x.checkIP("10.110.0.6"), undefined);
            if (dns) assert.equal(x.checkHost(dns), dns);
            assert.ok(x.checkIssued(ca) && x.verify(ca.publicKey), "signed by the CA");
            assert.ok(x.checkPrivateKey(crypto.createPrivateKey(keys[i]!)), "matches its key");
            assert.deepEqual(x.keyUsage?.sort(), ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
            const v = opensslVerify(caRes!.state.certPem, certs[i]!);
            assert.equal(v.status, 0, v.output);
            const days = (Date.parse(x.validTo) - Date.now()) / 86_400_000;
            assert.ok(days > 725 && days < 732, `valid for two years (${days} days)`);
        });
        const [signed] = model.ofKind("LocallySignedCert");
        assert.match(signed!.state.validityEndTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        assert.equal(signed!.state.readyForRenewal, false);
    });

    test("a certificate another CA signed does not verify; unknown uses are refused", () => {
        const model = new DigitalOceanModel();
        const policy = { allowedUses: ["cert_signing"], validityPeriodHours: 24, isCaCertificate: true };
        const a = generatePemKeyPair("ECDSA", { ecdsaCurve: "P256" });
        const b = generatePemKeyPair("ECDSA", { ecdsaCurve: "P256" });
        const caA = selfSignedCert(a.privateKeyPem, { subject: { commonName: "a" } }, policy);
        const caB = selfSignedCert(b.privateKeyPem, { subject: { commonName: "b" } }, policy);
        const csr = model.create("tls:index/certRequest:CertRequest", "r", { privateKeyPem: generatePemKeyPair("RSA").privateKeyPem, ipAddresses: ["10.0.0.1"] }).state.certRequestPem as string;
        const cert = locallySignedCert(csr, { certPem: caA.certPem, privateKeyPem: a.privateKeyPem }, { allowedUses: ["server_auth", "digital_signature"], validityPeriodHours: 1 });
        assert.equal(opensslVerify(caA.certPem, cert.certPem).status, 0);
        assert.notEqual(opensslVerify(caB.certPem, cert.certPem).status, 0);
        assert.throws(() => selfSignedCert(a.privateKeyPem, {}, { ...policy, allowedUses: ["world_domination"] }), /unknown use "world_domination"/);
        assert.throws(() => selfSignedCert(a.privateKeyPem, { subject: { commonName: "x\n[ext]" } }, policy), /must be one non-empty line/);
    });

    test("the program's tls types are the model's kinds", () => {
        // The model keys on the last part of the type token; guard against a provider rename.
        for (const [cls, kind] of [[tls.SelfSignedCert, "SelfSignedCert"], [tls.CertRequest, "CertRequest"], [tls.LocallySignedCert, "LocallySignedCert"], [tls.PrivateKey, "PrivateKey"]] as const) {
            assert.equal((cls as unknown as { __pulumiType: string }).__pulumiType.split(":").pop(), kind);
        }
    });
});

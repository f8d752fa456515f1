import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import { DigitalOceanModel } from "../../lab/cloud/digitalOceanModel";
import { runProgram } from "../../lab/cloud/runProgram";
import { haproxyPemBundle, LETS_ENCRYPT_DIRECTORY, MIN_DAYS_REMAINING, SiteCertificate, type SiteCertificateArgs } from "./siteCertificate";

const TOKEN = "dop_v1_site_certificate_test_token_0123456789";
const ARGS: SiteCertificateArgs = { domain: "www.example.com", serverUrl: LETS_ENCRYPT_DIRECTORY, email: "ops@example.com", dnsToken: pulumi.secret(TOKEN) };

/** Declares a SiteCertificate under the model's mocks; records which provider each resource was created with. */
async function declare(args: SiteCertificateArgs) {
    const model = new DigitalOceanModel();
    const mocks = model.mocks();
    const providerOf = new Map<string, string | undefined>();
    let cert: SiteCertificate | undefined;
    const exports = await runProgram({
        project: "p", stack: "s", config: {},
        mocks: {
            newResource: (a) => {
                providerOf.set(a.name, a.provider);
                return mocks.newResource(a);
            },
            call: (a) => mocks.call(a),
        },
        program: () => {
            cert = new SiteCertificate("site-cert", args);
            return { pem: cert.pem, notAfter: cert.notAfter, domain: cert.domain };
        },
    });
    return { model, exports, cert: cert!, providerOf };
}

describe("SiteCertificate", () => {
    test("account key -> registration -> a P-256 certificate for the site name by DNS-01 on DigitalOcean, through its own ACME provider", async () => {
        const { model, exports, cert, providerOf } = await declare(ARGS);
        const custom = model.resources.filter((r) => !r.type.startsWith("dns-rr-ha:"));
        assert.deepEqual(custom.map((r) => `${r.type} ${r.name}`), [
            "pulumi:providers:acme site-cert-acme",
            "tls:index/privateKey:PrivateKey site-cert-account-key",
            "acme:index/registration:Registration site-cert-registration",
            "acme:index/certificate:Certificate site-cert-certificate",
        ]);
        const [provider, key, registration, certificate] = custom;
        assert.equal(provider!.inputs.serverUrl, LETS_ENCRYPT_DIRECTORY);
        assert.deepEqual([key!.inputs.algorithm, key!.inputs.ecdsaCurve], ["ECDSA", "P256"]);
        assert.equal(registration!.inputs.accountKeyPem, key!.state.privateKeyPem);
        assert.equal(registration!.inputs.emailAddress, "ops@example.com");
        assert.equal(certificate!.inputs.accountKeyPem, key!.state.privateKeyPem, "the registered account orders the certificate");
        assert.equal(certificate!.inputs.commonName, "www.example.com");
        assert.equal(certificate!.inputs.keyType, "P256");
        assert.equal(certificate!.inputs.minDaysRemaining, MIN_DAYS_REMAINING.default);
        assert.deepEqual(certificate!.inputs.dnsChallenges, [{ provider: "digitalocean", config: { DO_AUTH_TOKEN: TOKEN } }]);
        for (const r of [registration!, certificate!]) assert.match(providerOf.get(r.name) ?? "", new RegExp(`::${provider!.name}::${provider!.id}$`), `${r.name} uses the explicit provider`);

        // The bundle HAProxy reads: leaf, then the issuer, then the leaf's key.
        const pem = exports.pem as string;
        const blocks = pem.match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----\n/g) ?? [];
        assert.equal(blocks.join(""), pem, "nothing but PEM blocks");
        const labels = blocks.map((b) => /BEGIN ([A-Z ]+)-----/.exec(b)![1]);
        assert.deepEqual(labels.slice(0, 2), ["CERTIFICATE", "CERTIFICATE"]);
        assert.match(labels[2] ?? "", /^(EC )?PRIVATE KEY$/, "lego writes EC keys as SEC1 (EC PRIVATE KEY)");
        assert.equal(labels.length, 3);
        const leaf = new crypto.X509Certificate(blocks[0]!);
        const issuer = new crypto.X509Certificate(blocks[1]!);
        assert.ok(leaf.checkIssued(issuer) && leaf.verify(issuer.publicKey));
        assert.equal(leaf.checkHost("www.example.com"), "www.example.com");
        const leafKey = crypto.createPrivateKey(blocks[2]!);
        assert.ok(leaf.checkPrivateKey(leafKey));
        assert.equal(leafKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
        assert.equal(pem.includes(certificate!.state.privateKeyPem.trim()), true);

        assert.equal(await pulumi.isSecret(cert.pem), true, "the bundle holds the key: a secret");
        assert.equal(await pulumi.isSecret(cert.notAfter), false);
        assert.equal(exports.notAfter, certificate!.state.certificateNotAfter);
        assert.equal(Date.parse(exports.notAfter as string), Date.parse(leaf.validTo));
        assert.equal(exports.domain, "www.example.com");
    });

    test("minDaysRemaining and the directory come from the args (the lab points at its pebble)", async () => {
        const { model } = await declare({ ...ARGS, serverUrl: "https://192.0.2.22:14000/dir", minDaysRemaining: 45 });
        assert.equal(model.ofKind("acme")[0]!.inputs.serverUrl, "https://192.0.2.22:14000/dir");
        assert.equal(model.ofKind("Certificate")[0]!.inputs.minDaysRemaining, 45);
    });

    test("the order waits for the component's dependsOn, even a resource declared after it (the domain)", async () => {
        const model = new DigitalOceanModel();
        await runProgram({
            project: "p", stack: "s", config: {}, mocks: model.mocks(),
            program: () => {
                let declared: (r: pulumi.Resource[]) => void = () => undefined;
                const cert = new SiteCertificate("site-cert", ARGS, { dependsOn: new Promise<pulumi.Resource[]>((resolve) => { declared = resolve; }) });
                declared([new digitalocean.Domain("zone", { name: "example.com" })]);
                return { notAfter: cert.notAfter };
            },
        });
        const at = (kind: string) => model.resources.findIndex((r) => r.kind === kind);
        assert.ok(at("Certificate") > at("Domain"), `certificate at ${at("Certificate")}, domain at ${at("Domain")}`);
    });

    test("bad args are refused naming the field, and the token is never shown", () => {
        const v = (a: Partial<Record<keyof SiteCertificateArgs, unknown>>) => () => SiteCertificate.validateArgs({ ...ARGS, ...a } as SiteCertificateArgs);
        SiteCertificate.validateArgs({ ...ARGS, dnsToken: TOKEN, minDaysRemaining: 89 });
        assert.throws(v({ domain: "localhost" }), /^Error: SiteCertificateArgs\.domain "localhost": must be a DNS name/);
        assert.throws(v({ serverUrl: "http://acme.example/dir" }), /SiteCertificateArgs\.serverUrl "http:\/\/acme\.example\/dir": must be an ACME directory URL over https/);
        assert.throws(v({ email: "ops" }), /SiteCertificateArgs\.email "ops": must be an email address/);
        assert.throws(v({ minDaysRemaining: 90 }), /SiteCertificateArgs\.minDaysRemaining 90: must be a whole number of days from 1 to 89/);
        assert.throws(v({ minDaysRemaining: 0 }), /minDaysRemaining 0/);
        assert.throws(v({ dnsToken: undefined }), /SiteCertificateArgs\.dnsToken \(not set\): must be a DigitalOcean API token/);
        assert.throws(v({ dnsToken: 42 }), (e: unknown) => e instanceof Error && /SiteCertificateArgs\.dnsToken \(secret, not a string\)/.test(e.message) && !e.message.includes("42"));
        assert.throws(v({ dnsToken: "" }), /SiteCertificateArgs\.dnsToken \(secret, 0 characters\)/);
    });

    test("haproxyPemBundle refuses a part that is not PEM, naming it", () => {
        const cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
        const key = "-----BEGIN PRIVATE KEY-----\nMIIC\n-----END PRIVATE KEY-----\n";
        assert.equal(haproxyPemBundle(`${cert}\n\n`, cert, key), `${cert}\n${cert}\n${key}`);
        assert.throws(() => haproxyPemBundle(cert, "", key), /site certificate: the issuer chain is not PEM/);
        assert.throws(() => haproxyPemBundle(cert, cert, "secret"), (e: unknown) => e instanceof Error && /the private key is not PEM/.test(e.message) && !e.message.includes("secret\""));
    });
});

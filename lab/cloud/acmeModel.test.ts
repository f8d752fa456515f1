import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import * as acme from "@pulumiverse/acme";
import { type AcmeCertificateRequest, type AcmeIssuedCertificate, modelAcmeIssuer } from "./acmeModel";
import { DigitalOceanModel } from "./digitalOceanModel";
import { runProgram } from "./runProgram";

/** The program side as the wiring will declare it: account key, registration, one certificate by DNS-01 on DigitalOcean. */
function declareCertificate(): Record<string, pulumi.Output<unknown>> {
    const accountKey = new tls.PrivateKey("acme-account-key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
    const registration = new acme.Registration("acme-registration", { accountKeyPem: accountKey.privateKeyPem, emailAddress: "ops@dns-rr-ha.test" });
    const cert = new acme.Certificate("site-cert", {
        accountKeyPem: registration.accountKeyPem,
        commonName: "www.dns-rr-ha.test",
        subjectAlternativeNames: ["dns-rr-ha.test"],
        dnsChallenges: [{ provider: "digitalocean", config: { DO_AUTH_TOKEN: pulumi.secret("token-not-for-the-lab") } }],
        minDaysRemaining: 30,
    });
    return {
        registrationUrl: registration.registrationUrl,
        certificatePem: cert.certificatePem,
        issuerPem: cert.issuerPem,
        privateKeyPem: cert.privateKeyPem,
        notAfter: cert.certificateNotAfter,
        domain: cert.certificateDomain,
        serial: cert.certificateSerial,
        certId: cert.id,
    };
}

describe("the model's acme resources", () => {
    test("Certificate goes through the lab's issuer hook, with the provider's output names; the key is a secret", async () => {
        const requests: AcmeCertificateRequest[] = [];
        const issueWithModelCa = modelAcmeIssuer();
        const hook = async (request: AcmeCertificateRequest): Promise<AcmeIssuedCertificate> => {
            requests.push(request);
            return { ...(await issueWithModelCa(request)), certificateUrl: "https://pebble.lab/certZ/1" };
        };
        const model = new DigitalOceanModel(undefined, { acmeIssuer: hook });
        let outputs: Record<string, pulumi.Output<unknown>> = {};
        const exports = await runProgram({
            project: "p", stack: "s", config: {}, mocks: model.mocks(),
            program: () => (outputs = declareCertificate()),
        });

        assert.equal(requests.length, 1, "one issuance per certificate");
        const [req] = requests;
        assert.deepEqual(req!.names, ["www.dns-rr-ha.test", "dns-rr-ha.test"]);
        assert.equal(req!.keyType, "2048");
        assert.match(req!.accountKeyPem, /PRIVATE KEY/);
        assert.equal(req!.accountKeyPem, model.ofKind("PrivateKey")[0]!.state.privateKeyPem, "the registration's account key");
        assert.deepEqual(req!.dnsChallenges, [{ provider: "digitalocean", config: { DO_AUTH_TOKEN: "token-not-for-the-lab" } }]);

        assert.equal(await pulumi.isSecret(outputs.privateKeyPem!), true, "privateKeyPem is a secret, as the provider marks it");
        assert.equal(await pulumi.isSecret(outputs.certificatePem!), false);
        assert.equal(await pulumi.isSecret(outputs.issuerPem!), false);

        const leaf = new crypto.X509Certificate(exports.certificatePem as string);
        const issuer = new crypto.X509Certificate(exports.issuerPem as string);
        assert.ok(leaf.checkIssued(issuer) && leaf.verify(issuer.publicKey));
        assert.equal(leaf.checkHost("www.dns-rr-ha.test"), "www.dns-rr-ha.test");
        assert.equal(leaf.checkHost("dns-rr-ha.test"), "dns-rr-ha.test");
        assert.ok(leaf.checkPrivateKey(crypto.createPrivateKey(exports.privateKeyPem as string)));
        assert.equal(crypto.createPrivateKey(exports.privateKeyPem as string).asymmetricKeyDetails?.modulusLength, 2048);
        assert.equal(exports.domain, "www.dns-rr-ha.test");
        assert.match(exports.notAfter as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        assert.equal(Date.parse(exports.notAfter as string), Date.parse(leaf.validTo));
        assert.equal(exports.serial, leaf.serialNumber.toLowerCase());
        assert.equal(exports.certId, "https://pebble.lab/certZ/1");
        assert.match(exports.registrationUrl as string, /^https:\/\/acme\.model\.invalid\/acme\/acct\/\d+$/);

        const [record] = model.ofKind("Certificate");
        assert.equal(record!.type, "acme:index/certificate:Certificate");
        assert.equal(record!.state.certificatePem, exports.certificatePem);
        assert.equal(model.ofKind("Registration").length, 1);
    });

    test("without a hook a model CA issues it (90 days, key type as asked)", async () => {
        const issue = modelAcmeIssuer();
        const request: AcmeCertificateRequest = { name: "c", accountKeyPem: "-----BEGIN PRIVATE KEY-----", names: ["www.example.test"], keyType: "P256", dnsChallenges: [{ provider: "digitalocean" }] };
        const a = await issue(request);
        const b = await issue(request);
        const leaf = new crypto.X509Certificate(a.certificatePem);
        assert.equal(crypto.createPrivateKey(a.privateKeyPem).asymmetricKeyDetails?.namedCurve, "prime256v1");
        const days = (Date.parse(leaf.validTo) - Date.now()) / 86_400_000;
        assert.ok(days > 89 && days <= 90, `${days} days`);
        assert.equal(a.issuerPem, b.issuerPem, "one CA per issuer");
        assert.notEqual(a.certificatePem, b.certificatePem);
    });

    test("bad Certificate inputs are refused naming the resource and the input", async () => {
        const model = new DigitalOceanModel();
        const key = model.create("tls:index/privateKey:PrivateKey", "k", { algorithm: "RSA" }).state.privateKeyPem as string;
        const type = "acme:index/certificate:Certificate";
        await assert.rejects(model.createAsync(type, "c1", { accountKeyPem: key, dnsChallenges: [{ provider: "digitalocean" }] }), /acme Certificate c1: needs a commonName/);
        await assert.rejects(model.createAsync(type, "c2", { accountKeyPem: key, commonName: "www.example.test" }), /c2: the stack answers DNS-01 only/);
        await assert.rejects(model.createAsync(type, "c3", { commonName: "www.example.test", dnsChallenges: [{ provider: "digitalocean" }] }), /c3: accountKeyPem/);
        assert.throws(() => model.create(type, "c4", {}), /createAsync/);
        assert.equal(model.ofKind("Certificate").length, 0);
    });
});

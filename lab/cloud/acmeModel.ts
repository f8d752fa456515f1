/**
 * The model's side of the @pulumiverse/acme provider: `acme:index/registration:Registration`
 * and `acme:index/certificate:Certificate`. A certificate is issued through an {@link AcmeIssuer}
 * hook: the lab passes one that runs the real DNS-01 flow against pebble (lab/acme); without
 * one, a model CA signs it (real keys and X.509, so unit tests of the program can read and check
 * what the wiring would ship). Output names are the provider's.
 */
import { X509Certificate } from "crypto";
import { certRequest, generatePemKeyPair, locallySignedCert, selfSignedCert } from "./tlsCerts";

export const ACME_REGISTRATION_TYPE = "acme:index/registration:Registration";
export const ACME_CERTIFICATE_TYPE = "acme:index/certificate:Certificate";

/** What a Certificate's inputs ask for, as the hook sees them (secrets unwrapped). */
export interface AcmeCertificateRequest {
    /** Logical name of the resource. */
    readonly name: string;
    /** The account key (the Registration's accountKeyPem). */
    readonly accountKeyPem: string;
    /** commonName first (when given), then subjectAlternativeNames, without duplicates. */
    readonly names: readonly string[];
    /** The provider's keyType: "2048" (default), "3072", "4096", "P256", "P384". */
    readonly keyType: string;
    /** dnsChallenges as declared (provider name and its config: the DigitalOcean token stays with the program). */
    readonly dnsChallenges: readonly { provider: string; config?: Record<string, string> }[];
}

/** What an issuer returns; the model derives the other outputs. */
export interface AcmeIssuedCertificate {
    /** Leaf certificate (PEM). */
    readonly certificatePem: string;
    /** Intermediate chain (PEM). */
    readonly issuerPem: string;
    /** The certificate's private key (PEM); a secret output. */
    readonly privateKeyPem: string;
    /** URL of the certificate at the CA, when known. */
    readonly certificateUrl?: string;
}

/** Issues the certificate of an acme Certificate resource (the lab: pebble through DNS-01). */
export type AcmeIssuer = (request: AcmeCertificateRequest) => Promise<AcmeIssuedCertificate>;

/** The request the hook gets for a Certificate's (unwrapped) inputs; throws naming the missing input. */
export function acmeCertificateRequest(name: string, inputs: Record<string, unknown>): AcmeCertificateRequest {
    const accountKeyPem = inputs.accountKeyPem;
    if (typeof accountKeyPem !== "string" || !accountKeyPem.includes("PRIVATE KEY")) throw new Error(`acme Certificate ${name}: accountKeyPem must be a PEM private key`);
    const names = [inputs.commonName, ...((inputs.subjectAlternativeNames as unknown[] | undefined) ?? [])].filter((n): n is string => typeof n === "string" && n !== "");
    if (names.length === 0) throw new Error(`acme Certificate ${name}: needs a commonName or subjectAlternativeNames`);
    const dnsChallenges = (inputs.dnsChallenges as AcmeCertificateRequest["dnsChallenges"] | undefined) ?? [];
    if (dnsChallenges.length === 0) throw new Error(`acme Certificate ${name}: the stack answers DNS-01 only, dnsChallenges must not be empty`);
    return { name, accountKeyPem, names: [...new Set(names)], keyType: String(inputs.keyType ?? "2048"), dnsChallenges };
}

/** Provider outputs of a Certificate (secret ones listed in {@link ACME_CERTIFICATE_SECRET_OUTPUTS}). */
export function acmeCertificateState(request: AcmeCertificateRequest, issued: AcmeIssuedCertificate): Record<string, unknown> {
    const x509 = new X509Certificate(issued.certificatePem);
    const iso = (d: string) => new Date(d).toISOString().replace(/\.\d{3}Z$/, "Z");
    return {
        certificateDomain: request.names[0],
        certificatePem: issued.certificatePem,
        issuerPem: issued.issuerPem,
        privateKeyPem: issued.privateKeyPem,
        certificateNotBefore: iso(x509.validFrom),
        certificateNotAfter: iso(x509.validTo),
        certificateSerial: x509.serialNumber.toLowerCase(),
        certificateUrl: issued.certificateUrl ?? "",
    };
}

/** Outputs the real provider marks secret (additionalSecretOutputs), which mocks do not do by themselves. */
export const ACME_CERTIFICATE_SECRET_OUTPUTS = ["privateKeyPem", "accountKeyPem", "certificateP12"] as const;

/** Provider outputs of a Registration: its URL is also its id. */
export function acmeRegistrationState(seq: number, inputs: Record<string, unknown>): { id: string; state: Record<string, unknown> } {
    const registrationUrl = `https://acme.model.invalid/acme/acct/${seq}`;
    return { id: registrationUrl, state: { ...inputs, registrationUrl } };
}

/**
 * The default issuer: a model CA (made once per issuer) signs a 90-day server certificate for
 * the names, with a key of the requested type, as an ACME CA would (no network, no DNS).
 */
export function modelAcmeIssuer(): AcmeIssuer {
    let ca: { certPem: string; privateKeyPem: string } | undefined;
    return async (request) => {
        if (!ca) {
            const key = generatePemKeyPair("ECDSA", { ecdsaCurve: "P256" });
            const cert = selfSignedCert(key.privateKeyPem, { subject: { commonName: "dns-rr-ha model ACME CA" } }, {
                allowedUses: ["cert_signing", "crl_signing"], validityPeriodHours: 24 * 365, isCaCertificate: true,
            });
            ca = { certPem: cert.certPem, privateKeyPem: key.privateKeyPem };
        }
        const ec = /^P(256|384)$/.exec(request.keyType);
        const key = ec ? generatePemKeyPair("ECDSA", { ecdsaCurve: request.keyType }) : generatePemKeyPair("RSA", { rsaBits: Number(request.keyType) || 2048 });
        const csr = certRequest(key.privateKeyPem, { subject: { commonName: request.names[0] }, dnsNames: request.names });
        const cert = locallySignedCert(csr, ca, { allowedUses: ["digital_signature", "key_encipherment", "server_auth"], validityPeriodHours: 24 * 90 });
        return { certificatePem: cert.certPem, issuerPem: ca.certPem, privateKeyPem: key.privateKeyPem };
    };
}

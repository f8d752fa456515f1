/**
 * The site's HTTPS certificate from an ACME CA (Let's Encrypt by default), issued and renewed by
 * `pulumi up` through `@pulumiverse/acme` with the DNS-01 challenge on the DigitalOcean domain.
 * The DNS token stays where `pulumi up` runs; the certificate and its key are Pulumi secrets
 * that the load balancers' wiring ships (see components/lb/HTTPS.md).
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import * as acme from "@pulumiverse/acme";
import { assertArgs, assertInput, assertSecretInput, isHostName, isNonEmptyString } from "../validation/assert";

/** Let's Encrypt's production ACME directory. */
export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";

/**
 * `minDaysRemaining`: a `pulumi up` renews the certificate once fewer days than this remain.
 * Let's Encrypt certificates last 90 days, so 89 is the most that does not renew on every run.
 */
export const MIN_DAYS_REMAINING = { min: 1, max: 89, default: 30 } as const;

const EMAIL = /^[^\s@]+@[^\s@]+\.[a-z]{2,}$/i;

/** An ACME directory URL: https, a host (name or IPv4), an optional port and path. */
export function isAcmeDirectoryUrl(value: string): boolean {
    return /^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[^\s]*)?$/.test(value);
}

export interface SiteCertificateArgs {
    /** The name the certificate is for: the site's round-robin name, e.g. "www.example.com". */
    readonly domain: pulumi.Input<string>;
    /** ACME directory URL: {@link LETS_ENCRYPT_DIRECTORY} in production, the lab's pebble in the lab. */
    readonly serverUrl: pulumi.Input<string>;
    /** Contact address of the ACME account (the CA's notices go there). */
    readonly email: pulumi.Input<string>;
    /**
     * DigitalOcean API token with the domain scopes: the DNS-01 challenge creates and deletes a TXT
     * record with it. A secret; used by `pulumi up` only, it reaches no droplet through this component.
     */
    readonly dnsToken: pulumi.Input<string>;
    /** A `pulumi up` renews the certificate once fewer days than this remain (1 to 89, default 30). */
    readonly minDaysRemaining?: pulumi.Input<number>;
}

/** One PEM block, ending in a newline; throws naming the part when it is not one. */
function pemBlock(part: string, pem: string): string {
    const text = pem.trim();
    if (!/^-----BEGIN [A-Z0-9 ]+-----\n[\s\S]+\n-----END [A-Z0-9 ]+-----$/.test(text)) throw new Error(`site certificate: the ${part} is not PEM`);
    return `${text}\n`;
}

/** What HAProxy's `crt` reads: the leaf certificate, then the issuer chain, then the private key. */
export function haproxyPemBundle(certificatePem: string, issuerPem: string, privateKeyPem: string): string {
    return pemBlock("certificate", certificatePem) + pemBlock("issuer chain", issuerPem) + pemBlock("private key", privateKeyPem);
}

/**
 * An ACME account (ECDSA P-256 key, registered with the email) and one certificate for the site
 * name with an ECDSA P-256 key, proven by DNS-01 on DigitalOcean. Renewal happens only when
 * `pulumi up` runs and fewer than `minDaysRemaining` days are left: schedule `pulumi up`.
 * The order waits for the component's `dependsOn` (give it the DigitalOcean domain, or what
 * creates it, when this stack creates the domain: the challenge's TXT record goes there).
 */
export class SiteCertificate extends pulumi.ComponentResource {
    /** Leaf, issuer chain and private key as one PEM (HAProxy's `crt` format). A secret. */
    public readonly pem: pulumi.Output<string>;
    /** When the certificate expires (RFC 3339, e.g. "2026-01-31T12:00:00Z"). */
    public readonly notAfter: pulumi.Output<string>;
    /** The name the certificate is for. */
    public readonly domain: pulumi.Output<string>;

    public static validateArgs(args: SiteCertificateArgs): void {
        const where = "SiteCertificateArgs";
        const a = assertArgs(where, args);
        assertInput(`${where}.domain`, a.domain, (v) => typeof v === "string" && isHostName(v) && v.includes("."), "must be a DNS name such as \"www.example.com\" (or an Output of one)");
        assertInput(`${where}.serverUrl`, a.serverUrl, (v) => typeof v === "string" && isAcmeDirectoryUrl(v), `must be an ACME directory URL over https, e.g. "${LETS_ENCRYPT_DIRECTORY}" (or an Output of one)`);
        assertInput(`${where}.email`, a.email, (v) => typeof v === "string" && EMAIL.test(v), "must be an email address such as \"ops@example.com\" (or an Output of one)");
        assertSecretInput(`${where}.dnsToken`, a.dnsToken, isNonEmptyString, "must be a DigitalOcean API token with the domain scopes (a string or an Output of one)");
        if (a.minDaysRemaining !== undefined) {
            const { min, max } = MIN_DAYS_REMAINING;
            assertInput(`${where}.minDaysRemaining`, a.minDaysRemaining, (v) => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max, `must be a whole number of days from ${min} to ${max}`);
        }
    }

    constructor(name: string, args: SiteCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dns-rr-ha:lb:SiteCertificate", name, {}, opts);
        SiteCertificate.validateArgs(args);
        // An explicit provider: its directory comes from the args (Let's Encrypt, or the lab's pebble).
        const provider = new acme.Provider(`${name}-acme`, { serverUrl: args.serverUrl }, { parent: this });
        const accountKey = new tls.PrivateKey(`${name}-account-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
        const registration = new acme.Registration(`${name}-registration`, {
            accountKeyPem: pulumi.secret(accountKey.privateKeyPem),
            emailAddress: args.email,
        }, { parent: this, provider });
        const certificate = new acme.Certificate(`${name}-certificate`, {
            accountKeyPem: registration.accountKeyPem,
            commonName: args.domain,
            keyType: "P256",
            minDaysRemaining: args.minDaysRemaining ?? MIN_DAYS_REMAINING.default,
            dnsChallenges: [{ provider: "digitalocean", config: { DO_AUTH_TOKEN: pulumi.secret(args.dnsToken) } }],
        }, { parent: this, provider, ...(opts?.dependsOn !== undefined ? { dependsOn: opts.dependsOn } : {}) });
        this.pem = pulumi.secret(pulumi.all([certificate.certificatePem, certificate.issuerPem, certificate.privateKeyPem])
            .apply(([cert, issuer, key]) => haproxyPemBundle(cert, issuer, key)));
        this.notAfter = certificate.certificateNotAfter;
        this.domain = certificate.certificateDomain;
        this.registerOutputs({ notAfter: this.notAfter, domain: this.domain });
    }
}

/**
 * Real keys and X.509 certificates for the model's `tls:` resources, the way the @pulumi/tls
 * provider makes them: keys with node:crypto, certificates and requests with the `openssl` CLI
 * (in a temp dir removed afterwards). The lab's MariaDB and PHP verify them like the real ones.
 */
import * as crypto from "crypto";
import { spawnSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";

/** A private key as tls.PrivateKey reports it (PEM and OpenSSH forms). */
export interface PemKeyPair {
    readonly algorithm: "RSA" | "ECDSA";
    readonly privateKeyPem: string;
    readonly privateKeyPemPkcs8: string;
    readonly publicKeyPem: string;
    readonly publicKeyOpenssh: string;
    readonly publicKeyFingerprintMd5: string;
    readonly publicKeyFingerprintSha256: string;
}

const CURVES: Record<string, { node: string; ssh: string }> = {
    P256: { node: "prime256v1", ssh: "nistp256" },
    P384: { node: "secp384r1", ssh: "nistp384" },
    P521: { node: "secp521r1", ssh: "nistp521" },
};

function sshString(data: Buffer | string): Buffer {
    const body = typeof data === "string" ? Buffer.from(data) : data;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    return Buffer.concat([len, body]);
}

/** An SSH mpint (two's complement, big-endian, a leading zero when the top bit is set). */
function sshMpint(raw: Buffer): Buffer {
    let i = 0;
    while (i < raw.length - 1 && raw[i] === 0) i++;
    const trimmed = raw.subarray(i);
    return sshString(trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** A fresh RSA (default 2048 bits) or ECDSA (default P224 as the provider; P256 recommended) key. */
export function generatePemKeyPair(algorithm: "RSA" | "ECDSA", options: { rsaBits?: number; ecdsaCurve?: string } = {}): PemKeyPair {
    let privateKeyPem: string;
    let blob: Buffer;
    let keys: crypto.KeyPairKeyObjectResult;
    if (algorithm === "RSA") {
        keys = crypto.generateKeyPairSync("rsa", { modulusLength: options.rsaBits ?? 2048 });
        privateKeyPem = keys.privateKey.export({ type: "pkcs1", format: "pem" }) as string;
        const jwk = keys.publicKey.export({ format: "jwk" });
        blob = Buffer.concat([sshString("ssh-rsa"), sshMpint(Buffer.from(jwk.e!, "base64url")), sshMpint(Buffer.from(jwk.n!, "base64url"))]);
    } else {
        const curve = CURVES[options.ecdsaCurve ?? "P224"];
        if (!curve) throw new Error(`the model generates ECDSA keys on ${Object.keys(CURVES).join(", ")} only (got ${options.ecdsaCurve})`);
        keys = crypto.generateKeyPairSync("ec", { namedCurve: curve.node });
        privateKeyPem = keys.privateKey.export({ type: "sec1", format: "pem" }) as string;
        const jwk = keys.publicKey.export({ format: "jwk" });
        const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
        blob = Buffer.concat([sshString(`ecdsa-sha2-${curve.ssh}`), sshString(curve.ssh), sshString(point)]);
    }
    const sshType = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString();
    return {
        algorithm,
        privateKeyPem,
        privateKeyPemPkcs8: keys.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
        publicKeyPem: keys.publicKey.export({ type: "spki", format: "pem" }) as string,
        publicKeyOpenssh: `${sshType} ${blob.toString("base64")}\n`,
        publicKeyFingerprintMd5: crypto.createHash("md5").update(blob).digest("hex").match(/../g)!.join(":"),
        publicKeyFingerprintSha256: `SHA256:${crypto.createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`,
    };
}

/** Subject fields of the provider (`subject` input), the ones the program may set. */
export interface CertSubject {
    readonly commonName?: string;
    readonly organization?: string;
    readonly organizationalUnit?: string;
    readonly country?: string;
    readonly province?: string;
    readonly locality?: string;
}

/** The provider's `allowedUses` names, as OpenSSL keyUsage / extendedKeyUsage values. */
const KEY_USAGE: Record<string, string> = {
    digital_signature: "digitalSignature", content_commitment: "nonRepudiation", key_encipherment: "keyEncipherment",
    data_encipherment: "dataEncipherment", key_agreement: "keyAgreement", cert_signing: "keyCertSign", crl_signing: "cRLSign",
    encipher_only: "encipherOnly", decipher_only: "decipherOnly",
};
const EXTENDED_KEY_USAGE: Record<string, string> = {
    any_extended: "anyExtendedKeyUsage", server_auth: "serverAuth", client_auth: "clientAuth", code_signing: "codeSigning",
    email_protection: "emailProtection", ipsec_end_system: "ipsecEndSystem", ipsec_tunnel: "ipsecTunnel", ipsec_user: "ipsecUser",
    timestamping: "timeStamping", ocsp_signing: "OCSPSigning", microsoft_server_gated_crypto: "msSGC", netscape_server_gated_crypto: "nsSGC",
};

/** Names and addresses a certificate or request is for. */
export interface CertNames {
    readonly subject?: CertSubject;
    readonly dnsNames?: readonly string[];
    readonly ipAddresses?: readonly string[];
    readonly uris?: readonly string[];
}

/** What a certificate may be used for and how long. */
export interface CertPolicy {
    readonly allowedUses: readonly string[];
    readonly validityPeriodHours: number;
    readonly isCaCertificate?: boolean;
}

/** A certificate as the provider reports it. */
export interface IssuedCert {
    readonly certPem: string;
    /** Decimal serial number (the provider's resource id). */
    readonly serial: string;
    readonly validityStartTime: string;
    readonly validityEndTime: string;
}

function configValue(label: string, value: string): string {
    if (/[\r\n\0]/.test(value) || value.trim() === "") throw new Error(`${label} ${JSON.stringify(value)} must be one non-empty line`);
    return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
}

function subjectSection(subject: CertSubject | undefined): string[] {
    const fields: [keyof CertSubject, string][] = [
        ["commonName", "CN"], ["organization", "O"], ["organizationalUnit", "OU"], ["country", "C"], ["province", "ST"], ["locality", "L"],
    ];
    const lines = fields.filter(([k]) => subject?.[k] !== undefined).map(([k, dn]) => `${dn} = "${configValue(`subject.${k}`, subject![k]!)}"`);
    // OpenSSL wants a non-empty subject; the provider allows an empty one.
    return lines.length > 0 ? lines : ['O = "dns-rr-ha lab"'];
}

function sanLine(names: CertNames): string[] {
    const sans = [
        ...(names.dnsNames ?? []).map((d) => `DNS:${configValue("dnsNames", d)}`),
        ...(names.ipAddresses ?? []).map((ip) => `IP:${configValue("ipAddresses", ip)}`),
        ...(names.uris ?? []).map((u) => `URI:${configValue("uris", u)}`),
    ];
    return sans.length > 0 ? [`subjectAltName = ${sans.join(", ")}`] : [];
}

function usageLines(policy: CertPolicy): string[] {
    for (const use of policy.allowedUses) {
        if (!(use in KEY_USAGE) && !(use in EXTENDED_KEY_USAGE)) throw new Error(`allowedUses: unknown use ${JSON.stringify(use)}`);
    }
    const ku = policy.allowedUses.filter((u) => u in KEY_USAGE).map((u) => KEY_USAGE[u]);
    const eku = policy.allowedUses.filter((u) => u in EXTENDED_KEY_USAGE).map((u) => EXTENDED_KEY_USAGE[u]);
    return [
        `basicConstraints = critical, CA:${policy.isCaCertificate ? "TRUE" : "FALSE"}`,
        ...(ku.length > 0 ? [`keyUsage = critical, ${ku.join(", ")}`] : []),
        ...(eku.length > 0 ? [`extendedKeyUsage = ${eku.join(", ")}`] : []),
        "subjectKeyIdentifier = hash",
    ];
}

/** Runs openssl with `files` written into a fresh temp dir; returns the dir's `out` file. */
function openssl(args: (dir: string) => string[], files: Record<string, string>): string {
    const dir = mkdtempSync(path.join(tmpdir(), "dns-rr-ha-tls-"));
    try {
        for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content, { mode: 0o600 });
        const r = spawnSync("openssl", args(dir), { encoding: "utf8" });
        if (r.error) throw new Error(`openssl could not run: ${r.error.message}`);
        if (r.status !== 0) throw new Error(`openssl ${args(dir)[0]} failed: ${r.stderr}`);
        return readFileSync(path.join(dir, "out"), "utf8");
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

function days(hours: number): number {
    if (!Number.isFinite(hours) || hours <= 0) throw new Error(`validityPeriodHours must be positive (got ${hours})`);
    return Math.max(1, Math.ceil(hours / 24));
}

/** Serial, validity (RFC 3339, as the provider) of a PEM certificate. */
function describeCert(certPem: string): IssuedCert {
    const x = new crypto.X509Certificate(certPem);
    const rfc3339 = (d: string) => new Date(d).toISOString().replace(/\.\d{3}Z$/, "Z");
    return { certPem, serial: BigInt(`0x${x.serialNumber}`).toString(), validityStartTime: rfc3339(x.validFrom), validityEndTime: rfc3339(x.validTo) };
}

function randomSerial(): string {
    return `0x${crypto.randomBytes(16).toString("hex").replace(/^./, (c) => (parseInt(c, 16) & 0x7).toString(16))}`;
}

/** tls.SelfSignedCert: the key signs its own certificate. */
export function selfSignedCert(privateKeyPem: string, names: CertNames, policy: CertPolicy): IssuedCert {
    const config = ["[req]", "distinguished_name = dn", "prompt = no", "[dn]", ...subjectSection(names.subject), "[ext]", ...usageLines(policy), ...sanLine(names), ""].join("\n");
    return describeCert(openssl((d) => [
        "req", "-x509", "-new", "-config", `${d}/req.cnf`, "-extensions", "ext", "-key", `${d}/key.pem`,
        "-days", String(days(policy.validityPeriodHours)), "-set_serial", randomSerial(), "-out", `${d}/out`,
    ], { "req.cnf": config, "key.pem": privateKeyPem }));
}

/** tls.CertRequest: a PKCS#10 request carrying the subject and SANs. */
export function certRequest(privateKeyPem: string, names: CertNames): string {
    const san = sanLine(names);
    const config = ["[req]", "distinguished_name = dn", "prompt = no", ...(san.length > 0 ? ["req_extensions = ext"] : []), "[dn]", ...subjectSection(names.subject), "[ext]", ...san, ""].join("\n");
    return openssl((d) => ["req", "-new", "-config", `${d}/req.cnf`, "-key", `${d}/key.pem`, "-out", `${d}/out`], { "req.cnf": config, "key.pem": privateKeyPem });
}

/** tls.LocallySignedCert: the CA signs the request; subject and SANs come from the request, uses from the policy. */
export function locallySignedCert(certRequestPem: string, ca: { certPem: string; privateKeyPem: string }, policy: CertPolicy): IssuedCert {
    const ext = ["[ext]", ...usageLines(policy), "authorityKeyIdentifier = keyid", ""].join("\n");
    return describeCert(openssl((d) => [
        "x509", "-req", "-in", `${d}/req.pem`, "-CA", `${d}/ca.pem`, "-CAkey", `${d}/ca-key.pem`, "-copy_extensions", "copy",
        "-extfile", `${d}/ext.cnf`, "-extensions", "ext", "-days", String(days(policy.validityPeriodHours)), "-set_serial", randomSerial(), "-out", `${d}/out`,
    ], { "req.pem": certRequestPem, "ca.pem": ca.certPem, "ca-key.pem": ca.privateKeyPem, "ext.cnf": ext }));
}

/**
 * The database tier's private CA: one CA (key + self-signed cert) per cluster and, per node,
 * a key and a server certificate signed by it whose SANs are the node's private IPv4 (the
 * address peers and app servers connect to, so MASTER_SSL_VERIFY_SERVER_CERT and PDO's
 * server verification pass) and its DNS name when it has one. Keys are Pulumi secrets and
 * reach the droplets only over the SSH wiring (see {@link dbTlsFiles}).
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import type { DbScriptFile } from "./dbScripts";

/** Where a database node keeps its TLS files (read by MariaDB: my.cnf ssl_* and MASTER_SSL_CA). */
export const DB_TLS_PATHS = {
    /** The cluster CA's certificate: verifies the peers' server certificates. */
    ca: "/etc/mysql/dns-rr-ha-tls/ca.pem",
    /** This node's server certificate. */
    cert: "/etc/mysql/dns-rr-ha-tls/server-cert.pem",
    /** Its private key (secret; 0640 mysql:mysql). */
    key: "/etc/mysql/dns-rr-ha-tls/server-key.pem",
} as const;

/** Validity of the CA (10 years) and of the node certificates (2 years, renewed in their last 30 days). */
export const DB_TLS_VALIDITY_HOURS = { ca: 10 * 365 * 24, node: 2 * 365 * 24, nodeEarlyRenewal: 30 * 24 } as const;

/** Key type of the CA and node keys: ECDSA P-256 (accepted by MariaDB's OpenSSL and PHP's mysqlnd). */
const KEY_ARGS: tls.PrivateKeyArgs = { algorithm: "ECDSA", ecdsaCurve: "P256" };

/** A node to issue a server certificate for. */
export interface DbTlsNode {
    /** Resource name of the node (e.g. the droplet's); its TLS resources are `${name}-tls-...`. */
    readonly name: string;
    /** Private IPv4 the node is reached at: the certificate's IP SAN and common name. */
    readonly privateIpv4: pulumi.Input<string>;
    /** DNS names the node is also reached by, if any (DNS SANs). */
    readonly dnsNames?: readonly string[];
}

/** A node's certificate and key (PEM). */
export interface DbNodeTls {
    readonly certPem: pulumi.Output<string>;
    /** Secret. */
    readonly privateKeyPem: pulumi.Output<string>;
}

/** What {@link createDbTls} declares. */
export interface DbTls {
    /** The CA certificate (public): what clients verify the nodes with. */
    readonly caCertPem: pulumi.Output<string>;
    /** One per node, in the order given. */
    readonly nodes: DbNodeTls[];
}

/** Declares the cluster's CA and one server certificate per node, as children of `parent`. */
export function createDbTls(parent: pulumi.Resource, name: string, nodes: readonly DbTlsNode[]): DbTls {
    const opts = { parent };
    const caKey = new tls.PrivateKey(`${name}-tls-ca-key`, KEY_ARGS, opts);
    const caCert = new tls.SelfSignedCert(`${name}-tls-ca`, {
        privateKeyPem: caKey.privateKeyPem,
        subject: { commonName: `${name} database CA`, organization: "dns-rr-ha" },
        isCaCertificate: true,
        validityPeriodHours: DB_TLS_VALIDITY_HOURS.ca,
        allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
    }, opts);
    return {
        caCertPem: caCert.certPem,
        nodes: nodes.map((node) => {
            const key = new tls.PrivateKey(`${node.name}-tls-key`, KEY_ARGS, opts);
            const request = new tls.CertRequest(`${node.name}-tls-csr`, {
                privateKeyPem: key.privateKeyPem,
                subject: { commonName: node.privateIpv4, organization: "dns-rr-ha" },
                ipAddresses: [node.privateIpv4],
                ...(node.dnsNames && node.dnsNames.length > 0 ? { dnsNames: [...node.dnsNames] } : {}),
            }, opts);
            const cert = new tls.LocallySignedCert(`${node.name}-tls-cert`, {
                certRequestPem: request.certRequestPem,
                caPrivateKeyPem: caKey.privateKeyPem,
                caCertPem: caCert.certPem,
                validityPeriodHours: DB_TLS_VALIDITY_HOURS.node,
                earlyRenewalHours: DB_TLS_VALIDITY_HOURS.nodeEarlyRenewal,
                // client_auth too: the node presents it nowhere today, but a peer may ask later (REQUIRE X509).
                allowedUses: ["digital_signature", "key_encipherment", "server_auth", "client_auth"],
            }, opts);
            return { certPem: cert.certPem, privateKeyPem: pulumi.secret(key.privateKeyPem) };
        }),
    };
}

/** PEM contents of one node's TLS files. */
export interface DbTlsPems {
    readonly caCertPem: string;
    readonly certPem: string;
    readonly privateKeyPem: string;
}

function pemFile(label: string, pem: string): string {
    if (!/^-----BEGIN [A-Z0-9 ]+-----\n[\s\S]+\n-----END [A-Z0-9 ]+-----\n?$/.test(pem.trim() + "\n")) {
        throw new Error(`database TLS ${label} is not a PEM block`);
    }
    return `${pem.trim()}\n`;
}

/** A node's TLS files for the wiring: certificates 0644 root-owned, the key 0640 mysql:mysql (MariaDB reads it). */
export function dbTlsFiles(p: DbTlsPems): (DbScriptFile & { owner: string })[] {
    return [
        { path: DB_TLS_PATHS.ca, content: pemFile("CA certificate", p.caCertPem), mode: "0644", owner: "root:root" },
        { path: DB_TLS_PATHS.cert, content: pemFile("certificate", p.certPem), mode: "0644", owner: "root:root" },
        { path: DB_TLS_PATHS.key, content: pemFile("private key", p.privateKeyPem), mode: "0640", owner: "mysql:mysql" },
    ];
}

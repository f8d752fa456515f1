/**
 * Throwaway TLS for the clients' unit tests: a CA and a server certificate it signs (openssl,
 * through the model's tlsCerts), and a local TLS terminator in front of a plain HTTP server, as
 * HAProxy terminates TLS in front of the app servers. 127.0.0.1 only.
 */
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import * as tls from "tls";
import { generatePemKeyPair, certRequest, locallySignedCert, selfSignedCert } from "../cloud/tlsCerts";

/** A CA whose root is in `caFile`, and a server key and certificate for `serverName` it signed. */
export interface TestCa {
    readonly caFile: string;
    readonly server: { readonly key: string; readonly cert: string };
}

/** Makes a fresh CA (its root written to `dir/name.pem`) and a certificate for `serverName` alone. */
export function throwawayCa(dir: string, name: string, serverName: string): TestCa {
    const caKey = generatePemKeyPair("ECDSA", { ecdsaCurve: "P256" });
    const ca = selfSignedCert(caKey.privateKeyPem, { subject: { commonName: `${name} test CA` } }, { allowedUses: ["cert_signing", "crl_signing"], validityPeriodHours: 24, isCaCertificate: true });
    const key = generatePemKeyPair("ECDSA", { ecdsaCurve: "P256" });
    const csr = certRequest(key.privateKeyPem, { subject: { commonName: serverName }, dnsNames: [serverName] });
    const leaf = locallySignedCert(csr, { certPem: ca.certPem, privateKeyPem: caKey.privateKeyPem }, { allowedUses: ["digital_signature", "server_auth"], validityPeriodHours: 24 });
    const caFile = path.join(dir, `${name}.pem`);
    fs.writeFileSync(caFile, ca.certPem);
    return { caFile, server: { key: key.privateKeyPem, cert: leaf.certPem } };
}

/** A running terminator: its port, what it saw, and a way to close it. */
export interface TlsTerminator {
    readonly port: number;
    /** The SNI name of every completed handshake, in order ("" for none). */
    readonly handshakes: string[];
    close(): Promise<void>;
}

/** Terminates TLS on 127.0.0.1 (a free port) and relays the plain bytes to 127.0.0.1:`upstreamPort`. */
export async function startTlsTerminator(upstreamPort: number, server: TestCa["server"]): Promise<TlsTerminator> {
    const handshakes: string[] = [];
    const sockets = new Set<net.Socket>();
    const track = (s: net.Socket) => { sockets.add(s); s.on("close", () => sockets.delete(s)); s.on("error", () => s.destroy()); };
    const srv = tls.createServer({ key: server.key, cert: server.cert }, (front) => {
        handshakes.push(typeof front.servername === "string" ? front.servername : "");
        const back = net.connect(upstreamPort, "127.0.0.1");
        track(front);
        track(back);
        front.pipe(back).pipe(front);
        front.on("close", () => back.destroy());
        back.on("close", () => front.destroy());
    });
    srv.on("tlsClientError", () => undefined);
    await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
    return {
        port: (srv.address() as net.AddressInfo).port,
        handshakes,
        close: () => new Promise((resolve) => {
            srv.close(() => resolve());
            for (const s of sockets) s.destroy();
        }),
    };
}

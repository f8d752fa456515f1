import * as crypto from "crypto";

/** An SSH key pair in OpenSSH formats, as @pulumi/tls reports it. */
export interface OpenSshKeyPair {
    readonly publicKeyOpenssh: string;
    readonly privateKeyOpenssh: string;
    readonly fingerprintMd5: string;
}

function sshString(data: Buffer | string): Buffer {
    const body = typeof data === "string" ? Buffer.from(data) : data;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    return Buffer.concat([len, body]);
}

/**
 * A fresh Ed25519 key pair encoded the way OpenSSH writes it ("openssh-key-v1", unencrypted),
 * so the lab's ssh client accepts the private key the program hands to its wiring commands.
 */
export function generateEd25519KeyPair(comment = "dns-rr-ha"): OpenSshKeyPair {
    const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
    const pub = publicKey.export({ format: "jwk" }).x!;
    const priv = privateKey.export({ format: "jwk" }).d!;
    const pubRaw = Buffer.from(pub, "base64url");
    const privRaw = Buffer.from(priv, "base64url");
    const pubBlob = Buffer.concat([sshString("ssh-ed25519"), sshString(pubRaw)]);
    const check = crypto.randomBytes(4);
    let section = Buffer.concat([
        check, check,
        sshString("ssh-ed25519"), sshString(pubRaw), sshString(Buffer.concat([privRaw, pubRaw])), sshString(comment),
    ]);
    const pad = (8 - (section.length % 8)) % 8;
    section = Buffer.concat([section, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
    const count = Buffer.alloc(4);
    count.writeUInt32BE(1);
    const blob = Buffer.concat([
        Buffer.from("openssh-key-v1\0"), sshString("none"), sshString("none"), sshString(""), count, sshString(pubBlob), sshString(section),
    ]);
    const b64 = blob.toString("base64").match(/.{1,70}/g)!.join("\n");
    const fingerprintMd5 = crypto.createHash("md5").update(pubBlob).digest("hex").match(/../g)!.join(":");
    return {
        publicKeyOpenssh: `ssh-ed25519 ${pubBlob.toString("base64")} ${comment}\n`,
        privateKeyOpenssh: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`,
        fingerprintMd5,
    };
}

/** The MD5 fingerprint DigitalOcean shows for a public key line. */
export function md5Fingerprint(publicKeyLine: string): string {
    const blob = Buffer.from(publicKeyLine.trim().split(/\s+/)[1] ?? "", "base64");
    return crypto.createHash("md5").update(blob).digest("hex").match(/../g)!.join(":");
}

/**
 * ACME DNS-01 client for the lab (npm `acme-client`): registers an account,
 * orders a certificate for the given names, publishes each challenge's TXT
 * record through a callback, waits for the CA to validate it and downloads
 * the chain. The lab's callback writes the records into its DNS store
 * ({@link labDnsChallenge}); the CA (pebble) reads them from the lab's BIND.
 */
import { X509Certificate } from "node:crypto";
import https from "node:https";
import * as acme from "acme-client";
import { updateZoneRecords } from "../dns/dnsServer";

/** Publishes and withdraws `_acme-challenge` TXT records. */
export interface DnsChallengeHooks {
  /** Publishes TXT `value` at `fqdn`; resolves once the authoritative DNS serves it. */
  create(fqdn: string, value: string): Promise<void>;
  /** Withdraws that record again. */
  remove(fqdn: string, value: string): Promise<void>;
}

/** Options of {@link obtainCertificate}. */
export interface ObtainCertificateOptions {
  directoryUrl: string;
  /** PEM to trust for the ACME server's own HTTPS (pebble's self-signed directory certificate); default: the system's CAs. */
  directoryCaPem?: string;
  /** DNS names of the certificate; the first is its common name. */
  names: readonly string[];
  /** Account key (PEM); a new RSA 2048 key when absent. */
  accountKeyPem?: string;
  email?: string;
  /** Certificate key type (default "rsa2048", the @pulumiverse/acme provider's default; "p256" = ECDSA P-256). */
  keyType?: "rsa2048" | "p256";
  dns: DnsChallengeHooks;
}

/** What {@link obtainCertificate} returns: the provider's output names where they exist. */
export interface ObtainedCertificate {
  /** Leaf certificate (PEM). */
  certificatePem: string;
  /** The rest of the chain the CA sent (intermediates, PEM). */
  issuerPem: string;
  /** Private key of the certificate (PEM, secret). */
  privateKeyPem: string;
  /** Account key used (PEM, secret). */
  accountKeyPem: string;
  /** ISO 8601 validity bounds. */
  certificateNotBefore: string;
  certificateNotAfter: string;
  /** Serial number, hex. */
  certificateSerial: string;
  /** DNS names in the certificate's subjectAltName. */
  names: string[];
}

/** Serializes the use of acme-client's shared axios instance (its TLS agent is per-call state here). */
let queue: Promise<unknown> = Promise.resolve();

/** Orders and downloads a certificate through DNS-01. Rejects with the CA's problem detail on failure. */
export function obtainCertificate(opts: ObtainCertificateOptions): Promise<ObtainedCertificate> {
  const next = queue.catch(() => undefined).then(() => obtain(opts));
  queue = next;
  return next;
}

async function obtain(opts: ObtainCertificateOptions): Promise<ObtainedCertificate> {
  if (opts.names.length === 0) throw new Error("obtainCertificate: names must not be empty");
  const [commonName, ...altNames] = opts.names as [string, ...string[]];
  const accountKeyPem = opts.accountKeyPem ?? (await acme.crypto.createPrivateRsaKey(2048)).toString();
  const certKey = opts.keyType === "p256" ? await acme.crypto.createPrivateEcdsaKey("P-256") : await acme.crypto.createPrivateRsaKey(2048);
  const [, csr] = await acme.crypto.createCsr({ commonName, altNames: [commonName, ...altNames] }, certKey);

  const axiosDefaults = acme.axios.defaults as { httpsAgent?: unknown };
  const previousAgent = axiosDefaults.httpsAgent;
  if (opts.directoryCaPem) axiosDefaults.httpsAgent = new https.Agent({ ca: opts.directoryCaPem, keepAlive: false });
  try {
    const client = new acme.Client({ directoryUrl: opts.directoryUrl, accountKey: accountKeyPem });
    const txt = (authz: { identifier: { value: string } }) => `_acme-challenge.${authz.identifier.value.replace(/^\*\./, "")}`;
    const chain = await client.auto({
      csr,
      email: opts.email,
      termsOfServiceAgreed: true,
      challengePriority: ["dns-01"],
      // The hooks resolve only once the authoritative server answers with the record,
      // and the lab's machine has no resolver that could see it: let the CA check.
      skipChallengeVerification: true,
      challengeCreateFn: async (authz, challenge, keyAuthorization) => {
        if (challenge.type !== "dns-01") throw new Error(`unexpected challenge ${challenge.type}`);
        await opts.dns.create(txt(authz), keyAuthorization);
      },
      challengeRemoveFn: async (authz, challenge, keyAuthorization) => {
        if (challenge.type === "dns-01") await opts.dns.remove(txt(authz), keyAuthorization);
      },
    });
    const [leaf, ...issuers] = acme.crypto.splitPemChain(chain);
    if (!leaf) throw new Error("the CA returned an empty certificate chain");
    const x509 = new X509Certificate(leaf);
    return {
      certificatePem: ensureNewline(leaf),
      issuerPem: issuers.map(ensureNewline).join(""),
      privateKeyPem: certKey.toString(),
      accountKeyPem,
      certificateNotBefore: new Date(x509.validFrom).toISOString(),
      certificateNotAfter: new Date(x509.validTo).toISOString(),
      certificateSerial: x509.serialNumber.toLowerCase(),
      names: (x509.subjectAltName ?? "").split(", ").filter((s) => s.startsWith("DNS:")).map((s) => s.slice(4)),
    };
  } finally {
    axiosDefaults.httpsAgent = previousAgent;
  }
}

function ensureNewline(pem: string): string {
  return pem.endsWith("\n") ? pem : `${pem}\n`;
}

/** TTL of challenge records: short, they live for seconds. */
const CHALLENGE_TTL = 30;

/**
 * {@link DnsChallengeHooks} writing into the lab's DNS store (stateDir of
 * lab/dns startDns) for `zone`: each call resolves once BIND serves the change.
 */
export function labDnsChallenge(dnsStateDir: string, zone: string): DnsChallengeHooks {
  const apex = zone.replace(/\.$/, "").toLowerCase();
  const relative = (fqdn: string): string => {
    const name = fqdn.replace(/\.$/, "").toLowerCase();
    if (!name.endsWith(`.${apex}`)) throw new Error(`${fqdn} is not inside the lab zone ${apex}`);
    return name.slice(0, -apex.length - 1);
  };
  const change = async (fqdn: string, value: string, add: boolean): Promise<void> => {
    const name = relative(fqdn);
    const done = await updateZoneRecords(dnsStateDir, apex, (current) => {
      const others = current.filter((r) => !(r.type === "TXT" && r.name === name && r.value === value));
      return { records: add ? [...others, { type: "TXT", name, value, ttl: CHALLENGE_TTL }] : others, result: undefined };
    });
    if (!done) throw new Error(`zone ${apex} is not served from ${dnsStateDir}`);
  };
  return {
    create: (fqdn, value) => change(fqdn, value, true),
    remove: (fqdn, value) => change(fqdn, value, false),
  };
}

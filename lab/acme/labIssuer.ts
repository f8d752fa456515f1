/**
 * The lab's issuer for the program's `acme.Certificate`: the real DNS-01 flow against the lab's
 * pebble, the challenge TXT records written into the lab DNS store that BIND serves, as lego
 * would write them through the DigitalOcean API with the stack's DNS token.
 */
import type { AcmeIssuer } from "../cloud/acmeModel";
import type { Pebble } from "./pebble";
import { obtainCertificateInNetns } from "./obtainInNetns";

export interface LabIssuerOptions {
  pebble: Pebble;
  /** Netns the ACME client runs in: where pebble listens (the lab's admin host). */
  netns: string;
  dnsStateDir: string;
  /** The zone the site name lives in (the stack's domain). */
  zone: string;
  /** The token the lab's DigitalOcean API accepts: the challenge must carry it, as lego needs it. */
  dnsToken: string;
}

export function labAcmeIssuer(opts: LabIssuerOptions): AcmeIssuer {
  return async (request) => {
    const challenge = request.dnsChallenges.find((c) => c.provider === "digitalocean");
    if (!challenge) throw new Error(`acme Certificate ${request.name}: no "digitalocean" DNS challenge (got ${request.dnsChallenges.map((c) => c.provider).join(", ")})`);
    if (challenge.config?.DO_AUTH_TOKEN !== opts.dnsToken) {
      throw new Error(`acme Certificate ${request.name}: the digitalocean challenge's DO_AUTH_TOKEN is not the stack's dnsToken: lego could not write the TXT record`);
    }
    const keyType = request.keyType === "P256" ? "p256" : request.keyType === "2048" ? "rsa2048" : undefined;
    if (!keyType) throw new Error(`acme Certificate ${request.name}: the lab issues keyType P256 or 2048, not ${request.keyType}`);
    const cert = await obtainCertificateInNetns({
      netns: opts.netns,
      dnsStateDir: opts.dnsStateDir,
      zone: opts.zone,
      directoryUrl: opts.pebble.directoryUrl,
      directoryCaPem: opts.pebble.directoryCaPem,
      names: request.names,
      accountKeyPem: request.accountKeyPem,
      keyType,
    });
    return { certificatePem: cert.certificatePem, issuerPem: cert.issuerPem, privateKeyPem: cert.privateKeyPem };
  };
}

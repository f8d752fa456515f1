import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readZoneRecords, startDns, stopDnsFromState } from "../dns/dnsServer";
import { run, runInNetns } from "../net/exec";
import { netnsExists } from "../net/processes";
import { leftovers, testPrefix } from "../net/testSupport";
import type { ObtainedCertificate } from "./acmeClient";
import { obtainCertificateInNetns } from "./obtainInNetns";
import { fetchPebbleRoots, openPebble, renderPebbleConfig, startPebble, stopPebbleFromState, type Pebble, type PebbleRoots } from "./pebble";

const ZONE = "dns-rr-ha.test";
const SITE = `www.${ZONE}`;
/** BIND and pebble share the test's own netns, on its loopback. */
const DNS_IP = "127.0.0.53";

test("renderPebbleConfig: directory and management on the given address, the directory's TLS files", () => {
  const cfg = JSON.parse(renderPebbleConfig({ listenAddress: "127.0.0.1", port: 14000, managementPort: 15000, certFile: "/s/c.pem", keyFile: "/s/k.pem" }));
  assert.deepEqual(cfg.pebble, {
    listenAddress: "127.0.0.1:14000",
    managementListenAddress: "127.0.0.1:15000",
    certificate: "/s/c.pem",
    privateKey: "/s/k.pem",
    httpPort: 80,
    tlsPort: 443,
    ocspResponderURL: "",
    externalAccountBindingRequired: false,
  });
});

describe("DNS-01 against pebble, challenges answered by the lab's BIND", { timeout: 180_000 }, () => {
  const prefix = testPrefix();
  const ns = `${prefix}-acme`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "lab-acme-test-"));
  const dnsDir = path.join(work, "dns");
  const pebbleDir = path.join(work, "pebble");
  const pids: number[] = [];
  let pebble: Pebble;
  let roots: PebbleRoots;
  let cert: ObtainedCertificate;

  before(async () => {
    await run("ip", ["netns", "add", ns]);
    await run("ip", ["-n", ns, "link", "set", "lo", "up"]);
    // named listens on interface addresses only: give lo the DNS address as its own.
    await run("ip", ["-n", ns, "addr", "add", `${DNS_IP}/32`, "dev", "lo"]);
    const dns = await startDns({ netns: ns, listenAddress: DNS_IP, stateDir: dnsDir, zones: [{ name: ZONE, records: [{ type: "A", name: "www", value: "203.0.113.10", ttl: 30 }] }] });
    pids.push(dns.pid);
    pebble = await startPebble({ netns: ns, listenAddress: "127.0.0.1", dnsServer: `${DNS_IP}:53`, stateDir: pebbleDir });
    pids.push(pebble.pid);
    roots = await fetchPebbleRoots(pebble);
    cert = await obtainCertificateInNetns({
      netns: ns,
      directoryUrl: pebble.directoryUrl,
      directoryCaPem: pebble.directoryCaPem,
      names: [SITE],
      email: "ops@dns-rr-ha.test",
      dnsStateDir: dnsDir,
      zone: ZONE,
    });
  });

  after(async () => {
    await stopPebbleFromState(pebbleDir);
    await stopDnsFromState(dnsDir);
    if (netnsExists(ns)) await run("ip", ["netns", "del", ns]);
    fs.rmSync(work, { recursive: true, force: true });
    assert.deepEqual(await leftovers(prefix, pids), []);
  });

  const write = (name: string, text: string): string => {
    const file = path.join(work, name);
    fs.writeFileSync(file, text);
    return file;
  };

  test("the certificate is for the site name and chains to pebble's root through its intermediate", async () => {
    assert.deepEqual(cert.names, [SITE]);
    const leaf = write("leaf.pem", cert.certificatePem);
    const trust = write("pebble-ca.pem", roots.rootPem + roots.intermediatePem);
    const r = await run("openssl", ["verify", "-CAfile", trust, "-purpose", "sslserver", "-verify_hostname", SITE, leaf], { allowFail: true });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /leaf\.pem: OK/);
    // The chain the CA sent is that intermediate: the root alone plus issuerPem verifies too.
    const withChain = await run("openssl", ["verify", "-CAfile", write("root.pem", roots.rootPem), "-untrusted", write("issuer.pem", cert.issuerPem), leaf], { allowFail: true });
    assert.equal(withChain.code, 0, withChain.stdout + withChain.stderr);
  });

  test("it does not verify against another CA (the directory's own TLS certificate)", async () => {
    const r = await run("openssl", ["verify", "-CAfile", write("other.pem", pebble.directoryCaPem), write("leaf2.pem", cert.certificatePem)], { allowFail: true });
    assert.notEqual(r.code, 0);
  });

  test("the private key matches the certificate; validity and serial are reported", async () => {
    const pub = async (args: string[], input: string) => (await run("openssl", args, { input })).stdout;
    assert.equal(await pub(["pkey", "-pubout"], cert.privateKeyPem), await pub(["x509", "-noout", "-pubkey"], cert.certificatePem));
    const notAfter = Date.parse(cert.certificateNotAfter);
    assert.ok(notAfter > Date.now() + 24 * 3600_000, `notAfter ${cert.certificateNotAfter}`);
    assert.ok(Date.parse(cert.certificateNotBefore) <= Date.now() + 60_000);
    assert.match(cert.certificateSerial, /^[0-9a-f]+$/);
  });

  test("the challenge TXT record is gone from the zone afterwards; the zone's own records stay", async () => {
    const records = readZoneRecords(dnsDir, ZONE) ?? [];
    assert.deepEqual(records.filter((r) => r.type === "TXT"), []);
    assert.deepEqual(records.map((r) => `${r.type} ${r.name} ${r.value}`), ["A www 203.0.113.10"]);
    const dig = await runInNetns(ns, "dig", ["+short", "+time=1", "+tries=1", `@${DNS_IP}`, `_acme-challenge.${SITE}`, "TXT"]);
    assert.equal(dig.stdout.trim(), "");
  });

  test("a name outside the lab's zone fails, naming the zone", async () => {
    await assert.rejects(
      obtainCertificateInNetns({ netns: ns, directoryUrl: pebble.directoryUrl, directoryCaPem: pebble.directoryCaPem, names: ["www.elsewhere.test"], dnsStateDir: dnsDir, zone: ZONE }),
      /not inside the lab zone dns-rr-ha\.test/,
    );
  });

  test("pebble validated the challenge through the lab's DNS, with no random sleeps", () => {
    const log = fs.readFileSync(path.join(pebbleDir, "pebble.log"), "utf8");
    assert.match(log, /Using custom DNS resolver for ACME challenges: 127\.0\.0\.53:53/);
    assert.match(log, /Disabling random VA sleeps/);
    assert.match(log, /Configured to reject 0% of good nonces/);
    assert.match(log, /attempt authz reuse for each identifier 0% of the time/);
    assert.match(log, /set VALID by completed challenge/);
  });

  test("openPebble finds the running server from its state dir", () => {
    const again = openPebble(pebbleDir);
    assert.equal(again.pid, pebble.pid);
    assert.equal(again.directoryUrl, "https://127.0.0.1:14000/dir");
  });
});

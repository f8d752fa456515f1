/**
 * Runs {@link obtainCertificate} inside a network namespace: the lab's CA and
 * DNS live in namespaces this process cannot reach, so a child process is
 * started there (`ip netns exec <ns> node ... obtainInNetns.ts`) with the
 * request on stdin; it answers DNS-01 through the lab's DNS store
 * ({@link labDnsChallenge}) and prints the certificate as JSON.
 */
import { spawn } from "node:child_process";
import { labDnsChallenge, obtainCertificate, type ObtainCertificateOptions, type ObtainedCertificate } from "./acmeClient";

/** A request for {@link obtainCertificateInNetns}: the client options, DNS through the lab's store. */
export interface NetnsCertificateRequest extends Omit<ObtainCertificateOptions, "dns"> {
  /** Namespace the ACME server is reachable from. */
  netns: string;
  /** stateDir of the lab's DNS (lab/dns startDns) and the zone holding the names. */
  dnsStateDir: string;
  zone: string;
}

/** Obtains a certificate from inside `req.netns`; rejects with the child's error output on failure. */
export function obtainCertificateInNetns(req: NetnsCertificateRequest, timeoutMs = 120_000): Promise<ObtainedCertificate> {
  return new Promise((resolve, reject) => {
    const child = spawn("ip", ["netns", "exec", req.netns, process.execPath, "--import", require.resolve("tsx"), __filename], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        try {
          resolve(JSON.parse(out) as ObtainedCertificate);
          return;
        } catch (e) {
          err += `\nbad output: ${String(e)}`;
        }
      }
      reject(new Error(`ACME client in ${req.netns} failed (exit ${code ?? signal}):\n${err.trim()}`));
    });
    child.stdin.end(JSON.stringify(req));
  });
}

async function childMain(): Promise<void> {
  let input = "";
  for await (const chunk of process.stdin) input += String(chunk);
  const req = JSON.parse(input) as NetnsCertificateRequest;
  const { netns: _netns, dnsStateDir, zone, ...options } = req;
  const cert = await obtainCertificate({ ...options, dns: labDnsChallenge(dnsStateDir, zone) });
  process.stdout.write(JSON.stringify(cert));
}

if (require.main === module) {
  childMain().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}

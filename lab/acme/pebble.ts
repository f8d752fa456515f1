/**
 * The lab's ACME CA: Debian's `pebble` (Let's Encrypt's test server), started
 * detached in a network namespace (or on this machine's loopback), with a
 * generated config, its own TLS certificate for the ACME directory, and
 * `-dnsserver` pointing at the lab's DNS so DNS-01 challenges are checked
 * against the records the lab really serves.
 *
 * Pebble forgets everything when it stops and makes a fresh root CA on every
 * start: fetch the root with {@link fetchPebbleRoots} after each start.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { run, runInNetns, type RunResult } from "../net/exec";
import { pidAlive, readPidFile, sleep, stopPid } from "../net/processes";

/** Options of {@link startPebble}. */
export interface StartPebbleOptions {
  /** Netns to run pebble in; undefined = this machine's own network (then use a loopback address). */
  netns?: string;
  /** IPv4 the ACME directory and the management interface listen on (e.g. 127.0.0.1). */
  listenAddress: string;
  /** ACME directory port (default 14000). */
  port?: number;
  /** Management port: roots, intermediates (default 15000). */
  managementPort?: number;
  /** DNS server pebble's validation authority asks for challenge records, "ip:port" (the lab's BIND). */
  dnsServer: string;
  /** Directory for config, TLS files, log and PID (created). */
  stateDir: string;
}

/** A running pebble. */
export interface Pebble {
  netns: string | undefined;
  pid: number;
  /** ACME directory URL, e.g. https://127.0.0.1:14000/dir. */
  directoryUrl: string;
  /** Base URL of the management interface (GET /roots/0, /intermediates/0). */
  managementUrl: string;
  /** PEM of the self-signed certificate pebble serves the directory with: what ACME clients must trust. */
  directoryCaPem: string;
  stateDir: string;
  stop(): Promise<void>;
}

/** Pebble's JSON config; pure. HTTP-01/TLS-ALPN-01 ports are unused by the lab (DNS-01 only). */
export function renderPebbleConfig(opts: { listenAddress: string; port: number; managementPort: number; certFile: string; keyFile: string }): string {
  const config = {
    pebble: {
      listenAddress: `${opts.listenAddress}:${opts.port}`,
      managementListenAddress: `${opts.listenAddress}:${opts.managementPort}`,
      certificate: opts.certFile,
      privateKey: opts.keyFile,
      httpPort: 80,
      tlsPort: 443,
      ocspResponderURL: "",
      externalAccountBindingRequired: false,
    },
  };
  return JSON.stringify(config, null, 2) + "\n";
}

/**
 * Environment of the pebble process: no random sleeps before validation
 * (PEBBLE_VA_NOSLEEP), no deliberately rejected nonces
 * (PEBBLE_WFE_NONCEREJECT=0), and no reuse of valid authorizations
 * (PEBBLE_AUTHZREUSE=0: every order, renewals too, really goes through
 * DNS-01), so lab runs are fast and deterministic.
 */
export const PEBBLE_ENV = { PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", PEBBLE_AUTHZREUSE: "0" } as const;

const files = (dir: string) => ({
  config: path.join(dir, "pebble-config.json"),
  cert: path.join(dir, "directory-cert.pem"),
  key: path.join(dir, "directory-key.pem"),
  log: path.join(dir, "pebble.log"),
  pid: path.join(dir, "pebble.pid"),
  state: path.join(dir, "pebble.json"),
});

function runHere(netns: string | undefined, cmd: string, args: readonly string[], allowFail = false): Promise<RunResult> {
  return netns ? runInNetns(netns, cmd, args, { allowFail }) : run(cmd, args, { allowFail });
}

/** GET over HTTPS from where pebble listens, trusting only `caFile`; resolves the body, rejects on any failure. */
async function httpsGet(netns: string | undefined, url: string, caFile: string): Promise<string> {
  const r = await runHere(netns, "curl", ["-sS", "--fail", "--max-time", "5", "--cacert", caFile, url], true);
  if (r.code !== 0) throw new Error(`GET ${url}: curl exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

function logTail(stateDir: string): string {
  try {
    return fs.readFileSync(files(stateDir).log, "utf8").split("\n").slice(-20).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Starts pebble (detached, PID in stateDir) and resolves once its directory answers over TLS. */
export async function startPebble(opts: StartPebbleOptions): Promise<Pebble> {
  const stateDir = path.resolve(opts.stateDir);
  const f = files(stateDir);
  const port = opts.port ?? 14000;
  const managementPort = opts.managementPort ?? 15000;
  if (!/^\d+\.\d+\.\d+\.\d+:\d+$/.test(opts.dnsServer)) throw new Error(`startPebble: dnsServer must be "ipv4:port", got ${JSON.stringify(opts.dnsServer)}`);
  fs.mkdirSync(stateDir, { recursive: true });
  await stopPebbleFromState(stateDir);

  // The directory's own TLS certificate (self-signed, valid for the listen address).
  await run("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
    "-keyout", f.key, "-out", f.cert, "-subj", "/CN=lab pebble directory",
    "-addext", `subjectAltName=IP:${opts.listenAddress},DNS:localhost`,
  ]);
  fs.writeFileSync(f.config, renderPebbleConfig({ listenAddress: opts.listenAddress, port, managementPort, certFile: f.cert, keyFile: f.key }));
  fs.writeFileSync(f.log, "");

  // `ip netns exec` and `env` both exec, so the recorded PID is pebble itself.
  const argv = ["env", ...Object.entries(PEBBLE_ENV).map(([k, v]) => `${k}=${v}`), "pebble", "-config", f.config, "-dnsserver", opts.dnsServer];
  const out = fs.openSync(f.log, "a");
  let pid: number;
  try {
    const child = opts.netns
      ? spawn("ip", ["netns", "exec", opts.netns, ...argv], { detached: true, stdio: ["ignore", out, out], cwd: stateDir })
      : spawn(argv[0] as string, argv.slice(1), { detached: true, stdio: ["ignore", out, out], cwd: stateDir });
    if (child.pid === undefined) throw new Error("could not start pebble");
    child.unref();
    pid = child.pid;
  } finally {
    fs.closeSync(out);
  }
  fs.writeFileSync(f.pid, `${pid}\n`);

  const directoryUrl = `https://${opts.listenAddress}:${port}/dir`;
  const managementUrl = `https://${opts.listenAddress}:${managementPort}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ready = await httpsGet(opts.netns, directoryUrl, f.cert).then((body) => body.includes("newAccount"), () => false);
    if (ready) break;
    if (!pidAlive(pid) || Date.now() > deadline) {
      await stopPid(pid, { expectInCmdline: "pebble" });
      throw new Error(`pebble did not come up at ${directoryUrl}; log:\n${logTail(stateDir)}`);
    }
    await sleep(100);
  }
  fs.writeFileSync(f.state, JSON.stringify({ netns: opts.netns ?? null, directoryUrl, managementUrl }) + "\n");
  return handle(stateDir, pid, opts.netns, directoryUrl, managementUrl);
}

function handle(stateDir: string, pid: number, netns: string | undefined, directoryUrl: string, managementUrl: string): Pebble {
  return {
    netns,
    pid,
    directoryUrl,
    managementUrl,
    directoryCaPem: fs.readFileSync(files(stateDir).cert, "utf8"),
    stateDir,
    stop: () => stopPebbleFromState(stateDir),
  };
}

/** Handle of a pebble started earlier (possibly by another process); throws if it is not running. */
export function openPebble(stateDir: string): Pebble {
  const dir = path.resolve(stateDir);
  const f = files(dir);
  const pid = readPidFile(f.pid);
  if (pid === undefined || !pidAlive(pid)) throw new Error(`no running pebble in ${dir}`);
  const s = JSON.parse(fs.readFileSync(f.state, "utf8")) as { netns: string | null; directoryUrl: string; managementUrl: string };
  return handle(dir, pid, s.netns ?? undefined, s.directoryUrl, s.managementUrl);
}

/** Stops the pebble recorded in stateDir (SIGTERM, then SIGKILL); nothing running is fine. */
export async function stopPebbleFromState(stateDir: string): Promise<void> {
  const f = files(path.resolve(stateDir));
  const pid = readPidFile(f.pid);
  if (pid !== undefined) await stopPid(pid, { graceMs: 3000, expectInCmdline: "pebble" });
  fs.rmSync(f.pid, { force: true });
}

/** PEM certificates of pebble's current issuing hierarchy. */
export interface PebbleRoots {
  /** The root CA: what browsers and `openssl verify` must trust. */
  rootPem: string;
  /** The intermediate that signs leaf certificates (also sent in every issued chain). */
  intermediatePem: string;
}

/** Fetches the root and intermediate of this pebble run from its management interface. */
export async function fetchPebbleRoots(pebble: Pebble): Promise<PebbleRoots> {
  const caFile = files(pebble.stateDir).cert;
  const [rootPem, intermediatePem] = await Promise.all(
    ["roots/0", "intermediates/0"].map((p) => httpsGet(pebble.netns, `${pebble.managementUrl}/${p}`, caFile)),
  );
  for (const [what, pem] of [["root", rootPem], ["intermediate", intermediatePem]] as const) {
    if (!pem?.includes("BEGIN CERTIFICATE")) throw new Error(`pebble management returned no ${what} certificate`);
  }
  return { rootPem: rootPem as string, intermediatePem: intermediatePem as string };
}

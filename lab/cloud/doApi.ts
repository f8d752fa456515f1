/**
 * The lab's DigitalOcean control plane for droplets: the metadata service at
 * 169.254.169.254 and the part of the public API that moves reserved IPs.
 *
 * Design:
 * - One server process (doApiServer.ts) runs detached inside the fabric
 *   netns, so it outlives the `up` that started it; its PID is registered
 *   with lab/net's registerLabProcess, so destroyAll stops it.
 * - It listens on two /32s on the fabric's loopback: 169.254.169.254:80
 *   (metadata) and a free address of the plan's services range, port 80
 *   (the API, "on the internet" like api.digitalocean.com). Droplets route
 *   every non-VPC destination to the fabric, so both are reachable from
 *   every droplet netns with the droplet's own source address, through its
 *   emulated cloud firewall (the stack allows all outbound TCP);
 *   {@link enableMetadataRoute} adds an explicit /32 route for the metadata
 *   address that pins the source to the public IP.
 * - The metadata service identifies the caller by that source address.
 * - What the server knows about the account (token, droplets, reserved IPs
 *   and their regions) comes from a JSON state file in `stateDir` that the
 *   lab rewrites with {@link DoApi.sync}; who HOLDS a reserved IP is read
 *   live from the fabric's own state, so moves made by the lab
 *   (ReservedIpAssignment), the CLI or the API are one truth.
 * - Domain records are not in that file: the server reads and changes them
 *   in the lab DNS server's own store (`dnsStateDir`, lab/dns's dns.json
 *   under its flock), the store the lab's DnsRecord resources also go to, so
 *   the `up` process and the API never overwrite each other's changes.
 * - An accepted action (201, in-progress) is applied by the server itself
 *   ~0.3 s later with assignReservedIp(openFabric(prefix), ...), then reads
 *   "completed" (or "errored"), as DigitalOcean's actions are asynchronous.
 */
import fs from "node:fs";
import path from "node:path";
import { registerLabProcess, unregisterLabProcess } from "../net/destroyAll";
import type { Fabric } from "../net/fabric";
import { METADATA_IP, addFabricServiceAddress, enableMetadataRoute, pickServiceAddress, removeFabricServiceAddress } from "../net/fabricServices";
import { pidAlive, pidCmdline, readPidFile, sleep, spawnDetachedInNetns, stopPid } from "../net/processes";
import { DoApiDroplet, DoApiRequestRecord, DoApiReservedIp, doApiFiles, readDoApiState, readRequestLog, writeDoApiState } from "./doApiState";
import { READY_MARKER } from "./doApiServer";

export { METADATA_IP, enableMetadataRoute };
export type { DoApiDroplet, DoApiRequestRecord, DoApiReservedIp };

/** Options of {@link startDoApi}. */
export interface DoApiOptions {
  fabric: Fabric;
  /** Directory for the state file (holds the token: kept 0700/0600), PID file and logs. */
  stateDir: string;
  /** The only bearer token the API accepts. */
  token: string;
  /** The account's droplets; read by {@link DoApi.sync}. Names must be the droplets' fabric host names. */
  droplets: () => readonly DoApiDroplet[];
  /** The account's reserved IPs with their regions; read by {@link DoApi.sync}. Holders come from the fabric. */
  reservedIps: () => readonly DoApiReservedIp[];
  /** Gets a startup line and, while this process lives, one line per request. */
  log?: (line: string) => void;
  /** DigitalOcean's burst limit per token (default 250 requests per 60 s). */
  rateLimitPerMinute?: number;
  /** State dir of the lab's DNS server (startDns): the domains and records the API serves and changes. Absent = no domains. */
  dnsStateDir?: string;
}

/** A running DO API. */
export interface DoApi {
  /** API base for droplets, e.g. http://192.0.2.2 (set it as DO_API_URL). */
  readonly url: string;
  /** Metadata base, http://169.254.169.254. */
  readonly metadataUrl: string;
  /** PID of the server process (in the fabric netns). */
  readonly pid: number;
  /** Every request answered so far, oldest first (read from the request log). */
  readonly requests: readonly DoApiRequestRecord[];
  /** Rewrites the state file from `droplets()` and `reservedIps()`; the server picks it up on its next request. */
  sync(): void;
  /** Stops forwarding request lines to `log`; the server keeps running. */
  detach(): void;
  /** Stops the server, unregisters it and removes its addresses from the fabric. */
  stop(): Promise<void>;
}

const SERVER_TAG = "doApiServer";
const DEFAULT_RATE_LIMIT = 250;

function serverScript(): string {
  // Under tsx (tests, lab CLI) the server is TypeScript too; compiled builds run plain JS.
  return path.join(__dirname, `${SERVER_TAG}${path.extname(__filename)}`);
}

async function waitReady(logFile: string, fromOffset: number, pid: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  const tail = (): string => {
    try {
      return fs.readFileSync(logFile, "utf8").slice(fromOffset);
    } catch {
      return "";
    }
  };
  while (Date.now() < deadline) {
    if (tail().includes(READY_MARKER)) return;
    if (!pidAlive(pid)) break;
    await sleep(25);
  }
  await stopPid(pid);
  throw new Error(`DO API server did not start; log:\n${tail()}`);
}

/** Starts forwarding new request-log lines to `log` every 0.5 s; returns the stopper. */
function forwardRequests(file: string, log: (line: string) => void): () => void {
  let offset = fs.existsSync(file) ? fs.statSync(file).size : 0;
  const tick = (): void => {
    const size = fs.statSync(file).size;
    if (size <= offset) return;
    const fd = fs.openSync(file, "r");
    try {
      const buf = Buffer.alloc(size - offset);
      fs.readSync(fd, buf, 0, buf.length, offset);
      const text = buf.toString("utf8");
      const complete = text.lastIndexOf("\n") + 1;
      offset += Buffer.byteLength(text.slice(0, complete));
      for (const line of text.slice(0, complete).split("\n").filter(Boolean)) {
        let r: DoApiRequestRecord;
        try {
          r = JSON.parse(line) as DoApiRequestRecord;
        } catch {
          continue;
        }
        log(`do-api: ${r.service} ${r.fromIp} ${r.method} ${r.path} -> ${r.status}`);
      }
    } finally {
      fs.closeSync(fd);
    }
  };
  const timer = setInterval(() => {
    try {
      tick();
    } catch {
      // No log yet, or the state dir is gone: forwarding is best effort and must never crash the lab.
    }
  }, 500);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Starts (or, if one already runs for this `stateDir`, adopts) the lab's DO
 * metadata service and API; see the file comment for the design. Writes the
 * state file first, so the server starts with the current catalog.
 *
 * Integration: call after createFabric; call {@link enableMetadataRoute}
 * for each droplet once its netns exists; call `sync()` after adding
 * droplets or reserved IPs; give droplets `url` as DO_API_URL and `token`.
 */
export async function startDoApi(opts: DoApiOptions): Promise<DoApi> {
  const { fabric } = opts;
  const files = doApiFiles(opts.stateDir);
  fs.mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  const previous = readDoApiState(files.state);
  // Keep the address of an earlier run: droplets may already have it configured.
  const apiAddress = previous && previous.prefix === fabric.prefix ? previous.apiAddress : pickServiceAddress(fabric);
  const rateLimitPerMinute = opts.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT;

  const sync = (): void =>
    writeDoApiState(files.state, {
      version: 1,
      prefix: fabric.prefix,
      token: opts.token,
      apiAddress,
      rateLimitPerMinute,
      droplets: opts.droplets().map((d) => ({ ...d, ...(d.tags ? { tags: [...d.tags] } : {}) })),
      reservedIps: opts.reservedIps().map((r) => ({ ip: r.ip, region: r.region })),
      ...(opts.dnsStateDir === undefined ? {} : { dnsStateDir: path.resolve(opts.dnsStateDir) }),
    });
  sync();

  await addFabricServiceAddress(fabric, METADATA_IP);
  await addFabricServiceAddress(fabric, apiAddress);

  const script = serverScript();
  const marker = `${SERVER_TAG}${path.extname(script)} --state ${files.state}`;
  let pid = readPidFile(files.pid);
  if (pid === undefined || !pidAlive(pid) || !pidCmdline(pid).includes(marker)) {
    const offset = fs.existsSync(files.log) ? fs.statSync(files.log).size : 0;
    pid = spawnDetachedInNetns({
      netns: fabric.netns,
      command: process.execPath,
      args: [...(script.endsWith(".ts") ? ["--import", "tsx"] : []), script, "--state", files.state],
      logFile: files.log,
      pidFile: files.pid,
      cwd: path.resolve(__dirname, "..", ".."),
    });
    await waitReady(files.log, offset, pid);
  }
  registerLabProcess(fabric.prefix, pid, "do-api");
  const serverPid = pid;
  const url = `http://${apiAddress}`;
  const metadataUrl = `http://${METADATA_IP}`;
  opts.log?.(`DO API at ${url}, metadata at ${metadataUrl} (pid ${serverPid}, log ${files.log})`);
  let stopForwarding = opts.log ? forwardRequests(files.requests, opts.log) : (): void => undefined;

  return {
    url,
    metadataUrl,
    pid: serverPid,
    get requests(): readonly DoApiRequestRecord[] {
      return readRequestLog(files.requests);
    },
    sync,
    detach: () => {
      stopForwarding();
      stopForwarding = (): void => undefined;
    },
    stop: async () => {
      stopForwarding();
      await stopPid(serverPid, { expectInCmdline: SERVER_TAG });
      unregisterLabProcess(fabric.prefix, serverPid);
      fs.rmSync(files.pid, { force: true });
      await removeFabricServiceAddress(fabric, METADATA_IP);
      await removeFabricServiceAddress(fabric, apiAddress);
    },
  };
}

/**
 * The lab's DigitalOcean API and metadata service as a process of its own,
 * run inside the fabric netns so it outlives the `up` that started it:
 *
 *   node [--import tsx] doApiServer.ts --state STATE_DIR/doapi.json
 *
 * It serves the metadata service on 169.254.169.254:80 and the API on the
 * state file's `apiAddress`:80 (both /32s on the fabric's loopback), re-reads
 * the state file when it changes, reads reserved-IP holders live from the
 * fabric state, applies accepted actions with lab/net's assignReservedIp,
 * reads and changes domain records in the lab DNS server's store (the state
 * file's `dnsStateDir`, under that store's lock; a change is answered once
 * BIND serves it), and logs each request to stdout and STATE_DIR/doapi-requests.jsonl.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { readZoneRecords, updateZoneRecords } from "../dns/dnsServer";
import { Fabric, fabricState, openFabric } from "../net/fabric";
import { METADATA_IP } from "../net/fabricServices";
import { assignReservedIp } from "../net/reservedIp";
import { ActionStore, DoAction } from "./doApiActions";
import { HttpRequest, HttpResponse, normalizePath, plainIpv4, textResponse } from "./doApiHttp";
import { DomainRecordStore, NO_DOMAINS } from "./doApiDomains";
import { handleMetadataRequest } from "./doApiMetadata";
import { RateLimiter } from "./doApiRateLimit";
import { handleApiRequest } from "./doApiRoutes";
import { DoApiRequestRecord, DoApiState, doApiFiles, readDoApiState } from "./doApiState";

/** Line the server prints once both listeners are bound. */
export const READY_MARKER = "doApiServer listening";
/** How long an accepted action stays in progress before the move is applied (DO's actions are asynchronous). */
export const ACTION_DELAY_MS = 300;
const MAX_BODY = 64 * 1024;

/** Re-reads the state file only when it changed (mtime/size). */
function stateLoader(file: string): () => DoApiState {
  let cached: DoApiState | undefined;
  let stamp = "";
  return () => {
    const st = fs.statSync(file);
    const now = `${st.mtimeMs}:${st.size}:${st.ino}`;
    if (!cached || now !== stamp) {
      const fresh = readDoApiState(file);
      if (!fresh) throw new Error(`DO API state ${file} disappeared`);
      cached = fresh;
      stamp = now;
    }
    return cached;
  };
}

function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on("end", () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** The domain-record store the API works on: the lab DNS server's state in `dnsStateDir`. */
export function dnsRecordStore(dnsStateDir: string | undefined): DomainRecordStore {
  if (dnsStateDir === undefined) return NO_DOMAINS;
  return {
    records: (domain) => readZoneRecords(dnsStateDir, domain),
    update: (domain, change) => updateZoneRecords(dnsStateDir, domain, change),
  };
}

/** A running server (for tests that run it in-process). */
export interface DoApiServer {
  close(): Promise<void>;
}

/** Starts both listeners; resolves once they are bound. */
export async function runDoApiServer(stateFile: string): Promise<DoApiServer> {
  const loadState = stateLoader(stateFile);
  const initial = loadState();
  const fabric: Fabric = openFabric(initial.prefix);
  const requestsFile = doApiFiles(path.dirname(stateFile)).requests;
  const actions = new ActionStore(Math.floor(Date.now() / 1000));
  const limiter = new RateLimiter(initial.rateLimitPerMinute);

  const startMove = (action: DoAction, dropletName: string | null): void => {
    setTimeout(() => {
      assignReservedIp(fabric, action.ip, dropletName).then(
        () => {
          actions.finish(action.id, true, Date.now());
          process.stdout.write(`action ${action.id} ${action.type} ${action.ip} -> ${dropletName ?? "(none)"}: completed\n`);
        },
        (e: Error) => {
          actions.finish(action.id, false, Date.now());
          process.stdout.write(`action ${action.id} ${action.type} ${action.ip} -> ${dropletName ?? "(none)"}: errored: ${e.message}\n`);
        },
      );
    }, ACTION_DELAY_MS);
  };

  const answer = async (service: DoApiRequestRecord["service"], req: HttpRequest): Promise<HttpResponse> => {
    const state = loadState();
    const fab = fabricState(fabric);
    if (service === "metadata") return handleMetadataRequest(req, { state, holders: fab.reservedIps, hosts: fab.hosts, nameservers: [fab.plan.dnsIp] });
    const domains = dnsRecordStore(state.dnsStateDir);
    return handleApiRequest(req, { state, holders: fab.reservedIps, actions, limiter, nowMs: Date.now(), startMove, domains });
  };

  const listener = (service: DoApiRequestRecord["service"]) => async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const fromIp = plainIpv4(req.socket.remoteAddress ?? "");
    const url = req.url ?? "/";
    let response: HttpResponse;
    try {
      const body = await readBody(req);
      response = body === undefined
        ? textResponse(413, "request body too large\n")
        : await answer(service, {
          method: req.method ?? "GET",
          path: url,
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v])),
          body,
          fromIp,
        });
    } catch (e) {
      response = textResponse(500, `internal error: ${(e as Error).message}\n`);
    }
    res.writeHead(response.status, response.headers);
    res.end(response.body);
    const record: DoApiRequestRecord = { time: new Date().toISOString(), service, method: req.method ?? "", path: normalizePath(url), status: response.status, fromIp };
    try {
      fs.appendFileSync(requestsFile, JSON.stringify(record) + "\n");
    } catch (e) {
      // A full or removed state dir must not take the service down with it.
      process.stderr.write(`doApiServer: cannot log request: ${(e as Error).message}\n`);
    }
    process.stdout.write(`${record.time} ${service} ${record.fromIp} ${record.method} ${record.path} ${record.status}\n`);
  };

  const servers = [
    { server: http.createServer(listener("metadata")), address: METADATA_IP },
    { server: http.createServer(listener("api")), address: initial.apiAddress },
  ];
  await Promise.all(servers.map(({ server, address }) => new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(80, address, () => {
      server.off("error", reject);
      resolve();
    });
  })));
  process.stdout.write(`${READY_MARKER} api=http://${initial.apiAddress} metadata=http://${METADATA_IP}\n`);
  return {
    close: async () => {
      await Promise.all(servers.map(({ server }) => new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })));
    },
  };
}

if (require.main === module) {
  const i = process.argv.indexOf("--state");
  const stateFile = i >= 0 ? process.argv[i + 1] : undefined;
  if (!stateFile) {
    process.stderr.write("usage: doApiServer --state STATE_FILE\n");
    process.exit(2);
  }
  runDoApiServer(stateFile).then(
    (server) => {
      const stop = (): void => void server.close().then(() => process.exit(0));
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
    },
    (e: Error) => {
      process.stderr.write(`doApiServer: ${e.message}\n`);
      process.exit(1);
    },
  );
}

/**
 * The inter-region latency relay: a UDP forwarder that holds every datagram
 * for a fixed time. It carries the VXLAN underlay of the fabric's delay loop
 * (see fabricConstants.ts), so each packet routed through the loop is
 * delayed once. Runs as its own process inside the relay netns:
 *
 *   node delayRelay.js --listen 4790 --to 169.254.79.1:4789 --delay-ms 40 [--bind ADDR] [--state FABRIC_JSON]
 *
 * With --state it re-reads the fabric's state when it changes and adds the extra latency set for a
 * region pair (`lab fault latency A B MS`) to the datagrams between those regions.
 */
import dgram from "node:dgram";
import fs from "node:fs";
import type { FabricState } from "./fabricState";
import { extraDelayMs, regionLookup, RegionOf } from "./pairLatency";

/** Parsed command line of the relay. */
export interface RelayArgs {
  listenPort: number;
  toHost: string;
  toPort: number;
  delayMs: number;
  /** Address to bind (default: all of the relay netns). */
  bindAddress?: string;
  /** The fabric's state file, for per-pair extra latency. */
  stateFile?: string;
}

/** Parses the relay's command line; throws with a usage message on bad input. */
export function parseRelayArgs(argv: readonly string[]): RelayArgs {
  const get = (flag: string): string => {
    const i = argv.indexOf(flag);
    const v = i >= 0 ? argv[i + 1] : undefined;
    if (v === undefined) throw new Error(`usage: delayRelay --listen PORT --to HOST:PORT --delay-ms MS (missing ${flag})`);
    return v;
  };
  const port = (text: string, what: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`bad ${what}: ${text}`);
    return n;
  };
  const to = get("--to");
  const colon = to.lastIndexOf(":");
  if (colon <= 0) throw new Error(`bad --to (want HOST:PORT): ${to}`);
  const delayMs = Number(get("--delay-ms"));
  if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > 10_000) throw new Error(`bad --delay-ms: ${get("--delay-ms")}`);
  const bindAt = argv.indexOf("--bind");
  const stateAt = argv.indexOf("--state");
  return {
    ...(bindAt >= 0 && argv[bindAt + 1] !== undefined ? { bindAddress: argv[bindAt + 1] } : {}),
    ...(stateAt >= 0 && argv[stateAt + 1] !== undefined ? { stateFile: argv[stateAt + 1] } : {}),
    listenPort: port(get("--listen"), "--listen"),
    toHost: to.slice(0, colon),
    toPort: port(to.slice(colon + 1), "--to port"),
    delayMs,
  };
}

/**
 * Starts relaying; resolves once the socket is bound. Timers with equal
 * delays fire in creation order, so packet order is preserved.
 */
export function startRelay(args: RelayArgs): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type: "udp4", recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 });
  const pairs = args.stateFile ? pairLatencyFrom(args.stateFile) : undefined;
  socket.on("message", (msg) => {
    const extra = pairs ? pairs.extra(msg) : 0;
    setTimeout(() => socket.send(msg, args.toPort, args.toHost), args.delayMs + extra);
  });
  socket.on("close", () => pairs?.stop());
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(args.listenPort, args.bindAddress, () => {
      socket.off("error", reject);
      // A send error (e.g. fabric gone during teardown) must not kill the relay.
      socket.on("error", (e) => process.stderr.write(`delayRelay: ${e.message}\n`));
      resolve(socket);
    });
  });
}

/** Watches the fabric state (twice a second, by mtime) for the per-pair extra latencies. */
function pairLatencyFrom(file: string): { extra(datagram: Buffer): number; stop(): void } {
  let regionOf: RegionOf = () => undefined;
  let extra: Record<string, number> = {};
  let stamp = "";
  const reload = (): void => {
    try {
      const st = fs.statSync(file);
      const now = `${st.mtimeMs}:${st.size}`;
      if (now === stamp) return;
      const state = JSON.parse(fs.readFileSync(file, "utf8")) as FabricState;
      regionOf = regionLookup(state);
      extra = state.extraLatencyMs ?? {};
      stamp = now;
    } catch (e) {
      // Torn write or file gone at teardown: keep the last good view.
      process.stderr.write(`delayRelay: state ${file}: ${(e as Error).message}\n`);
    }
  };
  reload();
  const timer = setInterval(reload, 500);
  timer.unref();
  return {
    extra: (datagram) => (Object.keys(extra).length === 0 ? 0 : extraDelayMs(datagram, regionOf, extra)),
    stop: () => clearInterval(timer),
  };
}

if (require.main === module) {
  startRelay(parseRelayArgs(process.argv.slice(2))).then(
    (s) => {
      process.stdout.write(`delayRelay listening on ${s.address().port}\n`);
      process.on("SIGTERM", () => s.close(() => process.exit(0)));
    },
    (e: Error) => {
      process.stderr.write(`delayRelay: ${e.message}\n`);
      process.exit(1);
    },
  );
}

/**
 * Helpers for the lab's network tests: probes that run inside a netns and
 * report what a client would see (open / refused / timeout, RTT), and tiny
 * servers that answer with a host's name. Not used by the lab itself.
 */
import { ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { runInNetns } from "./exec";
import { listNetns, pidAlive } from "./processes";

/** A fresh lab prefix for one test file, never equal to a real lab's. */
export function testPrefix(): string {
  return `t${randomBytes(4).toString("hex")}`;
}

/** Result of {@link ping}. */
export interface PingResult {
  received: number;
  avgMs: number;
}

/** Pings from a netns (0.2 s interval, 1 s wait per reply). */
export async function ping(netns: string, ip: string, count = 5): Promise<PingResult> {
  const r = await runInNetns(netns, "ping", ["-n", "-q", "-c", String(count), "-i", "0.2", "-W", "1", ip], { allowFail: true });
  const received = Number(/(\d+) received/.exec(r.stdout)?.[1] ?? 0);
  const avg = /= [\d.]+\/([\d.]+)\//.exec(r.stdout)?.[1];
  return { received, avgMs: avg === undefined ? NaN : Number(avg) };
}

const PROBE_JS = `
const net = require("net");
const [host, port, timeout] = process.argv.slice(1);
const t0 = Date.now();
const s = net.connect({ host, port: Number(port) });
const done = (what) => { console.log(JSON.stringify({ what, ms: Date.now() - t0 })); s.destroy(); process.exit(0); };
s.setTimeout(Number(timeout), () => done("timeout"));
s.on("connect", () => done("open"));
s.on("error", (e) => done(e.code === "ECONNREFUSED" ? "refused" : e.code));
`;

/** What a TCP connect from a netns saw, and after how long. */
export interface ProbeResult {
  what: "open" | "refused" | "timeout" | string;
  ms: number;
}

/** Tries a TCP connect from inside a netns. */
export async function tcpProbe(netns: string, host: string, port: number, timeoutMs = 1000): Promise<ProbeResult> {
  const r = await runInNetns(netns, process.execPath, ["-e", PROBE_JS, host, String(port), String(timeoutMs)]);
  return JSON.parse(r.stdout.trim()) as ProbeResult;
}

const SERVER_JS = `
const [name, ...ports] = process.argv.slice(1);
const http = require("http"), net = require("net"), dgram = require("dgram");
let pending = 2 + ports.length;
const up = () => { if (--pending === 0) console.log("ready"); };
let udpHits = 0;
const bulk = Buffer.alloc(4_000_000, 120);
http.createServer((q, r) => r.end(q.url === "/udp-hits" ? String(udpHits) : q.url === "/bulk" ? bulk : name)).listen(80, up);
const u = dgram.createSocket("udp4");
u.on("message", (m, rinfo) => { udpHits++; u.send(name, rinfo.port, rinfo.address); });
u.bind(9999, up);
// Probes reset the connection right after connecting: ignore socket errors instead of crashing.
for (const p of ports) net.createServer((c) => { c.on("error", () => {}); c.end(name + "\\n"); }).listen(Number(p), up);
process.on("SIGTERM", () => process.exit(0));
`;

/**
 * A name server started by a test: HTTP :80 and UDP :9999 answer `name`,
 * extra TCP ports too; GET /udp-hits tells how many UDP datagrams arrived
 * (to check one-way delivery); GET /bulk sends 4 MB.
 */
export interface NameServer {
  pid: number;
  stop(): Promise<void>;
}

/** Starts a {@link NameServer} inside a netns; resolves once it listens. */
export function startNameServer(netns: string, name: string, extraTcpPorts: number[] = []): Promise<NameServer> {
  const child: ChildProcess = spawn("ip", ["netns", "exec", netns, process.execPath, "-e", SERVER_JS, name, ...extraTcpPorts.map(String)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout?.on("data", (d: Buffer) => {
      if (d.toString().includes("ready")) {
        resolve({
          pid: child.pid as number,
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
            await exited;
          },
        });
      }
    });
    child.once("exit", (code) => reject(new Error(`name server in ${netns} exited (${code}): ${err}`)));
  });
}

/** HTTP GET with curl from a netns: body, or the curl exit code (7 = refused, 28 = timeout). */
export async function curl(netns: string, url: string, timeoutSec = 1): Promise<{ exit: number; body: string }> {
  const r = await runInNetns(netns, "curl", ["-sS", "--connect-timeout", String(timeoutSec), "-m", String(timeoutSec + 1), url], { allowFail: true });
  return { exit: r.code, body: r.stdout };
}

const UDP_JS = `
const dgram = require("dgram");
const [host, port, srcPort, timeout] = process.argv.slice(1);
const s = dgram.createSocket("udp4");
const t = setTimeout(() => { console.log("timeout"); process.exit(0); }, Number(timeout));
s.on("message", (m) => { clearTimeout(t); console.log(m.toString()); process.exit(0); });
s.bind(Number(srcPort), () => s.send("?", Number(port), host));
`;

/** Sends one UDP datagram from a fixed source port and returns the reply text (or "timeout"). */
export async function udpAsk(netns: string, host: string, port: number, srcPort: number, timeoutMs = 1000): Promise<string> {
  const r = await runInNetns(netns, process.execPath, ["-e", UDP_JS, host, String(port), String(srcPort), String(timeoutMs)]);
  return r.stdout.trim();
}

/** Lists what a lab prefix left behind: namespaces, /etc/netns dirs, and any of `pids` still alive. */
export async function leftovers(prefix: string, pids: number[] = []): Promise<string[]> {
  const ns = (await listNetns()).filter((n) => n.startsWith(`${prefix}-`));
  let etc: string[] = [];
  try {
    etc = fs.readdirSync("/etc/netns").filter((n) => n.startsWith(`${prefix}-`)).map((n) => `/etc/netns/${n}`);
  } catch {
    // no /etc/netns
  }
  return [...ns, ...etc, ...pids.filter(pidAlive).map((p) => `pid ${p}`)];
}

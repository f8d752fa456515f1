/**
 * Helpers shared by the lb tests: temp dirs, async child processes (so
 * in-process fake servers keep answering while a child runs), free ports and
 * tiny HTTP servers/clients on loopback.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";

/** Creates a temp dir; the returned `cleanup` removes it. */
export function makeTempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Result of {@link run}. */
export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to completion without blocking the event loop; never rejects
 * on non-zero exit. After `timeoutMs` (default 20 s) its process group is
 * SIGKILLed and `code` is null.
 */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // Own process group, so a timeout also kills grandchildren (e.g. a curl
    // left by a killed script) that would otherwise hold the pipes open.
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    }, opts.timeoutMs ?? 20_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A port that was free on `host` a moment ago (small race accepted in tests). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((resolve) => srv.listen(0, host, resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** A started HTTP server; `kill` drops every connection, in-flight ones included. */
export interface TestServer {
  readonly server: http.Server;
  readonly host: string;
  readonly port: number;
  kill(): Promise<void>;
}

/** Starts an HTTP server on `host`, random port. */
export async function startServer(host: string, handler: http.RequestListener): Promise<TestServer> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  let killed: Promise<void> | undefined;
  return {
    server,
    host,
    port,
    kill() {
      killed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return killed;
    },
  };
}

/** Reads a request body as text. */
export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

/** Response of {@link httpRequest}. */
export interface HttpResult {
  readonly status: number;
  readonly body: string;
}

/** One HTTP request on a fresh connection; network errors reject. */
export function httpRequest(
  url: string,
  opts: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? "GET", headers: opts.headers, agent: false }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.setTimeout(opts.timeoutMs ?? 5000, () => req.destroy(new Error(`timeout: ${url}`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** Polls `probe` every 100 ms until it returns true; throws after `timeoutMs`. */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A haproxy started by a test in the foreground (`-db`), stopped by its PID. */
export interface TestHaproxy {
  readonly pid: number;
  /** What haproxy printed so far (stdout + stderr). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `haproxy -f cfgFile -db` and waits until `readyUrl` answers 200 (throws with haproxy's output otherwise). */
export async function startHaproxy(cfgFile: string, readyUrl: string, timeoutMs = 5000): Promise<TestHaproxy> {
  const child = spawn("haproxy", ["-f", cfgFile, "-db"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const handle: TestHaproxy = {
    pid: child.pid as number,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, "SIGTERM");
      await exited;
    },
  };
  try {
    await waitFor("haproxy up", async () => (await httpRequest(readyUrl)).status === 200, timeoutMs);
  } catch (err) {
    await handle.stop();
    throw new Error(`${String(err)}; haproxy output:\n${output}`);
  }
  return handle;
}

/** Trimmed, non-empty lines of the config section starting with the line `header` (e.g. "backend app"); throws if absent. */
export function configSection(cfg: string, header: string): string[] {
  const lines = cfg.split("\n");
  const start = lines.indexOf(header);
  if (start === -1) throw new Error(`section ${header} missing`);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => /^\S/.test(l));
  return (end === -1 ? rest : rest.slice(0, end)).map((l) => l.trim()).filter((l) => l !== "");
}

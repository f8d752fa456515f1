import { execFile, execFileSync, spawnSync } from "child_process";
import * as path from "path";
import { LabState } from "../labState";
import { execInContainer } from "../host/containerExec";
import type { ProbeTls } from "./netProbe";

const PROBE = path.join(__dirname, "netProbe.ts");
const TSX = require.resolve("tsx");

/** Runs the net probe in a lab namespace and returns its parsed JSON answer. */
export function probeFrom<T>(netns: string, input: Record<string, unknown>): T {
    const out = execFileSync("ip", ["netns", "exec", netns, process.execPath, "--import", TSX, PROBE, JSON.stringify(input)], { encoding: "utf8", timeout: 300_000 });
    return JSON.parse(out) as T;
}

/** Like {@link probeFrom}, without blocking this process (so faults can be injected meanwhile). */
export function probeFromAsync<T>(netns: string, input: Record<string, unknown>): Promise<T> {
    return new Promise((resolve, reject) => {
        execFile("ip", ["netns", "exec", netns, process.execPath, "--import", TSX, PROBE, JSON.stringify(input)], { encoding: "utf8", timeout: 300_000 }, (err, out) => {
            if (err) reject(err);
            else resolve(JSON.parse(out) as T);
        });
    });
}

/** Runs a command inside a lab droplet's container. */
export function inHost(state: LabState, host: string, cmd: string): { code: number; out: string } {
    const h = state.hosts.find((x) => x.name === host);
    if (!h) throw new Error(`no host ${host}`);
    const r = spawnSync("nsenter", ["--target", String(h.leaderPid), "--mount", "--uts", "--ipc", "--net", "--pid", "--", "sh", "-c", cmd], { encoding: "utf8", timeout: 60_000 });
    return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

/**
 * {@link inHost} without blocking this process (samplers, loads and faults run meanwhile), through
 * the lab's own container exec: a command still running at `timeoutMs` is killed (code 124), and
 * a host or container that is gone answers code 255 at once.
 */
export async function inHostAsync(state: LabState, host: string, cmd: string, timeoutMs = 60_000): Promise<{ code: number; out: string }> {
    const h = state.hosts.find((x) => x.name === host);
    if (!h) return { code: 255, out: `no host ${host}` };
    try {
        const r = await execInContainer(h.leaderPid, ["sh", "-c", cmd], { timeoutMs });
        return { code: r.code, out: `${r.stdout}${r.stderr}` };
    } catch (e) {
        return { code: 255, out: (e as Error).message };
    }
}

/** What a stream probe needs to reach the site over verified HTTPS: `{ mode: "stream", ..., tls: siteTls(state) }`. */
export function siteTls(state: LabState): ProbeTls {
    return { caFile: state.acmeRootFile, servername: state.siteName };
}

/** An answer curl got on the client host: status (0 when none, e.g. a refused certificate), body, curl's error. */
export interface ClientAnswer {
    status: number;
    body: string;
    /** Where a redirect points (curl does not follow it). */
    location?: string;
    /** curl's message when no answer came (`curl: (60) SSL certificate problem: ...`). */
    error?: string;
}

/** One curl (no redirect followed) in the client's namespace. */
function curlFromClient(state: LabState, args: readonly string[]): ClientAnswer {
    const r = spawnSync("ip", ["netns", "exec", state.clientNetns, "curl", "-sS", "-m", "10", "-o", "-", "-w", "\n%{redirect_url}\n%{http_code}", ...args], { encoding: "utf8" });
    const lines = r.stdout.split("\n");
    const status = Number(lines.pop());
    const location = lines.pop() ?? "";
    return { status, body: lines.join("\n"), ...(location ? { location } : {}), ...(status === 0 && r.stderr.trim() ? { error: r.stderr.trim().split("\n")[0] } : {}) };
}

/**
 * One HTTPS GET of the site from the client host, through a given entry point address, as a
 * browser would: SNI and Host = siteName, the certificate verified against the lab CA's root
 * (chain and name); a certificate that does not verify is status 0 with curl's error.
 */
export function clientGet(state: LabState, address: string, pathAndQuery: string): ClientAnswer {
    return curlFromClient(state, ["--cacert", state.acmeRootFile, "--resolve", `${state.siteName}:443:${address}`, `https://${state.siteName}${pathAndQuery}`]);
}

/**
 * One plain-HTTP GET from the client host, through a given entry point address (Host = siteName),
 * redirects not followed: 301 to https for the site's pages, 200 for /lb-health (exempt).
 */
export function clientGetPlain(state: LabState, address: string, pathAndQuery: string): ClientAnswer {
    return curlFromClient(state, ["-H", `Host: ${state.siteName}`, `http://${address}${pathAndQuery}`]);
}

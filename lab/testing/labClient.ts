import { execFile, execFileSync, spawnSync } from "child_process";
import * as path from "path";
import { LabState } from "../labState";

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

/** One HTTP GET from the client host, through a given entry point address. */
export function clientGet(state: LabState, address: string, pathAndQuery: string): { status: number; body: string } {
    const r = spawnSync("ip", ["netns", "exec", state.clientNetns, "curl", "-s", "-m", "10", "-o", "-", "-w", "\n%{http_code}", "-H", `Host: ${state.siteName}`, `http://${address}${pathAndQuery}`], { encoding: "utf8" });
    const lines = r.stdout.split("\n");
    return { status: Number(lines.pop()), body: lines.join("\n") };
}

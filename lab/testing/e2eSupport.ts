/** What the lab's end-to-end files share: the CLI, figures, and waiting for a healthy stack. */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LabState } from "../labState";
import { LAB_DIR, LAB_PREFIX, PROJECT_DIR } from "../labPaths";
import { inHost } from "./labClient";

const TSX = require.resolve("tsx/cli");

/** Runs `npm run lab -- ARGS` (the CLI itself, without npm). */
export function cli(...args: string[]): { code: number; out: string } {
    const r = spawnSync(process.execPath, [TSX, path.join(PROJECT_DIR, "lab", "cli.ts"), ...args], { encoding: "utf8", timeout: 1_500_000, cwd: PROJECT_DIR });
    return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

/** {@link cli} without blocking this process (samplers and loads go on meanwhile). */
export function cliAsync(...args: string[]): Promise<{ code: number; out: string }> {
    return new Promise((resolve) => {
        execFile(process.execPath, [TSX, path.join(PROJECT_DIR, "lab", "cli.ts"), ...args], { encoding: "utf8", timeout: 1_500_000, cwd: PROJECT_DIR, maxBuffer: 16 << 20 },
            (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, out: `${stdout}${stderr}` }));
    });
}

/** Prints a measured figure as a "lab-figure:" line (the closing notes quote them). */
export function figure(text: string): void {
    process.stdout.write(`lab-figure: ${text}\n`);
}

export const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return { mean: Math.round(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)), max: s[s.length - 1] ?? 0 };
};

/** `up`, then the state `status --json` reports. */
export function labUp(): LabState {
    const up = cli("up");
    assert.equal(up.code, 0, up.out.slice(-4000));
    const status = cli("status", "--json");
    assert.equal(status.code, 0, status.out);
    const state = JSON.parse(status.out) as LabState;
    figure(`bring-up ${state.bringUpSeconds.toFixed(1)} s, ${state.hosts.length} droplets, ${state.memoryMb} MiB PSS`);
    return state;
}

/** `down`, then proof that nothing of the lab is left. */
export function labDownAndCheck(): void {
    const down = cli("down");
    assert.equal(down.code, 0, down.out);
    const netns = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
    assert.ok(!netns.split("\n").some((l) => l.startsWith(`${LAB_PREFIX}-`)), `namespaces left: ${netns}`);
    const mounts = fs.readFileSync("/proc/mounts", "utf8");
    assert.ok(!mounts.includes(LAB_DIR), "no mount left under the lab directory");
    const procs = spawnSync("pgrep", ["-af", "systemd-nspawn|named -g"], { encoding: "utf8" }).stdout;
    assert.ok(!procs.includes(LAB_DIR) && !procs.includes("dns-rr-ha-lab"), `processes left: ${procs}`);
    assert.ok(!fs.existsSync(path.join(LAB_DIR, "hosts")), "host state removed");
}

/**
 * Waits until every load balancer sees every app server UP again: after a fault, HAProxy needs
 * `rise` good checks before it sends traffic back, and each test must start from a healthy stack.
 */
export function waitAllServersUp(state: LabState): void {
    const deadline = Date.now() + 60_000;
    for (const lb of state.hosts.filter((h) => h.role === "lb")) {
        for (;;) {
            const csv = inHost(state, lb.name, `curl -s -m 2 'http://${lb.privateIpv4}:8404/stats;csv'`).out;
            const servers = csv.split("\n").filter((l) => l.startsWith("app,") && !l.startsWith("app,BACKEND") && !l.startsWith("app,FRONTEND"));
            if (servers.length > 0 && servers.every((l) => l.split(",")[17] === "UP")) break;
            assert.ok(Date.now() < deadline, `${lb.name} still has app servers not UP:\n${servers.join("\n")}`);
            spawnSync("sleep", ["0.5"]);
        }
    }
}

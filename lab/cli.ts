/**
 * npm run lab -- [up [--stack NAME] | down | status [--json] | exec HOST -- CMD... | fault KIND ... | heal]
 * Deploys the real program onto this machine (see README "The lab").
 */
import { spawnSync } from "child_process";
import { labUp, describeLab } from "./up";
import { labDown } from "./down";
import { readLabState } from "./labState";
import { applyFault, FAULT_USAGE, healLab, parseFault } from "./faultCommand";
import { describeDbCluster, probeDbCluster } from "./dbStatus";

const USAGE = `usage: npm run lab -- [up [--stack NAME] | down | status [--json] | exec HOST -- CMD... | fault KIND ... | heal]\n\nfaults:\n${FAULT_USAGE}`;

function log(line: string): void {
    process.stdout.write(`[lab ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

function requireState() {
    const state = readLabState();
    if (!state) throw new Error("no lab is up: run `npm run lab` first");
    return state;
}

/** Runs a command in a lab host: `client`, `admin`, or a droplet (inside its container). */
function execIn(host: string, argv: string[]): number {
    const state = requireState();
    if (argv.length === 0) throw new Error("nothing to run: npm run lab -- exec HOST -- CMD...");
    let cmd: string[];
    if (host === "client" || host === "admin") {
        cmd = ["ip", "netns", "exec", host === "client" ? state.clientNetns : state.adminNetns, ...argv];
    } else {
        const h = state.hosts.find((x) => x.name === host);
        if (!h) throw new Error(`no host "${host}"; hosts: client, admin, ${state.hosts.map((x) => x.name).join(", ")}`);
        cmd = ["nsenter", "--target", String(h.leaderPid), "--mount", "--uts", "--ipc", "--net", "--pid", "--", ...argv];
    }
    return spawnSync(cmd[0]!, cmd.slice(1), { stdio: "inherit" }).status ?? 1;
}

async function main(args: string[]): Promise<number> {
    const [command = "up", ...rest] = args;
    switch (command) {
        case "up": {
            const i = rest.indexOf("--stack");
            const state = await labUp({ stack: i >= 0 ? rest[i + 1] : undefined, log });
            process.stdout.write(`\n${describeLab(state)}\n`);
            return 0;
        }
        case "down":
            await labDown({ log });
            return 0;
        case "status": {
            const state = readLabState();
            // Every DB node and the arbitrator are asked at once, each within a timeout.
            const dbCluster = state ? await probeDbCluster(state) : undefined;
            if (rest.includes("--json")) {
                process.stdout.write(`${JSON.stringify(state ? { ...state, dbCluster } : { up: false }, null, 2)}\n`);
                return state ? 0 : 1;
            }
            process.stdout.write(state ? `${[describeLab(state), ...describeDbCluster(dbCluster!)].join("\n")}\n` : "no lab is up\n");
            return state ? 0 : 1;
        }
        case "exec": {
            const sep = rest.indexOf("--");
            const host = rest[0];
            if (!host || host === "--") throw new Error(USAGE);
            return execIn(host, sep >= 0 ? rest.slice(sep + 1) : rest.slice(1));
        }
        case "fault": {
            const state = requireState();
            const fault = parseFault(rest, state.hosts.map((h) => h.name), [...new Set(state.hosts.map((h) => h.region))]);
            log(await applyFault(state, fault));
            return 0;
        }
        case "heal":
            requireState();
            log(await healLab());
            return 0;
        case "-h":
        case "--help":
        case "help":
            process.stdout.write(`${USAGE}\n`);
            return 0;
        default:
            throw new Error(`unknown command "${command}"\n${USAGE}`);
    }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e: unknown) => {
    process.stderr.write(`lab: ${e instanceof Error ? e.message : String(e)}\n`);
    if (process.argv[2] === undefined || process.argv[2] === "up") process.stderr.write("the lab may be half up: `npm run lab -- down` removes every trace\n");
    process.exit(1);
});

/**
 * `npm run lab -- fault KIND ...` and `npm run lab -- heal`: faults a user can inject into a running
 * lab by hand or from a benchmark's timeline. Parsing is pure (tested); applying goes through the
 * fabric (blackhole, partition, latency) or systemd inside the droplet (kill).
 */
import { LabState } from "./labState";
import { LAB_PREFIX } from "./labPaths";
import { blackhole, fabricState, healAll, openFabric, partition, setLatency } from "./net";
import { inHost } from "./testing/labClient";

export const FAULT_USAGE = [
    "npm run lab -- fault kill HOST                       SIGKILL the daemon(s) of HOST's role (systemd may restart them, as on a droplet)",
    "npm run lab -- fault stop-host HOST                  drop every packet to and from HOST (no RST, no ICMP: a hung machine)",
    "npm run lab -- fault partition REGION_A REGION_B     cut the two regions apart (private and public addresses); clients still reach both",
    "npm run lab -- fault latency REGION_A REGION_B MS    add MS one way between the two regions (0 removes it)",
    "npm run lab -- heal                                  undo every blackhole, partition and added latency",
].join("\n");

export type Fault =
    | { readonly kind: "kill"; readonly host: string }
    | { readonly kind: "stop-host"; readonly host: string }
    | { readonly kind: "partition"; readonly regions: readonly [string, string] }
    | { readonly kind: "latency"; readonly regions: readonly [string, string]; readonly ms: number };

/** The daemons that make each role what it is. */
export const ROLE_DAEMONS: Readonly<Record<string, readonly string[]>> = {
    lb: ["haproxy.service"],
    app: ["php8.2-fpm.service", "nginx.service"],
    db: ["mariadb.service"],
    cache: ["memcached.service"],
    witness: ["dns-rr-ha-dns-failover.service"],
};

/**
 * SIGKILLs each unit's main process on a droplet, by PID: `systemctl kill` (all processes of the
 * unit) fails on this host's cgroup v1 inside a container; systemd reaps the rest as on a droplet.
 * With `keepDown` the unit is then stopped, so systemd's Restart= does not bring it back (a host
 * that stays dead). Returns one line per unit: its old PID and Restart= policy.
 */
export function sigkillMainPids(state: LabState, host: string, units: readonly string[], keepDown = false): string {
    const script = units.map((u) => `pid=$(systemctl show -p MainPID --value ${u}); if [ "$pid" -gt 0 ]; then kill -KILL "$pid" && echo "${u} pid $pid, Restart=$(systemctl show -p Restart --value ${u})"; else echo "${u} was not running"; fi${keepDown ? `; systemctl stop ${u}` : ""}`).join("; ");
    const r = inHost(state, host, script);
    if (r.code !== 0) throw new Error(`SIGKILL on ${host} failed: ${r.out}`);
    return r.out.trim().split("\n").join("; ");
}

/** Parses `fault` arguments against the lab's hosts and regions; throws naming what is wrong. */
export function parseFault(args: readonly string[], hosts: readonly string[], regions: readonly string[]): Fault {
    const [kind, a, b, c] = args;
    const host = (h: string | undefined): string => {
        if (h === undefined || !hosts.includes(h)) throw new Error(`fault ${kind}: host ${JSON.stringify(h ?? "")} is not a droplet of this lab; droplets: ${hosts.join(", ")}`);
        return h;
    };
    const pair = (): [string, string] => {
        for (const r of [a, b]) if (r === undefined || !regions.includes(r)) throw new Error(`fault ${kind}: region ${JSON.stringify(r ?? "")} is not a region of this lab; regions: ${regions.join(", ")}`);
        if (a === b) throw new Error(`fault ${kind}: give two different regions`);
        return [a!, b!];
    };
    switch (kind) {
        case "kill":
        case "stop-host":
            if (b !== undefined) throw new Error(`fault ${kind} takes one host\n${FAULT_USAGE}`);
            return { kind, host: host(a) };
        case "partition":
            if (c !== undefined) throw new Error(`fault partition takes two regions\n${FAULT_USAGE}`);
            return { kind, regions: pair() };
        case "latency": {
            const regionsOk = pair();
            const ms = Number(c);
            if (c === undefined || !Number.isInteger(ms) || ms < 0 || ms > 5000) throw new Error(`fault latency: MS ${JSON.stringify(c ?? "")} must be a whole number of milliseconds from 0 to 5000`);
            return { kind, regions: regionsOk, ms };
        }
        default:
            throw new Error(`unknown fault ${JSON.stringify(kind ?? "")}\n${FAULT_USAGE}`);
    }
}

/** Applies a fault to the running lab; returns a line saying what was done. */
export async function applyFault(state: LabState, fault: Fault): Promise<string> {
    const fabric = openFabric(LAB_PREFIX);
    switch (fault.kind) {
        case "kill": {
            const h = state.hosts.find((x) => x.name === fault.host)!;
            const units = ROLE_DAEMONS[h.role] ?? [];
            if (units.length === 0) throw new Error(`fault kill: no daemon known for role ${h.role}`);
            return `SIGKILL sent on ${h.name}: ${sigkillMainPids(state, h.name, units)}`;
        }
        case "stop-host":
            await blackhole(fabric, fault.host);
            return `${fault.host} blackholed (heal with: npm run lab -- heal)`;
        case "partition": {
            const vpcs = Object.values(fabricState(fabric).vpcs);
            const [a, b] = fault.regions.map((r) => vpcs.filter((v) => v.region === r).map((v) => v.name));
            for (const x of a!) for (const y of b!) await partition(fabric, x, y);
            return `${fault.regions[0]} and ${fault.regions[1]} partitioned`;
        }
        case "latency":
            await setLatency(fabric, fault.regions[0], fault.regions[1], fault.ms);
            return fault.ms === 0 ? `extra latency ${fault.regions.join("-")} removed` : `${fault.regions.join("-")}: +${fault.ms} ms one way (each direction)`;
    }
}

/** Undoes every network fault. */
export async function healLab(): Promise<string> {
    await healAll(openFabric(LAB_PREFIX));
    return "every blackhole, partition and added latency undone (killed daemons are systemd's to restart)";
}

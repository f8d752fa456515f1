import * as fs from "fs";
import * as path from "path";
import { cleanupStale } from "./host";
import { stopDnsFromState } from "./dns";
import { stopPebbleFromState } from "./acme/pebble";
import { destroyAll, destroyFabric } from "./net";
import { LAB_DIR, LAB_PREFIX, LAB_STATE_FILE } from "./labPaths";

/**
 * Removes every trace of the lab: containers (stopped by the PIDs the lab recorded), their
 * overlay mounts, the DNS server, every namespace, bridge and nft table of the lab's prefix,
 * and the per-run files. The cached base image stays (it is reused by the next `up`).
 */
export async function labDown(opts: { log: (line: string) => void }): Promise<void> {
    const { log } = opts;
    const stopped = await cleanupStale(path.join(LAB_DIR, "hosts"));
    log(`stopped ${stopped.length} droplet container(s)`);
    await stopDnsFromState(path.join(LAB_DIR, "dns")).catch(() => undefined);
    await stopPebbleFromState(path.join(LAB_DIR, "acme")).catch(() => undefined);
    const report = await destroyAll(LAB_PREFIX);
    await destroyFabric(LAB_PREFIX).catch(() => undefined);
    log(`removed ${report.namespaces.length} network namespace(s), stopped ${report.killedPids.length} leftover process(es)`);
    for (const dir of ["hosts", "volumes", "dns", "doapi", "acme"]) fs.rmSync(path.join(LAB_DIR, dir), { recursive: true, force: true });
    fs.rmSync(LAB_STATE_FILE, { force: true });
    log("lab is down");
}

import path from "node:path";
import { delayNetnsName } from "./addressPlan";
import { run } from "./exec";
import { FABRIC_L2_TABLE, FABRIC_TABLE } from "./fabricConstants";
import { Fabric, fabricState } from "./fabric";
import { netnsExists, pidAlive, readPidFile } from "./processes";

/**
 * Lists what is broken in a fabric (empty = healthy): missing namespaces,
 * host ports, nft tables, or a dead latency relay (which would silently
 * drop all cross-region traffic). `createFabric` with the same prefix
 * repairs all of these; `createHostNetns` repairs a host.
 */
export async function checkFabric(fabric: Fabric): Promise<string[]> {
  const state = fabricState(fabric);
  const problems: string[] = [];
  if (!netnsExists(fabric.netns)) return [`fabric netns ${fabric.netns} is missing`];
  if (state.interRegionDelayMs > 0) {
    if (!netnsExists(delayNetnsName(fabric.prefix))) problems.push(`relay netns ${delayNetnsName(fabric.prefix)} is missing`);
    const pid = readPidFile(path.join(fabric.runDir, "relay.pid"));
    if (pid === undefined || !pidAlive(pid)) problems.push("latency relay is not running: cross-region traffic is dropped");
  }
  const links = await run("ip", ["-n", fabric.netns, "-o", "link", "show"]);
  const present = new Set(links.stdout.split("\n").map((l) => (l.split(": ")[1] ?? "").split("@")[0]));
  for (const host of Object.values(state.hosts)) {
    if (!netnsExists(host.netns)) problems.push(`host ${host.name}: netns ${host.netns} is missing`);
    for (const port of [host.ports.pub, host.ports.vpc]) {
      if (port && !present.has(port)) problems.push(`host ${host.name}: fabric port ${port} is missing`);
    }
  }
  for (const vpc of Object.values(state.vpcs)) {
    if (!present.has(vpc.bridge)) problems.push(`vpc ${vpc.name}: bridge ${vpc.bridge} is missing`);
  }
  const tables = await run("ip", ["netns", "exec", fabric.netns, "nft", "list", "tables"]);
  for (const t of [`inet ${FABRIC_TABLE}`, `bridge ${FABRIC_L2_TABLE}`]) {
    if (!tables.stdout.includes(`table ${t}`)) problems.push(`nft table ${t} is missing`);
  }
  return problems;
}

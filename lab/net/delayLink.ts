import fs from "node:fs";
import path from "node:path";
import { delayNetnsName, fabricNetnsName, stableMac } from "./addressPlan";
import {
  DELAY_IN_DEV,
  DELAY_OUT_DEV,
  DELAY_UNDERLAY_DEV,
  LATENCY_MARK,
  LATENCY_ROUTE_TABLE,
  OVERLAY_IN_IP,
  OVERLAY_NEXT_HOP,
  OVERLAY_OUT_IP,
  RELAY_PORT,
  UNDERLAY_FABRIC_IP,
  UNDERLAY_NET,
  UNDERLAY_RELAY_IP,
  VXLAN_IN_PORT,
} from "./fabricConstants";
import { labRunDir, statePath } from "./fabricState";
import { ipBatch, run, runInNetns } from "./exec";
import { netnsExists, pidAlive, pidCmdline, readPidFile, sleep, spawnDetachedInNetns, stopPid } from "./processes";

async function linkExists(netns: string, dev: string): Promise<boolean> {
  const r = await run("ip", ["-n", netns, "link", "show", "dev", dev], { allowFail: true });
  return r.code === 0;
}

/**
 * Builds (idempotently) the delay loop of the fabric: the relay netns, the
 * underlay veth, the two VXLAN devices, policy routing for marked packets,
 * and the relay process. With `delayMs` 0 only the relay is stopped (and no
 * VXLAN support is needed). See fabricConstants.ts.
 */
export async function ensureDelayLink(prefix: string, delayMs: number): Promise<void> {
  if (delayMs <= 0) {
    // No latency wanted: nothing is marked, so the loop (if any) stays unused.
    await stopDelayRelay(prefix);
    return;
  }
  const fabric = fabricNetnsName(prefix);
  const relayNs = delayNetnsName(prefix);
  if (!netnsExists(relayNs)) await run("ip", ["netns", "add", relayNs]);
  await run("ip", ["-n", relayNs, "link", "set", "lo", "up"]);

  if (!(await linkExists(fabric, DELAY_UNDERLAY_DEV))) {
    // Created directly inside both namespaces: nothing ever appears on the host.
    await run("ip", [
      "link", "add", "name", DELAY_UNDERLAY_DEV, "netns", fabric, "mtu", "9000",
      "type", "veth", "peer", "name", "eth0", "netns", relayNs, "mtu", "9000",
    ]);
  }
  await ipBatch(fabric, [
    `addr replace ${UNDERLAY_FABRIC_IP}/30 dev ${DELAY_UNDERLAY_DEV}`,
    `link set ${DELAY_UNDERLAY_DEV} up`,
  ]);
  await ipBatch(relayNs, [`addr replace ${UNDERLAY_RELAY_IP}/30 dev eth0`, "link set eth0 up"]);

  if (!(await linkExists(fabric, DELAY_OUT_DEV))) {
    await run("ip", [
      "-n", fabric, "link", "add", DELAY_OUT_DEV, "type", "vxlan", "id", "1",
      "local", UNDERLAY_FABRIC_IP, "remote", UNDERLAY_RELAY_IP, "dstport", String(RELAY_PORT), "nolearning",
    ]);
  }
  if (!(await linkExists(fabric, DELAY_IN_DEV))) {
    await run("ip", [
      "-n", fabric, "link", "add", DELAY_IN_DEV, "type", "vxlan", "id", "1",
      "local", UNDERLAY_FABRIC_IP, "dstport", String(VXLAN_IN_PORT), "nolearning",
    ]);
  }
  const inMac = stableMac(`${prefix}:${DELAY_IN_DEV}`);
  await ipBatch(fabric, [
    `link set ${DELAY_OUT_DEV} address ${stableMac(`${prefix}:${DELAY_OUT_DEV}`)} up`,
    `link set ${DELAY_IN_DEV} address ${inMac} up`,
    `addr replace ${OVERLAY_OUT_IP}/30 dev ${DELAY_OUT_DEV}`,
    `addr replace ${OVERLAY_IN_IP}/30 dev ${DELAY_IN_DEV}`,
    // The "next hop" is dly-in's MAC: frames leave via dly-out and re-enter on dly-in.
    `neigh replace ${OVERLAY_NEXT_HOP} lladdr ${inMac} dev ${DELAY_OUT_DEV} nud permanent`,
    `route replace default via ${OVERLAY_NEXT_HOP} dev ${DELAY_OUT_DEV} table ${LATENCY_ROUTE_TABLE}`,
    // Encapsulated packets inherit the mark: keep their underlay route out of the loop.
    `route replace ${UNDERLAY_NET} dev ${DELAY_UNDERLAY_DEV} table ${LATENCY_ROUTE_TABLE}`,
  ]);
  // Checksums must be complete before encapsulation: the relay copies bytes
  // through userspace, so an offloaded (partial) TCP checksum would arrive broken.
  await runInNetns(fabric, "ethtool", ["-K", DELAY_OUT_DEV, "tx", "off"]);

  const rules = await run("ip", ["-n", fabric, "rule", "show"]);
  if (!rules.stdout.includes(`fwmark ${"0x" + LATENCY_MARK.toString(16)} lookup ${LATENCY_ROUTE_TABLE}`)) {
    await run("ip", ["-n", fabric, "rule", "add", "fwmark", String(LATENCY_MARK), "lookup", String(LATENCY_ROUTE_TABLE), "pref", "1000"]);
  }
  await ensureRelay(prefix, delayMs);
}

function relayFiles(prefix: string): { pidFile: string; logFile: string } {
  const dir = labRunDir(prefix);
  return { pidFile: path.join(dir, "relay.pid"), logFile: path.join(dir, "relay.log") };
}

/** Marker that identifies our relay in /proc/PID/cmdline. */
function relayMarker(prefix: string, delayMs: number): string {
  return `delayRelay.${__filename.endsWith(".ts") ? "ts" : "js"} --listen ${RELAY_PORT} --to ${UNDERLAY_FABRIC_IP}:${VXLAN_IN_PORT} --delay-ms ${delayMs} --state ${statePath(prefix)}`;
}

async function ensureRelay(prefix: string, delayMs: number): Promise<void> {
  const { pidFile, logFile } = relayFiles(prefix);
  const old = readPidFile(pidFile);
  if (old !== undefined && pidAlive(old)) {
    if (delayMs > 0 && pidCmdline(old).includes(relayMarker(prefix, delayMs))) return;
    await stopPid(old, { expectInCmdline: "delayRelay" });
  }
  fs.rmSync(pidFile, { force: true });
  if (delayMs <= 0) return;

  const script = path.join(__dirname, path.basename(__filename).replace(/^delayLink/, "delayRelay"));
  // Under tsx (tests, lab CLI) the relay is TypeScript too; compiled builds run plain JS.
  const loader = script.endsWith(".ts") ? ["--import", "tsx"] : [];
  const args = [...loader, script, ...relayMarker(prefix, delayMs).split(" ").slice(1)];
  fs.writeFileSync(logFile, "");
  const pid = spawnDetachedInNetns({
    netns: delayNetnsName(prefix),
    command: process.execPath,
    args,
    logFile,
    pidFile,
    cwd: path.resolve(__dirname, "..", ".."),
  });
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (fs.readFileSync(logFile, "utf8").includes("delayRelay listening")) return;
    if (!pidAlive(pid)) break;
    await sleep(25);
  }
  await stopPid(pid);
  throw new Error(`delay relay did not start; log:\n${fs.readFileSync(logFile, "utf8")}`);
}

/** Stops the relay of a lab (if running). */
export async function stopDelayRelay(prefix: string): Promise<void> {
  const { pidFile } = relayFiles(prefix);
  const pid = readPidFile(pidFile);
  if (pid !== undefined) await stopPid(pid, { expectInCmdline: "delayRelay" });
  fs.rmSync(pidFile, { force: true });
}

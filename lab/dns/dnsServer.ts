import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { run, runInNetns } from "../net/exec";
import { pidAlive, readPidFile, sleep, spawnDetachedInNetns, stopPid } from "../net/processes";
import type { DnsRecord, DnsZone } from "./dnsTypes";
import { renderNamedConf, renderRndcConf } from "./namedConf";
import { normalizeZoneName, renderZone } from "./zoneFile";

/** Options of {@link startDns}. */
export interface StartDnsOptions {
  /** Netns to run named in (name or /run/netns path); lo must be up and listenAddress present. */
  netns: string;
  listenAddress: string;
  /** Directory for config, zones, key, log and PID (created). */
  stateDir: string;
  zones: DnsZone[];
}

/** A running lab DNS server. */
export interface DnsServer {
  netns: string;
  listenAddress: string;
  stateDir: string;
  /** PID of named. */
  pid: number;
  /** Replaces a zone's records; resolves once named serves the new serial. */
  setRecords(zone: string, records: DnsRecord[]): Promise<void>;
  /** Serial currently published for a zone. */
  serial(zone: string): number;
  /** Stops named (SIGTERM, SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/** Persisted in stateDir/dns.json so another process can drive the same server. */
interface DnsState {
  netns: string;
  listenAddress: string;
  controlPort: number;
  keyName: string;
  zones: Record<string, { serial: number; records: DnsRecord[] }>;
}

const CONTROL_PORT = 953;
const KEY_NAME = "lab-rndc";

const files = (dir: string) => ({
  state: path.join(dir, "dns.json"),
  conf: path.join(dir, "named.conf"),
  rndcConf: path.join(dir, "rndc.conf"),
  secret: path.join(dir, "rndc.secret"),
  pid: path.join(dir, "lab-named.pid"),
  log: path.join(dir, "named.log"),
  zone: (zone: string) => path.join(dir, "zones", `${zone}.zone`),
});

function netnsName(netns: string): string {
  return netns.includes("/") ? path.basename(netns) : netns;
}

function readState(stateDir: string): DnsState | undefined {
  try {
    return JSON.parse(fs.readFileSync(files(stateDir).state, "utf8")) as DnsState;
  } catch {
    return undefined;
  }
}

function writeState(stateDir: string, state: DnsState): void {
  const file = files(stateDir).state;
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + "\n");
  fs.renameSync(`${file}.tmp`, file);
}

function keySecret(stateDir: string): string {
  const file = files(stateDir).secret;
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    const secret = randomBytes(32).toString("base64");
    fs.writeFileSync(file, secret + "\n", { mode: 0o600 });
    return secret;
  }
}

/** Serial for the next version: +1, but never below "now" so a lost state file cannot go backwards. */
function nextSerial(previous: number | undefined): number {
  return previous === undefined ? Math.floor(Date.now() / 1000) : previous + 1;
}

/**
 * Writes a zone file atomically after named-checkzone accepted it, with an
 * mtime in the future: named skips a reload when the file does not look
 * newer than its last load, and two writes can land in one clock tick.
 */
async function writeZoneFile(stateDir: string, state: DnsState, zone: string): Promise<void> {
  const z = state.zones[zone];
  if (!z) throw new Error(`unknown zone ${zone}`);
  const text = renderZone({ name: zone, records: z.records }, { serial: z.serial, nsAddress: state.listenAddress });
  const file = files(stateDir).zone(zone);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, text);
  const check = await run("named-checkzone", ["-q", zone, tmp], { allowFail: true });
  if (check.code !== 0) {
    const detail = (await run("named-checkzone", [zone, tmp], { allowFail: true })).stdout.trim();
    fs.rmSync(tmp, { force: true });
    throw new Error(`zone ${zone} rejected by named-checkzone:\n${detail}`);
  }
  const future = new Date(Date.now() + 2000);
  fs.utimesSync(tmp, future, future);
  fs.renameSync(tmp, file);
}

/** Asks the server for a zone's SOA serial from inside its netns (undefined if no answer). */
export async function servedSerial(netns: string, server: string, zone: string): Promise<number | undefined> {
  const r = await runInNetns(netnsName(netns), "dig", ["+norec", "+time=1", "+tries=1", "+short", `@${server}`, zone, "SOA"], {
    allowFail: true,
  });
  const serial = Number(r.stdout.trim().split(/\s+/)[2]);
  return r.code === 0 && Number.isInteger(serial) ? serial : undefined;
}

async function waitForSerial(state: DnsState, zone: string, serial: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await servedSerial(state.netns, state.listenAddress, zone)) === serial) return true;
    await sleep(50);
  }
  return false;
}

function logTail(stateDir: string): string {
  try {
    return fs.readFileSync(files(stateDir).log, "utf8").split("\n").slice(-25).join("\n");
  } catch {
    return "(no log)";
  }
}

const queues = new Map<string, Promise<unknown>>();

/** Serialises changes per server (setRecords calls may overlap). */
function serialised<T>(stateDir: string, fn: () => Promise<T>): Promise<T> {
  const next = (queues.get(stateDir) ?? Promise.resolve()).catch(() => undefined).then(fn);
  queues.set(stateDir, next);
  return next;
}

function makeHandle(stateDir: string, pid: number): DnsServer {
  const state = readState(stateDir);
  if (!state) throw new Error(`no DNS state in ${stateDir}`);
  return {
    netns: state.netns,
    listenAddress: state.listenAddress,
    stateDir,
    pid,
    serial: (zone) => readState(stateDir)?.zones[normalizeZoneName(zone)]?.serial ?? 0,
    setRecords: (zone, records) => setRecords(stateDir, zone, records),
    stop: () => stopDnsFromState(stateDir),
  };
}

async function setRecords(stateDir: string, zoneName: string, records: DnsRecord[]): Promise<void> {
  const zone = normalizeZoneName(zoneName);
  await serialised(stateDir, async () => {
    const state = readState(stateDir);
    if (!state || !state.zones[zone]) throw new Error(`zone ${zone} is not served from ${stateDir}`);
    const serial = nextSerial(state.zones[zone].serial);
    const candidate: DnsState = { ...state, zones: { ...state.zones, [zone]: { serial, records: [...records] } } };
    await writeZoneFile(stateDir, candidate, zone);
    writeState(stateDir, candidate);
    for (let attempt = 0; attempt < 3; attempt++) {
      await runInNetns(state.netns, "rndc", ["-c", files(stateDir).rndcConf, "reload", zone], { allowFail: attempt < 2 });
      if (await waitForSerial(candidate, zone, serial, 3000)) return;
    }
    throw new Error(`named did not serve serial ${serial} of ${zone}; log:\n${logTail(stateDir)}`);
  });
}

/**
 * Starts (or reuses) BIND 9 as the lab's authoritative DNS inside `netns`,
 * detached, with its PID in stateDir. If a server from the same stateDir is
 * already running with the same netns, address and zone names, its records
 * are updated instead. Resolves once every zone's serial is served.
 */
export async function startDns(opts: StartDnsOptions): Promise<DnsServer> {
  const stateDir = path.resolve(opts.stateDir);
  const netns = netnsName(opts.netns);
  const zoneNames = opts.zones.map((z) => normalizeZoneName(z.name));
  if (new Set(zoneNames).size !== zoneNames.length) throw new Error("startDns: duplicate zone");
  fs.mkdirSync(path.join(stateDir, "zones"), { recursive: true });
  const f = files(stateDir);

  const previous = readState(stateDir);
  const runningPid = readPidFile(f.pid);
  if (previous && runningPid !== undefined && pidAlive(runningPid)) {
    const same =
      previous.netns === netns &&
      previous.listenAddress === opts.listenAddress &&
      JSON.stringify(Object.keys(previous.zones).sort()) === JSON.stringify([...zoneNames].sort());
    if (same) {
      for (const z of opts.zones) await setRecords(stateDir, z.name, z.records);
      return makeHandle(stateDir, runningPid);
    }
    await stopDnsFromState(stateDir);
  }

  const state: DnsState = { netns, listenAddress: opts.listenAddress, controlPort: CONTROL_PORT, keyName: KEY_NAME, zones: {} };
  opts.zones.forEach((z, i) => {
    const name = zoneNames[i] as string;
    state.zones[name] = { serial: nextSerial(previous?.zones[name]?.serial), records: [...z.records] };
  });
  for (const zone of zoneNames) await writeZoneFile(stateDir, state, zone);
  const control = { port: CONTROL_PORT, keyName: KEY_NAME, keySecret: keySecret(stateDir) };
  fs.writeFileSync(
    f.conf,
    renderNamedConf({ listenAddress: opts.listenAddress, stateDir, zones: zoneNames.map((name) => ({ name, file: f.zone(name) })), control }),
    { mode: 0o600 },
  );
  fs.writeFileSync(f.rndcConf, renderRndcConf(control), { mode: 0o600 });
  await run("named-checkconf", ["-z", f.conf]);
  writeState(stateDir, state);

  fs.writeFileSync(f.log, "");
  // -g: foreground, log to stderr (our log file); -4: the lab is IPv4-only; -n 1: one worker is plenty.
  const pid = spawnDetachedInNetns({ netns, command: "named", args: ["-g", "-4", "-n", "1", "-c", f.conf], logFile: f.log, pidFile: f.pid });
  for (const zone of zoneNames) {
    const serial = state.zones[zone]?.serial as number;
    if (!(await waitForSerial(state, zone, serial, 15_000)) || !pidAlive(pid)) {
      await stopPid(pid);
      throw new Error(`named did not come up serving ${zone}; log:\n${logTail(stateDir)}`);
    }
  }
  return makeHandle(stateDir, pid);
}

/** Handle of a server started earlier (possibly by another process); throws if it is not running. */
export function openDns(stateDir: string): DnsServer {
  const dir = path.resolve(stateDir);
  const pid = readPidFile(files(dir).pid);
  if (pid === undefined || !pidAlive(pid)) throw new Error(`no running lab DNS in ${dir}`);
  return makeHandle(dir, pid);
}

/** Stops the server recorded in stateDir; nothing running is fine. Zone state is kept. */
export async function stopDnsFromState(stateDir: string): Promise<void> {
  const f = files(path.resolve(stateDir));
  const pid = readPidFile(f.pid);
  if (pid !== undefined) await stopPid(pid, { graceMs: 5000, expectInCmdline: "named" });
  fs.rmSync(f.pid, { force: true });
}

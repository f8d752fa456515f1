import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { withFileLock } from "../image/fileLock";
import { run, runInNetns } from "../net/exec";
import { pidAlive, readPidFile, sleep, spawnDetachedInNetns, stopPid } from "../net/processes";
import type { DnsRecord, DnsZone, StoredDnsRecord } from "./dnsTypes";
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
  /**
   * Zones the running server already serves keep their current records (the
   * `records` given for them are ignored), even when named is restarted for a
   * new set of zones: changes made by another process (the DO API) survive.
   * Only applies while a server from this stateDir runs.
   */
  keepExistingRecords?: boolean;
}

/** What a {@link ZoneChange} returns: the zone's new records (undefined = leave the zone as it is) and the caller's result. */
export interface ZoneUpdate<T> {
  records?: readonly DnsRecord[];
  result: T;
}

/**
 * Computes a zone's new records from its current ones, synchronously, while
 * the store is locked; `newId` hands out a fresh record id. Records given
 * without an id get one when they are stored.
 */
export type ZoneChange<T> = (current: readonly StoredDnsRecord[], newId: () => number) => ZoneUpdate<T>;

/** A running lab DNS server. */
export interface DnsServer {
  netns: string;
  listenAddress: string;
  stateDir: string;
  /** PID of named. */
  pid: number;
  /** Replaces a zone's records; resolves once named serves the new serial. */
  setRecords(zone: string, records: DnsRecord[]): Promise<void>;
  /** {@link updateZoneRecords} on this server; throws if the zone is not served. */
  update<T>(zone: string, change: ZoneChange<T>): Promise<T>;
  /** A zone's current records with their ids ({@link readZoneRecords}); throws if the zone is not served. */
  records(zone: string): StoredDnsRecord[];
  /** Serial currently published for a zone. */
  serial(zone: string): number;
  /** Stops named (SIGTERM, SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/**
 * Persisted in stateDir/dns.json so another process can drive the same
 * server. It is the one store of the lab's DNS records (the `up` process and
 * the DO API server both change it); every read-modify-write holds
 * stateDir/dns.lock (flock) until named serves the result.
 */
interface DnsState {
  netns: string;
  listenAddress: string;
  controlPort: number;
  keyName: string;
  /** Next record id the store hands out (never reused, like DigitalOcean's). */
  nextRecordId?: number;
  zones: Record<string, { serial: number; records: StoredDnsRecord[] }>;
}

const CONTROL_PORT = 953;
const KEY_NAME = "lab-rndc";
/**
 * First id the store hands out to a record that comes without one (one made
 * through the DO API): far above the lab's DigitalOcean model, which numbers
 * its resources from 400001 upwards, so the two never collide.
 */
const FIRST_STORE_ID = 100_000_001;
const LOCK_TIMEOUT_MS = 60_000;

const files = (dir: string) => ({
  state: path.join(dir, "dns.json"),
  conf: path.join(dir, "named.conf"),
  rndcConf: path.join(dir, "rndc.conf"),
  secret: path.join(dir, "rndc.secret"),
  pid: path.join(dir, "lab-named.pid"),
  log: path.join(dir, "named.log"),
  lock: path.join(dir, "dns.lock"),
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

/**
 * Runs `fn` holding the store's lock: queued per stateDir inside this process,
 * flock(2) on stateDir/dns.lock across processes (`up` and the DO API server).
 */
function withDnsLock<T>(stateDir: string, fn: () => Promise<T>): Promise<T> {
  const next = (queues.get(stateDir) ?? Promise.resolve())
    .catch(() => undefined)
    .then(() => withFileLock(files(stateDir).lock, fn, { timeoutMs: LOCK_TIMEOUT_MS }));
  queues.set(stateDir, next);
  return next;
}

/** Record ids handed out from (and recorded in) `state`. */
function idAllocator(state: DnsState): () => number {
  const used = Object.values(state.zones).flatMap((z) => z.records.map((r) => r.id));
  let next = Math.max(state.nextRecordId ?? FIRST_STORE_ID, ...used.map((id) => id + 1));
  return () => {
    const id = next++;
    state.nextRecordId = next;
    return id;
  };
}

/** Gives every record an id (new ones from `newId`); refuses two records with one id. */
function withIds(zone: string, records: readonly DnsRecord[], newId: () => number): StoredDnsRecord[] {
  const seen = new Set<number>();
  return records.map((r) => {
    const id = r.id ?? newId();
    if (!Number.isInteger(id) || id < 1) throw new Error(`zone ${zone}: invalid record id ${id}`);
    if (seen.has(id)) throw new Error(`zone ${zone}: two records with id ${id}`);
    seen.add(id);
    return { ...r, id };
  });
}

/**
 * Stores a zone's new records and makes named serve them (caller holds the
 * lock): zone file checked and written, state written, `rndc reload`, then
 * waits for the new serial. `state` is the current state (its nextRecordId
 * already advanced by `newId`).
 */
async function publishRecords(stateDir: string, state: DnsState, zone: string, records: readonly DnsRecord[], newId: () => number): Promise<void> {
  const previous = state.zones[zone];
  if (!previous) throw new Error(`zone ${zone} is not served from ${stateDir}`);
  const serial = nextSerial(previous.serial);
  const stored = withIds(zone, records, newId);
  const candidate: DnsState = { ...state, zones: { ...state.zones, [zone]: { serial, records: stored } } };
  await writeZoneFile(stateDir, candidate, zone);
  writeState(stateDir, candidate);
  for (let attempt = 0; attempt < 3; attempt++) {
    await runInNetns(state.netns, "rndc", ["-c", files(stateDir).rndcConf, "reload", zone], { allowFail: attempt < 2 });
    if (await waitForSerial(candidate, zone, serial, 3000)) return;
  }
  throw new Error(`named did not serve serial ${serial} of ${zone}; log:\n${logTail(stateDir)}`);
}

/**
 * A zone's current records with their ids, read from the store (the server's
 * stateDir; works from any process, no lock needed: the file is replaced
 * atomically). Undefined if the zone is not served from `stateDir`.
 */
export function readZoneRecords(stateDir: string, zone: string): StoredDnsRecord[] | undefined {
  return readState(path.resolve(stateDir))?.zones[normalizeZoneName(zone)]?.records.map((r) => ({ ...r }));
}

/** Names of the zones served from `stateDir` (empty if none). */
export function servedZones(stateDir: string): string[] {
  return Object.keys(readState(path.resolve(stateDir))?.zones ?? {}).sort();
}

/**
 * Read-modify-write of one zone's records, from any process: under the
 * store's lock, `change` gets the current records; if it returns new ones they
 * are published and this resolves once named serves them (serial bumped).
 * Resolves `{ result }`, or undefined if the zone is not served from `stateDir`.
 */
export async function updateZoneRecords<T>(stateDir: string, zoneName: string, change: ZoneChange<T>): Promise<{ result: T } | undefined> {
  const dir = path.resolve(stateDir);
  const zone = normalizeZoneName(zoneName);
  if (!readState(dir)?.zones[zone]) return undefined;
  return withDnsLock(dir, async () => {
    const state = readState(dir);
    const current = state?.zones[zone];
    if (!state || !current) return undefined;
    const newId = idAllocator(state);
    const update = change(current.records.map((r) => ({ ...r })), newId);
    if (update.records !== undefined) await publishRecords(dir, state, zone, update.records, newId);
    return { result: update.result };
  });
}

async function setRecords(stateDir: string, zone: string, records: readonly DnsRecord[]): Promise<void> {
  await updateOrThrow(stateDir, zone, () => ({ records, result: undefined }));
}

async function updateOrThrow<T>(stateDir: string, zone: string, change: ZoneChange<T>): Promise<T> {
  const done = await updateZoneRecords(stateDir, zone, change);
  if (!done) throw new Error(`zone ${normalizeZoneName(zone)} is not served from ${stateDir}`);
  return done.result;
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
    update: (zone, change) => updateOrThrow(stateDir, zone, change),
    records: (zone) => {
      const records = readZoneRecords(stateDir, zone);
      if (!records) throw new Error(`zone ${normalizeZoneName(zone)} is not served from ${stateDir}`);
      return records;
    },
    stop: () => stopDnsFromState(stateDir),
  };
}

/**
 * Starts (or reuses) BIND 9 as the lab's authoritative DNS inside `netns`,
 * detached, with its PID in stateDir. If a server from the same stateDir is
 * already running with the same netns, address and zone names, its records
 * are updated instead (or kept: {@link StartDnsOptions.keepExistingRecords}).
 * Holds the store's lock throughout. Resolves once every zone's serial is served.
 */
export async function startDns(opts: StartDnsOptions): Promise<DnsServer> {
  const stateDir = path.resolve(opts.stateDir);
  const netns = netnsName(opts.netns);
  const zoneNames = opts.zones.map((z) => normalizeZoneName(z.name));
  if (new Set(zoneNames).size !== zoneNames.length) throw new Error("startDns: duplicate zone");
  fs.mkdirSync(path.join(stateDir, "zones"), { recursive: true });
  const f = files(stateDir);
  const pid = await withDnsLock(stateDir, async () => {
    const previous = readState(stateDir);
    const runningPid = readPidFile(f.pid);
    const running = previous !== undefined && runningPid !== undefined && pidAlive(runningPid);
    if (running) {
      const same =
        previous.netns === netns &&
        previous.listenAddress === opts.listenAddress &&
        JSON.stringify(Object.keys(previous.zones).sort()) === JSON.stringify([...zoneNames].sort());
      if (same) {
        if (!opts.keepExistingRecords) {
          for (const z of opts.zones) {
            const state = readState(stateDir) as DnsState;
            await publishRecords(stateDir, state, normalizeZoneName(z.name), z.records, idAllocator(state));
          }
        }
        return runningPid;
      }
      await stopDnsFromState(stateDir);
    }

    const state: DnsState = { netns, listenAddress: opts.listenAddress, controlPort: CONTROL_PORT, keyName: KEY_NAME, zones: {} };
    if (previous?.nextRecordId !== undefined) state.nextRecordId = previous.nextRecordId;
    const newId = idAllocator(state);
    opts.zones.forEach((z, i) => {
      const name = zoneNames[i] as string;
      const kept = running && opts.keepExistingRecords ? previous.zones[name]?.records : undefined;
      state.zones[name] = { serial: nextSerial(previous?.zones[name]?.serial), records: kept ?? withIds(name, z.records, newId) };
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
    const started = spawnDetachedInNetns({ netns, command: "named", args: ["-g", "-4", "-n", "1", "-c", f.conf], logFile: f.log, pidFile: f.pid });
    for (const zone of zoneNames) {
      const serial = state.zones[zone]?.serial as number;
      if (!(await waitForSerial(state, zone, serial, 15_000)) || !pidAlive(started)) {
        await stopPid(started);
        throw new Error(`named did not come up serving ${zone}; log:\n${logTail(stateDir)}`);
      }
    }
    return started;
  });
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

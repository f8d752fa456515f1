import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { DigitalOceanModel } from "./cloud/digitalOceanModel";
import { programFrom, runProgram } from "./cloud/runProgram";
import { projectName, readStackConfig } from "./cloud/stackConfig";
import { generateEd25519KeyPair } from "./cloud/sshKeys";
import { LabCloud } from "./cloud/labCloud";
import { startDoApi } from "./cloud/doApi";
import * as crypto from "crypto";
import { createFabric, createSpecialHosts, fabricState, hostNetnsName, listFaults, openFabric } from "./net";
import { readFabricState } from "./net/fabricState";
import { readZoneRecords, recordFqdn, servedZones } from "./dns";
import { ensureBaseImage } from "./image";
import { LAB_DIR, LAB_PREFIX, LAB_STACK, PROJECT_DIR } from "./labPaths";
import { LabState, readLabState, writeLabState } from "./labState";
import { labDown } from "./down";
import { preflight } from "./preflight";
import { fetchPebbleRoots, startPebble } from "./acme/pebble";
import { labAcmeIssuer } from "./acme/labIssuer";

const program = programFrom(path.join(PROJECT_DIR, "index.ts"));

/** The lab operator's key, made once and kept: `up` adds it to the stack's sshPublicKeys. */
function operatorKey(): string {
    const dir = path.join(LAB_DIR, "keys");
    const pub = path.join(dir, "operator.pub");
    if (!fs.existsSync(pub)) {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        const pair = generateEd25519KeyPair("lab-operator");
        fs.writeFileSync(path.join(dir, "operator"), pair.privateKeyOpenssh, { mode: 0o600 });
        fs.writeFileSync(pub, pair.publicKeyOpenssh);
    }
    return fs.readFileSync(pub, "utf8").trim();
}

function writeSecret(file: string, value: string): string {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, `${value}\n`, { mode: 0o600 });
    return file;
}

function waitHealthy(clientNetns: string, url: string, timeoutMs: number): number {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
        const r = spawnSync("ip", ["netns", "exec", clientNetns, "curl", "-fsS", "-o", "/dev/null", "--max-time", "2", url]);
        if (r.status === 0) return Date.now() - started;
        spawnSync("sleep", ["0.5"]);
    }
    throw new Error(`${url} did not answer 200 from the client within ${timeoutMs / 1000} s`);
}

function table(rows: string[][]): string {
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ")).join("\n");
}

/**
 * The round-robin (A/AAAA) records BIND serves now, one row per name and type, read from the DNS
 * server's store: a record the failover agent withdrew through the DO API is missing here.
 */
export function describeRoundRobin(dnsStateDir: string): string[] {
    const rows: string[][] = [];
    for (const zone of servedZones(dnsStateDir)) {
        const sets = new Map<string, string[]>();
        for (const r of readZoneRecords(dnsStateDir, zone) ?? []) {
            if (r.type !== "A" && r.type !== "AAAA") continue;
            const key = `${recordFqdn(zone, r.name)} ${r.type}`;
            sets.set(key, [...(sets.get(key) ?? []), `${r.value} (id ${r.id})`]);
        }
        for (const [key, values] of sets) rows.push([...key.split(" "), values.join(", ")]);
    }
    return rows.length === 0 ? [] : ["", "round-robin DNS records (A/AAAA) served now:", table([["NAME", "TYPE", "ADDRESSES (RECORD ID)"], ...rows])];
}

/** Prints the summary a user reads after `up` (and `status`). */
/** Faults in force (`npm run lab -- fault ...`), if any. */
function describeFaults(prefix: string): string[] {
    if (!readFabricState(prefix)) return [];
    const fabric = openFabric(prefix);
    const f = listFaults(fabric);
    const vpcs = fabricState(fabric).vpcs;
    const where = (vpc: string) => `${vpcs[vpc]?.region ?? "?"} (${vpc})`;
    const lines = [
        ...f.blackholed.map((h) => `  ${h} blackholed`),
        ...f.partitions.map(([a, b]) => `  ${where(a)} | ${where(b)} partitioned`),
        ...Object.entries(f.extraLatencyMs).map(([pair, ms]) => `  ${pair.replace("|", "-")}: +${ms} ms one way`),
    ];
    return lines.length === 0 ? [] : ["", "faults in force (npm run lab -- heal undoes them):", ...lines];
}

export function describeLab(s: LabState): string {
    return [
        `site: ${s.siteUrl}  (resolve through the lab DNS ${s.dnsServer}; the browser runs in the client host)`,
        `DigitalOcean API (lab): ${s.doApiUrl}  token in ${s.doApiTokenFile}; metadata at http://169.254.169.254 in every droplet`,
        `entry points: ${s.entryPoints.map((e) => `${e.region} ${e.ipv4}`).join(", ")}`,
        "",
        table([["HOST", "ROLE", "REGION", "PUBLIC", "PRIVATE"], ...s.hosts.map((h) => [h.name, h.role, h.region, h.publicIpv4, h.privateIpv4])]),
        // A state.json written before dnsStateDir existed still describes a lab whose DNS is in labDir/dns.
        ...describeRoundRobin(s.dnsStateDir ?? path.join(s.labDir, "dns")),
        ...describeFaults(s.prefix),
        "",
        `bring-up: ${s.bringUpSeconds.toFixed(1)} s, memory of all droplets: ${s.memoryMb} MiB (PSS)`,
        `reach it:  npm run lab -- exec client -- curl -s --cacert ${s.acmeRootFile} ${new URL("/whoami.json", s.siteUrl).href}`,
        "           npm run lab -- exec HOST -- CMD     npm run lab -- status [--json]     npm run lab -- down",
    ].join("\n");
}

/**
 * Deploys the stack's config onto this machine by running the real program against the lab's
 * DigitalOcean, then waits until every entry point serves the site from the client host.
 */
export async function labUp(opts: { stack?: string; log: (line: string) => void }): Promise<LabState> {
    const log = opts.log;
    const stack = opts.stack ?? LAB_STACK;
    preflight(log);
    if (readLabState() || fs.existsSync(path.join(LAB_DIR, "hosts"))) {
        log("a lab is already here: taking it down first");
        await labDown({ log });
    }
    const t0 = Date.now();
    const project = projectName(PROJECT_DIR);
    const config = readStackConfig(PROJECT_DIR, stack);
    const keysKey = `${project}:sshPublicKeys`;
    config[keysKey] = JSON.stringify([...(JSON.parse(config[keysKey] ?? "[]") as string[]), operatorKey()]);
    // What an operator sets as secrets for production: here a token of the lab's API (started below).
    const doApiToken = crypto.randomBytes(24).toString("hex");
    config[`${project}:reservedIpToken`] = doApiToken;
    config[`${project}:dnsToken`] = doApiToken;

    // A first, side-effect-free run tells which packages the droplets install: the image bakes them.
    const dry = new DigitalOceanModel();
    await runProgram({ project, stack, config, mocks: dry.mocks(), program });
    const image = await ensureBaseImage({ packages: LabCloud.packagesOf(dry), log });
    log(`image ready: ${image.rootfs}`);

    const fabric = await createFabric({ prefix: LAB_PREFIX, interRegionDelayMs: 40 });
    const plan = fabricState(fabric).plan;
    await createSpecialHosts(fabric, plan);
    const adminNetns = hostNetnsName(LAB_PREFIX, "admin");
    // The ACME CA (pebble, Let's Encrypt's test server) on the admin host, asking the lab's BIND
    // for challenge records; its root is the one CA the lab's clients trust for the site.
    const pebble = await startPebble({ netns: adminNetns, listenAddress: plan.adminIp, dnsServer: `${plan.dnsIp}:53`, stateDir: path.join(LAB_DIR, "acme") });
    const acmeRootFile = path.join(LAB_DIR, "acme", "root.pem");
    fs.writeFileSync(acmeRootFile, (await fetchPebbleRoots(pebble)).rootPem);
    log(`ACME CA (pebble) at ${pebble.directoryUrl}, root in ${acmeRootFile}`);
    const cloud: LabCloud = new LabCloud({
        fabric, plan, rootfs: image.rootfs, labDir: LAB_DIR, log,
        acmeIssuer: labAcmeIssuer({ pebble, netns: adminNetns, dnsStateDir: path.join(LAB_DIR, "dns"), zone: String(config[`${project}:domain`]), dnsToken: doApiToken }),
    });
    // The DigitalOcean metadata service and the API paths the stack's own agents call.
    cloud.doApi = await startDoApi({
        fabric,
        stateDir: path.join(LAB_DIR, "doapi"),
        token: doApiToken,
        droplets: () => cloud.hosts.map((h) => ({ id: Number(h.id), name: h.name, publicIpv4: h.publicIpv4, privateIpv4: h.privateIpv4, region: h.region, tags: [...h.tags] })),
        reservedIps: () => cloud.model.ofKind("ReservedIp").map((r) => ({ ip: r.id, region: r.inputs.region as string })),
        // Domain records: the API reads and changes the DNS server's own store, as the program's DnsRecords do.
        dnsStateDir: cloud.dnsStateDir,
    });
    log(`DigitalOcean metadata at http://169.254.169.254 in every droplet, API at ${cloud.doApi.url}`);
    config[`${project}:digitaloceanApiUrl`] = cloud.doApi.url;
    const exports = await runProgram({ project, stack, config, mocks: cloud.mocks(), program });

    const clientNetns = hostNetnsName(LAB_PREFIX, "client");
    const entryPoints = exports.entryPoints as { region: string; ipv4: string }[];
    for (const e of entryPoints) {
        const ms = waitHealthy(clientNetns, `http://${e.ipv4}/lb-health`, 120_000);
        log(`entry point ${e.region} ${e.ipv4} healthy (${(ms / 1000).toFixed(1)} s after wiring)`);
    }
    const memoryKiB = cloud.hosts.reduce((sum, h) => sum + h.running.memory().pssKiB, 0);
    const state: LabState = {
        version: 1,
        prefix: LAB_PREFIX,
        stack,
        siteName: String(exports.siteName),
        siteUrl: String(exports.siteUrl),
        entryPoints,
        dnsServer: plan.dnsIp,
        clientNetns,
        adminNetns,
        labDir: LAB_DIR,
        hosts: cloud.hosts.map((h) => ({
            name: h.name, role: h.role, region: h.region, publicIpv4: h.publicIpv4, privateIpv4: h.privateIpv4,
            netns: h.netns, leaderPid: h.running.leaderPid, stateDir: h.running.stateDir,
        })).sort((a, b) => a.name.localeCompare(b.name)),
        bringUpSeconds: (Date.now() - t0) / 1000,
        memoryMb: Math.round(memoryKiB / 1024),
        dnsStateDir: cloud.dnsStateDir,
        doApiUrl: cloud.doApi.url,
        doApiTokenFile: writeSecret(path.join(LAB_DIR, "keys", "do-api-token"), doApiToken),
        acmeRootFile,
    };
    cloud.doApi.detach();
    writeLabState(state);
    return state;
}

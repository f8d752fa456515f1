import * as fs from "fs";
import * as path from "path";
import { LAB_STATE_FILE } from "./labPaths";

/** One droplet of a running lab, as `status --json` reports it. */
export interface LabHostState {
    readonly name: string;
    readonly role: string;
    readonly region: string;
    readonly publicIpv4: string;
    readonly privateIpv4: string;
    readonly netns: string;
    /** PID of the container's init (for `exec`). */
    readonly leaderPid: number;
    readonly stateDir: string;
}

/** What `up` leaves for `status`, `exec`, `down` and the tests. */
export interface LabState {
    readonly version: 1;
    readonly prefix: string;
    readonly stack: string;
    readonly siteName: string;
    readonly siteUrl: string;
    readonly entryPoints: readonly { region: string; ipv4: string }[];
    readonly dnsServer: string;
    /**
     * State dir of the lab's DNS server: the one store of the zones' records (program and DO API
     * alike); read the records BIND serves now with lab/dns `readZoneRecords(dnsStateDir, zone)`.
     */
    readonly dnsStateDir: string;
    readonly clientNetns: string;
    readonly adminNetns: string;
    readonly labDir: string;
    readonly hosts: readonly LabHostState[];
    readonly bringUpSeconds: number;
    readonly memoryMb: number;
    /** The lab's DigitalOcean API (reserved IP actions), reachable from droplets. */
    readonly doApiUrl: string;
    /** Root-only file holding the API's bearer token. */
    readonly doApiTokenFile: string;
    /**
     * PEM of the lab ACME CA's root (pebble makes a new one per run): the one CA a lab client
     * trusts for `https://` + siteName (curl --cacert, Node `ca`, Chromium's NSS db).
     */
    readonly acmeRootFile: string;
}

export function readLabState(file = LAB_STATE_FILE): LabState | undefined {
    if (!fs.existsSync(file)) return undefined;
    return JSON.parse(fs.readFileSync(file, "utf8")) as LabState;
}

export function writeLabState(state: LabState, file = LAB_STATE_FILE): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
    fs.renameSync(`${file}.tmp`, file);
}

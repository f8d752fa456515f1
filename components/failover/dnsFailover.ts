import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { renderCloudConfig } from "../cloudinit/cloudConfig";
import { assertRegionSlug, TierArgs, TierHost, tierConnection, tierDroplets, validateDropletArgs, validateTierRegion } from "../droplet/tier";
import { validateEntryPoints, validateRecordArgs } from "../dns/roundRobinDns";
import {
    assertApiUrl, assertArgs, assertHostName, assertHttpUrlInput, assertInput, assertInputList, assertInt, assertList, assertRecord, assertString, fail, isNonEmptyString, show,
} from "../validation/assert";
import { HostAddresses } from "../droplet/roleDroplet";
import { PORTS } from "../firewall/firewallMatrix";
import { wireHost } from "../wiring/hostWiring";
import { WiredCommand, WiredFile } from "../wiring/wiringScript";
import { AGENT_PATHS, AGENT_UNIT } from "./agent/settings";
import { agentBundle } from "./agentBundle";
import { DEFAULT_TIMING, FailoverTiming, renderAgentSettings, renderAgentUnit } from "./agentFiles";

/** An entry point the agents watch and whose records they withdraw and restore. */
export interface WatchedEntryPoint {
    readonly region: string;
    readonly ipv4: pulumi.Input<string>;
    readonly ipv6?: pulumi.Input<string>;
    /** Answers 200 while the entry point serves (HAProxy's monitor URI on the reserved IP). */
    readonly healthUrl: pulumi.Input<string>;
}

/** A droplet already in the stack that runs an agent (a load balancer; it needs Node.js installed). */
export interface Observer {
    readonly host: HostAddresses;
    /** Resources the agent's wiring waits for (e.g. the host's own wiring). */
    readonly after?: readonly pulumi.Resource[];
}

export interface DnsFailoverArgs extends Pick<TierArgs, "deployPrivateKey" | "authorizedKeys"> {
    readonly domain: string;
    /** "@" or a label: the round-robin records' name. */
    readonly recordName: string;
    /** TTL of records the agents re-create (the records' own TTL). */
    readonly ttl: number;
    /** Host header of the health probes. */
    readonly siteName: string;
    readonly entryPoints: readonly WatchedEntryPoint[];
    readonly observers: readonly Observer[];
    /**
     * A small droplet in another region that only votes. Needed with two regions: without it the
     * survivors of a dead region are only half of the observers, and a withdrawal needs a majority.
     */
    readonly witness?: Omit<TierArgs, "perRegion" | "regions" | "deployPrivateKey" | "authorizedKeys"> & {
        readonly region: TierArgs["regions"][number];
        /**
         * Debian packages the witness runs besides the agent's (default none), e.g.
         * galera-arbitrator-4 when it is also the database cluster's tie-breaking vote.
         */
        readonly packages?: readonly string[];
        /**
         * The witness droplet, when the caller created it already with {@link createWitness} (e.g.
         * because the database's arbitrator must be wired onto it before this component exists).
         */
        readonly host?: TierHost;
    };
    /** DigitalOcean token scoped to the domain's records (a secret). Without it the agents only log. */
    readonly apiToken?: pulumi.Input<string>;
    /** API base URL (default https://api.digitalocean.com). */
    readonly apiUrl?: string;
    readonly timing?: FailoverTiming;
    /**
     * What every agent waits for: pass the round-robin records, or an agent that starts first sees
     * no record, restores one, and the program's own record then duplicates it.
     */
    readonly waitFor?: readonly pulumi.Resource[];
}

/**
 * Health-checked round-robin DNS: an agent on every observer probes every entry point through its
 * public address and publishes its verdicts; the first observer (by name) among those hearing a
 * majority withdraws a record when a majority of ALL observers calls it down, restores it when a
 * majority calls it up, and never withdraws the last one.
 */
export class DnsFailover extends pulumi.ComponentResource {
    /** Observers' names, in the order the agents elect the actor. */
    public readonly observerNames: string[];
    /** The witness droplet, when there is one. */
    public readonly witness: TierHost | undefined;
    /** Each agent's status page (private address): verdicts, votes heard, last decision. */
    public readonly statusUrls: pulumi.Output<string[]>;
    /** "acting" with a token, else "observe-only". */
    public readonly mode: "acting" | "observe-only";

    public static validateArgs(args: DnsFailoverArgs): void {
        const where = "DnsFailoverArgs";
        const a = assertArgs(where, args);
        validateRecordArgs(where, a);
        assertHostName(`${where}.siteName`, a.siteName);
        validateEntryPoints(`${where}.entryPoints`, a.entryPoints, "failover needs at least 2", (f, e) => {
            assertHttpUrlInput(`${f}.healthUrl`, e.healthUrl);
        });
        assertInput(`${where}.deployPrivateKey`, a.deployPrivateKey, isNonEmptyString, "must be the deploy key's private half (a string or an Output of one)");
        assertInputList(`${where}.authorizedKeys`, a.authorizedKeys, isNonEmptyString, "must be a list of OpenSSH public keys (strings or Outputs)");
        assertList(`${where}.observers`, a.observers, "must be a list of { host, after? }: the droplets that run an agent");
        const observerRegions = a.observers.map((o, i) => {
            assertRecord(`${where}.observers[${i}]`, o, "must be { host, after? }");
            assertRecord(`${where}.observers[${i}].host`, o.host, "must be a host of a tier (name, region, addresses)");
            assertString(`${where}.observers[${i}].host.name`, o.host.name, "must be the droplet's name", (n) => n.length > 0);
            assertRegionSlug(`${where}.observers[${i}].host.region`, o.host.region);
            if (o.after !== undefined) assertList(`${where}.observers[${i}].after`, o.after, "must be a list of resources, or left out");
            return o.host.region;
        });
        const regions = new Set(observerRegions);
        const observers = a.observers.length + (a.witness !== undefined ? 1 : 0);
        if (observers < 3) {
            const witness = a.witness !== undefined ? `with ${where}.witness` : `without ${where}.witness`;
            throw new Error(`${where}.observers: ${observers} observer(s) ${witness} cannot out-vote a dead one; give at least 3, e.g. add ${a.witness !== undefined ? "load balancers" : "a witness"}`);
        }
        if (regions.size < 3 && a.witness === undefined) {
            throw new Error(`${where}.witness is required when the observers span only ${regions.size} regions (${[...regions].join(", ")}): set witness to a droplet in another region`);
        }
        if (a.witness !== undefined) {
            assertRecord(`${where}.witness`, a.witness, "must be the witness droplet's { region, size, image, sshKeys, tags, ipv6? }, or left out");
            validateTierRegion(`${where}.witness.region`, a.witness.region);
            validateDropletArgs(`${where}.witness`, { ...a.witness, deployPrivateKey: a.deployPrivateKey, authorizedKeys: a.authorizedKeys });
            const packages: unknown = a.witness.packages;
            if (packages !== undefined && (!Array.isArray(packages) || !packages.every((p) => typeof p === "string" && /^[a-z0-9][a-z0-9+.-]+$/.test(p)))) {
                throw new Error(`${where}.witness.packages ${show(packages)}: must be a list of Debian package names, or left out`);
            }
            const shared = observerRegions.indexOf(a.witness.region.region);
            if (shared >= 0) {
                throw new Error(`${where}.witness.region ${show(a.witness.region.region)} is also the region of ${where}.observers[${shared}]; the witness must fail separately`);
            }
        }
        if (a.apiToken !== undefined) assertInput(`${where}.apiToken`, a.apiToken, isNonEmptyString, "must be a DigitalOcean API token (a string or an Output of one), or left out");
        if (a.apiUrl !== undefined) assertApiUrl(`${where}.apiUrl`, a.apiUrl);
        if (a.timing !== undefined) {
            const t = a.timing;
            assertRecord(`${where}.timing`, t, "must be { intervalMs, timeoutMs, downAfter, upAfter }, or left out");
            assertInt(`${where}.timing.intervalMs`, t.intervalMs, 200, 60000);
            assertInt(`${where}.timing.timeoutMs`, t.timeoutMs, 100, 59000);
            assertInt(`${where}.timing.downAfter`, t.downAfter, 1, 100);
            assertInt(`${where}.timing.upAfter`, t.upAfter, 1, 100);
            if (t.timeoutMs >= t.intervalMs) fail(`${where}.timing.timeoutMs`, t.timeoutMs, `must be below timing.intervalMs ${t.intervalMs}: a probe must end before the next one starts`);
        }
        if (a.waitFor !== undefined) assertList(`${where}.waitFor`, a.waitFor, "must be a list of resources, or left out");
    }

    constructor(name: string, args: DnsFailoverArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dns-rr-ha:failover:DnsFailover", name, args, opts);
        DnsFailover.validateArgs(args);
        this.mode = args.apiToken === undefined ? "observe-only" : "acting";
        const w = args.witness;
        this.witness = w ? (w.host ?? createWitness(this, name, { ...w, deployPrivateKey: args.deployPrivateKey, authorizedKeys: args.authorizedKeys })) : undefined;

        const all: Observer[] = [...args.observers, ...(this.witness ? [{ host: this.witness }] : [])];
        this.observerNames = all.map((o) => o.host.name);
        const script = agentBundle();
        const token = args.apiToken === undefined ? undefined : pulumi.secret(args.apiToken);
        // Shared by the observers only: a view signed with it is the only vote that counts.
        const voteKey = pulumi.secret(new random.RandomPassword(`${name}-vote-key`, { length: 64, special: false }, { parent: this }).result);
        const observerHosts = pulumi.all(all.map((o) => o.host.privateIpv4)).apply((ips) => all.map((o, i) => ({ name: o.host.name, privateIpv4: ips[i]! })));
        const entryPoints = pulumi.all(args.entryPoints.map((e) => pulumi.all([e.ipv4, e.ipv6, e.healthUrl]).apply(([ipv4, ipv6, healthUrl]) => ({
            region: e.region, ipv4, healthUrl, ...(ipv6 === undefined ? {} : { ipv6 }),
        }))));

        all.forEach((o, i) => {
            const files = pulumi.all([observerHosts, entryPoints, token, voteKey]).apply(([hosts, eps, apiToken, key]): WiredFile[] => [
                { path: AGENT_PATHS.script, mode: "0755", content: script },
                {
                    path: AGENT_PATHS.settings,
                    mode: "0644",
                    content: renderAgentSettings({
                        self: hosts[i]!, observers: hosts, port: PORTS.dnsAgent, entryPoints: eps,
                        siteName: args.siteName, domain: args.domain, recordName: args.recordName, ttl: args.ttl,
                        timing: args.timing ?? DEFAULT_TIMING, apiUrl: args.apiUrl ?? "https://api.digitalocean.com",
                    }),
                },
                ...(apiToken === undefined ? [] : [{ path: AGENT_PATHS.token, mode: "0600", content: `${apiToken}\n` }]),
                { path: AGENT_PATHS.voteKey, mode: "0600", content: `${key}\n` },
                { path: AGENT_PATHS.unit, mode: "0644", content: renderAgentUnit() },
            ]);
            const commands: WiredCommand[] = [
                { run: "command -v node >/dev/null || { echo 'Node.js is missing: install the nodejs package (cloud-init packages)' >&2; exit 1; }" },
                // Without a token the agent only observes; a token removed from the config must not linger.
                ...(args.apiToken === undefined ? [{ run: `rm -f ${AGENT_PATHS.token}` }] : []),
                { run: "systemctl daemon-reload", when: [AGENT_PATHS.unit] },
                { run: `systemctl enable ${AGENT_UNIT}` },
                { run: `systemctl restart ${AGENT_UNIT} || { journalctl -u ${AGENT_UNIT} -n 30 --no-pager >&2; exit 1; }`, when: [AGENT_PATHS.script, AGENT_PATHS.settings, AGENT_PATHS.voteKey, ...(args.apiToken === undefined ? [] : [AGENT_PATHS.token]), AGENT_PATHS.unit] },
                { run: `systemctl start ${AGENT_UNIT}` },
            ];
            wireHost(`${o.host.name}-dns-agent`, {
                connection: tierConnection(args, o.host),
                description: `DNS failover agent on ${o.host.name}`,
                files,
                commands,
            }, { parent: this, dependsOn: [...(args.waitFor ?? []), ...(o.after ?? []), ...(this.witness && o.host === this.witness ? [this.witness.droplet] : [])] });
        });
        this.statusUrls = observerHosts.apply((hosts) => hosts.map((h) => `http://${h.privateIpv4}:${PORTS.dnsAgent}/status`));
        this.registerOutputs({ observerNames: this.observerNames, statusUrls: this.statusUrls, mode: this.mode });
    }
}

/**
 * The witness droplet of a {@link DnsFailover} named `name` (`${name}-witness`): the agent's
 * Node.js plus `packages`, under `parent`.
 */
export function createWitness(parent: pulumi.Resource, name: string, w: NonNullable<DnsFailoverArgs["witness"]> & Pick<TierArgs, "deployPrivateKey" | "authorizedKeys">): TierHost {
    return tierDroplets(parent, name, "witness", { ...w, regions: [w.region], perRegion: 1 },
        (region) => renderCloudConfig({ role: "witness", region, packages: ["nodejs", ...(w.packages ?? [])], files: [], runcmd: [] }), () => `${name}-witness`)[0]!;
}

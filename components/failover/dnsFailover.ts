import * as pulumi from "@pulumi/pulumi";
import { renderCloudConfig } from "../cloudinit/cloudConfig";
import { TierArgs, TierHost, tierConnection, tierDroplets, validateTierArgs } from "../droplet/tier";
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
    readonly witness?: Omit<TierArgs, "perRegion" | "regions" | "deployPrivateKey" | "authorizedKeys"> & { readonly region: TierArgs["regions"][number] };
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
        if (args.entryPoints.length < 2) throw new Error(`${where}.entryPoints has ${args.entryPoints.length}; failover needs at least 2`);
        const observers = args.observers.length + (args.witness ? 1 : 0);
        if (observers < 3) {
            throw new Error(`${where}.observers: ${observers} observer(s) (with the witness) cannot out-vote a dead one; give at least 3, e.g. add ${args.witness ? "load balancers" : "a witness"}`);
        }
        const regions = new Set(args.observers.map((o) => o.host.region));
        if (regions.size < 3 && !args.witness) {
            throw new Error(`${where}.witness is required when the observers span only ${regions.size} regions (${[...regions].join(", ")}): set witness to a droplet in another region`);
        }
        if (args.witness) {
            validateTierArgs(`${where}.witness`, { ...args.witness, regions: [args.witness.region], perRegion: 1, deployPrivateKey: args.deployPrivateKey, authorizedKeys: args.authorizedKeys }, 1);
            if (regions.has(args.witness.region.region)) {
                throw new Error(`${where}.witness.region "${args.witness.region.region}" is also an observer's region; the witness must fail separately`);
            }
        }
        const t = args.timing ?? DEFAULT_TIMING;
        if (t.timeoutMs >= t.intervalMs) throw new Error(`${where}.timing.timeoutMs ${t.timeoutMs} must be below timing.intervalMs ${t.intervalMs}`);
        if (!Number.isInteger(args.ttl) || args.ttl < 30) throw new Error(`${where}.ttl ${args.ttl} must be a whole number of seconds, at least 30`);
    }

    constructor(name: string, args: DnsFailoverArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dns-rr-ha:failover:DnsFailover", name, args, opts);
        DnsFailover.validateArgs(args);
        this.mode = args.apiToken === undefined ? "observe-only" : "acting";
        const w = args.witness;
        this.witness = w ? tierDroplets(this, name, "witness", {
            ...w, regions: [w.region], perRegion: 1, deployPrivateKey: args.deployPrivateKey, authorizedKeys: args.authorizedKeys,
        }, (region) => renderCloudConfig({ role: "witness", region, packages: ["nodejs"], files: [], runcmd: [] }), () => `${name}-witness`)[0] : undefined;

        const all: Observer[] = [...args.observers, ...(this.witness ? [{ host: this.witness }] : [])];
        this.observerNames = all.map((o) => o.host.name);
        const script = agentBundle();
        const token = args.apiToken === undefined ? undefined : pulumi.secret(args.apiToken);
        const observerHosts = pulumi.all(all.map((o) => o.host.privateIpv4)).apply((ips) => all.map((o, i) => ({ name: o.host.name, privateIpv4: ips[i]! })));
        const entryPoints = pulumi.all(args.entryPoints.map((e) => pulumi.all([e.ipv4, e.ipv6, e.healthUrl]).apply(([ipv4, ipv6, healthUrl]) => ({
            region: e.region, ipv4, healthUrl, ...(ipv6 === undefined ? {} : { ipv6 }),
        }))));

        all.forEach((o, i) => {
            const files = pulumi.all([observerHosts, entryPoints, token]).apply(([hosts, eps, apiToken]): WiredFile[] => [
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
                { path: AGENT_PATHS.unit, mode: "0644", content: renderAgentUnit() },
            ]);
            const commands: WiredCommand[] = [
                { run: "command -v node >/dev/null || { echo 'Node.js is missing: install the nodejs package (cloud-init packages)' >&2; exit 1; }" },
                // Without a token the agent only observes; a token removed from the config must not linger.
                ...(args.apiToken === undefined ? [{ run: `rm -f ${AGENT_PATHS.token}` }] : []),
                { run: "systemctl daemon-reload", when: [AGENT_PATHS.unit] },
                { run: `systemctl enable ${AGENT_UNIT}` },
                { run: `systemctl restart ${AGENT_UNIT} || { journalctl -u ${AGENT_UNIT} -n 30 --no-pager >&2; exit 1; }`, when: [AGENT_PATHS.script, AGENT_PATHS.settings, ...(args.apiToken === undefined ? [] : [AGENT_PATHS.token]), AGENT_PATHS.unit] },
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

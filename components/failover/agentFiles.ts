import { AgentEntryPoint, AgentSettings, AGENT_PATHS, parseAgentSettings } from "./agent/settings";

/** How fast the agents react; the stack config's `dnsFailover` block. */
export interface FailoverTiming {
    /** Probe (and peer-view) period, ms. */
    readonly intervalMs: number;
    /** Probe deadline, ms; below intervalMs. */
    readonly timeoutMs: number;
    /** Consecutive failed probes before an observer votes an entry point down. */
    readonly downAfter: number;
    /** Consecutive healthy probes before it votes it up again. */
    readonly upAfter: number;
}

/**
 * Down after 5 failed probes (about 5 s): longer than an in-region keepalived failover (2-4 s
 * measured in the lab), so a region whose standby LB takes over keeps its record, yet a dead
 * region leaves DNS within the 10 s aimed at (5 s + one view exchange + one API call).
 */
export const DEFAULT_TIMING: FailoverTiming = { intervalMs: 1000, timeoutMs: 700, downAfter: 5, upAfter: 5 };

/** An agent's place: a droplet that probes and votes. */
export interface ObserverHost {
    readonly name: string;
    readonly privateIpv4: string;
}

export interface AgentSettingsInput {
    readonly self: ObserverHost;
    readonly observers: readonly ObserverHost[];
    readonly port: number;
    readonly entryPoints: readonly AgentEntryPoint[];
    readonly siteName: string;
    readonly domain: string;
    readonly recordName: string;
    readonly ttl: number;
    readonly timing: FailoverTiming;
    readonly apiUrl: string;
}

/**
 * One observer's settings file. A peer's view stays valid for three periods plus a deadline, so one
 * lost fetch does not drop a vote; the actor re-reads the records every 30 s to undo edits by hand.
 */
export function renderAgentSettings(i: AgentSettingsInput): string {
    const settings: AgentSettings = {
        observer: i.self.name,
        listen: { host: i.self.privateIpv4, port: i.port },
        peers: i.observers.filter((o) => o.name !== i.self.name).map((o) => ({ id: o.name, url: `http://${o.privateIpv4}:${i.port}` })),
        entryPoints: i.entryPoints,
        siteName: i.siteName,
        domain: i.domain,
        recordName: i.recordName,
        ttl: i.ttl,
        ...i.timing,
        viewMaxAgeMs: 3 * i.timing.intervalMs + i.timing.timeoutMs,
        reconcileMs: 30_000,
        apiUrl: i.apiUrl,
        tokenFile: AGENT_PATHS.token,
        voteKeyFile: AGENT_PATHS.voteKey,
        // DigitalOcean allows 250/min per token; leave most of it to the operator and other agents.
        apiBudgetPerMinute: 60,
    };
    const text = `${JSON.stringify(settings, null, 2)}\n`;
    // The agent parses the same way at start; failing here fails `pulumi up` instead of a droplet.
    parseAgentSettings(text, `DNS failover settings of ${i.self.name}`);
    return text;
}

/**
 * The agent's systemd unit: restarted whatever happens (it is what withdraws a dead entry point),
 * root only to read the 0600 token, otherwise fenced in: read-only system, no new privileges.
 */
export function renderAgentUnit(): string {
    return [
        "[Unit]",
        "Description=dns-rr-ha DNS failover agent (health-checked round-robin records)",
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        `ExecStart=/usr/bin/node ${AGENT_PATHS.script} ${AGENT_PATHS.settings}`,
        "Restart=always",
        "RestartSec=2",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectControlGroups=yes",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "MemoryMax=128M",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
}

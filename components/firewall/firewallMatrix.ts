import { Role, ROLES } from "../droplet/roleDroplet";
import { GALERA_PORTS } from "../db/myCnf";

/** One inbound rule in DigitalOcean's terms (plain values, so the matrix is testable without Pulumi). */
export interface InboundRule {
    readonly protocol: "tcp" | "udp" | "icmp";
    readonly portRange?: string;
    readonly sourceAddresses?: readonly string[];
    readonly sourceTags?: readonly string[];
}

export interface OutboundRule {
    readonly protocol: "tcp" | "udp" | "icmp";
    readonly portRange?: string;
    readonly destinationAddresses: readonly string[];
}

export interface FirewallPolicy {
    readonly role: Role;
    /** The stack-scoped tag the firewall applies to. */
    readonly tag: string;
    readonly inbound: readonly InboundRule[];
    readonly outbound: readonly OutboundRule[];
}

/** Well-known ports of the stack, in one place so the renderers and the firewall agree. */
export const PORTS = {
    http: 80,
    https: 443,
    ssh: 22,
    haproxyStats: 8404,
    /** VRRP between an LB pair travels inside VXLAN: DigitalOcean firewalls pass only TCP, UDP and ICMP. */
    vrrpVxlan: 4789,
    /** DNS failover agents fetch each other's votes here (private addresses only). */
    dnsAgent: 8405,
    mysql: 3306,
    /** Galera group communication: between DB nodes, and with the arbitrator on the witness. */
    galera: GALERA_PORTS.group,
    /** Galera incremental state transfer (a rejoining node receives what it missed). */
    galeraIst: GALERA_PORTS.ist,
    /** Galera full state transfer (mariabackup): a new or rebuilt node is seeded from a peer. */
    galeraSst: GALERA_PORTS.sst,
    memcached: 11211,
} as const;

const WORLD = ["0.0.0.0/0", "::/0"];

/**
 * The least-privilege matrix: from the internet only 80/443 to load balancers, SSH only from the
 * admin CIDRs; app only from LBs; DB only from app and DB peers; Galera's ports only between DB
 * nodes and the witness's arbitrator; memcached only from app; the DNS failover agents' votes only
 * between LBs and the witness.
 * `tagOf(role)` gives the stack-scoped tag of a role (firewalls of two stacks never overlap).
 */
export function firewallMatrix(tagOf: (role: Role) => string, adminCidrs: readonly string[]): FirewallPolicy[] {
    const tcp = (port: number, from: Partial<Pick<InboundRule, "sourceAddresses" | "sourceTags">>): InboundRule => ({ protocol: "tcp", portRange: String(port), ...from });
    const ssh = tcp(PORTS.ssh, { sourceAddresses: adminCidrs });
    const pingFromStack: InboundRule = { protocol: "icmp", sourceTags: ROLES.map(tagOf) };
    const outbound: OutboundRule[] = [
        { protocol: "tcp", portRange: "1-65535", destinationAddresses: WORLD },
        { protocol: "udp", portRange: "1-65535", destinationAddresses: WORLD },
        { protocol: "icmp", destinationAddresses: WORLD },
    ];
    const policy = (role: Role, inbound: InboundRule[]): FirewallPolicy => ({ role, tag: tagOf(role), inbound: [ssh, pingFromStack, ...inbound], outbound });
    return [
        policy("lb", [
            tcp(PORTS.http, { sourceAddresses: WORLD }),
            tcp(PORTS.https, { sourceAddresses: WORLD }),
            tcp(PORTS.haproxyStats, { sourceTags: [tagOf("lb")] }),
            { protocol: "udp", portRange: String(PORTS.vrrpVxlan), sourceTags: [tagOf("lb")] },
            tcp(PORTS.dnsAgent, { sourceTags: [tagOf("lb"), tagOf("witness")] }),
        ]),
        policy("app", [
            tcp(PORTS.http, { sourceTags: [tagOf("lb")] }),
            // lsyncd pushes uploads to the other app servers with rsync over SSH.
            tcp(PORTS.ssh, { sourceTags: [tagOf("app")] }),
        ]),
        policy("db", [
            tcp(PORTS.mysql, { sourceTags: [tagOf("app"), tagOf("db")] }),
            tcp(PORTS.galera, { sourceTags: [tagOf("db"), tagOf("witness")] }),
            tcp(PORTS.galeraIst, { sourceTags: [tagOf("db")] }),
            tcp(PORTS.galeraSst, { sourceTags: [tagOf("db")] }),
        ]),
        policy("cache", [tcp(PORTS.memcached, { sourceTags: [tagOf("app")] })]),
        policy("witness", [
            tcp(PORTS.dnsAgent, { sourceTags: [tagOf("lb")] }),
            // The Galera arbitrator votes with the DB nodes.
            tcp(PORTS.galera, { sourceTags: [tagOf("db")] }),
        ]),
    ];
}

import { DigitalOceanRegion } from "./regions";
import type { FailoverTiming } from "../failover/agentFiles";

/** Where the application served by the app tier comes from. */
export type AppSource =
    /** The bundled demo PHP app (host, region, session counter, a database row). */
    | { readonly kind: "demo" }
    /** A local directory of PHP/static files, shipped to every app server by the wiring step. */
    | { readonly kind: "directory"; readonly path: string };

/** Sizing of one droplet role. */
export interface RoleSettings {
    /** Droplets of this role in every region. */
    readonly perRegion: number;
    /** DigitalOcean size slug, e.g. "s-1vcpu-1gb". */
    readonly size: string;
}

/** Where the site's certificate comes from: an ACME CA, through DNS-01 on the stack's domain. */
export interface AcmeSettings {
    /** ACME directory URL (default Let's Encrypt production; the lab: its pebble). */
    readonly serverUrl: string;
    /** Contact address of the ACME account (default: alertEmail). */
    readonly email: string;
    /** A `pulumi up` renews the certificate once fewer days than this remain (1 to 89, default 30). */
    readonly minDaysRemaining: number;
}

/** HTTPS on the entry points. */
export interface HttpsSettings {
    readonly acme: AcmeSettings;
}

/** Every choice the stack component needs, already validated. Built by {@link parseStackConfig}. */
export interface StackSettings {
    /** The DigitalOcean domain holding the round-robin records, e.g. "example.com". */
    readonly domain: string;
    /** Create the domain (true) or add records to one that already exists in the account (false). */
    readonly createDomain: boolean;
    /** Record name inside the domain: "@" for the apex, or a label such as "www". */
    readonly recordName: string;
    /** TTL of the round-robin records, in seconds (DigitalOcean's minimum is 30). */
    readonly ttl: number;
    /** Regions, in order; at least two. The first is where the project's primary resources are listed. */
    readonly regions: readonly DigitalOceanRegion[];
    /** Private IPv4 range of each region's VPC, same order as regions. Must not overlap. */
    readonly vpcCidrs: readonly string[];
    /** Droplet image slug for every role. */
    readonly image: string;
    /** Publish AAAA records and enable IPv6 on droplets. */
    readonly ipv6: boolean;
    /** Load balancers per region: 1, or 2 for in-region failover with keepalived. */
    readonly lb: RoleSettings & { readonly perRegion: 1 | 2 };
    readonly app: RoleSettings & {
        readonly source: AppSource;
        /** Path HAProxy health-checks on every app server. */
        readonly healthPath: string;
    };
    readonly db: {
        readonly size: string;
        /** Size of the block volume holding the MariaDB datadir, in GiB. */
        readonly volumeSizeGb: number;
        /**
         * How long the cluster waits for a silent region before the others go on without it, ms
         * (default 5000; components/db/DURABILITY.md): writes stall that long when a region vanishes.
         */
        readonly suspectTimeoutMs: number;
    };
    readonly cache: RoleSettings & {
        /** memcached memory limit (-m), in MiB. */
        readonly memoryMb: number;
    };
    /** Sources allowed to reach SSH on every droplet (the wiring step connects from one of them). */
    readonly adminCidrs: readonly string[];
    /** Public keys (OpenSSH format) installed for root on every droplet. */
    readonly sshPublicKeys: readonly string[];
    /** Where monitoring alerts and uptime alerts are sent. */
    readonly alertEmail: string;
    /**
     * A DigitalOcean API token scoped to reserved IPs, handed to the load balancers (over the wiring,
     * as a secret) so keepalived's new MASTER can move the region's reserved IP to itself.
     * Without it, a pair of LBs fails over inside the droplets but the reserved IP stays put.
     */
    readonly reservedIpToken?: string;
    /**
     * Health-checked DNS: agents on every LB (and the witness) withdraw the record of an entry point
     * a majority of them sees dead, and restore it when it heals.
     */
    readonly dnsFailover: {
        readonly enabled: boolean;
        readonly timing: FailoverTiming;
        /** A small droplet in a third region that votes, so two regions can tell a dead region from a split. */
        readonly witness?: { readonly region: DigitalOceanRegion; readonly vpcCidr: string; readonly size: string };
    };
    /**
     * A DigitalOcean API token scoped to the domain's records, handed (as a secret) to the DNS
     * failover agents (without it they only log what they would do), and used by `pulumi up` for
     * the certificate's DNS-01 challenge (required with {@link https}).
     */
    readonly dnsToken?: string;
    /**
     * HTTPS on the entry points (stack config default: on): one certificate for the site name from
     * an ACME CA (DNS-01 with {@link dnsToken}, which is then required), shipped to every LB over the
     * wiring; HAProxy serves 443 and redirects plain HTTP there (but /lb-health), with HSTS.
     * `false`: plain HTTP only.
     */
    readonly https: HttpsSettings | false;
    /** API base URL the droplets' agents call (default DigitalOcean's); the lab points it at its own. */
    readonly digitaloceanApiUrl?: string;
    /** Name of the DigitalOcean project grouping the stack's resources. */
    readonly projectName: string;
}

/** The site's fully qualified name, e.g. "www.example.com" (or the domain itself for "@"). */
export function siteName(settings: Pick<StackSettings, "domain" | "recordName">): string {
    return settings.recordName === "@" ? settings.domain : `${settings.recordName}.${settings.domain}`;
}

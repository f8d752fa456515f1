/**
 * Addresses of the target names through the system resolver (`dns.lookup`, i.e. getaddrinfo:
 * /etc/hosts, /etc/resolv.conf), refreshed on demand, handed out in turn.
 */
import * as dns from "dns";
import * as net from "net";

/** A change in what a name resolves to, or a failed look-up, at `t` ms since the start. */
export interface Resolution {
    t: number;
    host: string;
    addresses?: string[];
    error?: string;
}

/** Every address of `host` through getaddrinfo, in the order it gives. */
export async function systemLookup(host: string): Promise<string[]> {
    return (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
}

/** Resolves names, remembers their last good answer, and rotates through its addresses. */
export class AddressBook {
    private readonly addresses = new Map<string, string[]>();
    private readonly turn = new Map<string, number>();
    /** Every change of a name's answer and every failure, in order. */
    readonly log: Resolution[] = [];

    /**
     * @param hosts the names (addresses are taken as they are)
     * @param clock ms since the start, for the log
     * @param lookup all addresses of a name; default the system resolver
     */
    constructor(
        private readonly hosts: readonly string[],
        private readonly clock: () => number,
        private readonly lookup: (host: string) => Promise<string[]> = systemLookup,
    ) {}

    /** Looks every name up once more; a failure keeps the last good answer and is logged. */
    async refresh(): Promise<void> {
        await Promise.all(this.hosts.filter((h) => net.isIP(h) === 0).map(async (host) => {
            try {
                const found = await this.lookup(host);
                const before = this.addresses.get(host);
                if (!before || before.join(",") !== found.join(",")) this.log.push({ t: this.clock(), host, addresses: found });
                this.addresses.set(host, found);
            } catch (e) {
                this.log.push({ t: this.clock(), host, error: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
            }
        }));
    }

    /** The next address for `host` (an address is itself); throws when the name never resolved. */
    pick(host: string): string {
        if (net.isIP(host) !== 0) return host;
        const list = this.addresses.get(host);
        if (!list || list.length === 0) throw new Error("dns: unresolved");
        const k = this.turn.get(host) ?? 0;
        this.turn.set(host, k + 1);
        return list[k % list.length];
    }
}

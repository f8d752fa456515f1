/**
 * A TCP relay that adds a fixed one-way delay, for the bench's emulated regions on loopback (this
 * kernel has no netem): every chunk read on one side is written to the other `delayMs` later, in
 * order per direction. `cut()` emulates a partition like a blackhole: nothing more is forwarded or
 * read (the senders' kernel buffers fill up, as when packets are lost and retransmitted), a
 * connection is neither closed nor reset, a new connection is accepted but goes nowhere; `heal()`
 * forwards what was held, in order, and lets the held connections through. A close on one side
 * reaches the other side after the delay too (not during a cut).
 */
import * as net from "net";
import { performance } from "perf_hooks";

/** Where to listen and where to forward. */
export interface DelayProxyOptions {
    /** The real server. */
    readonly target: { readonly host: string; readonly port: number };
    /** One-way delay added in each direction, ms. */
    readonly delayMs: number;
    /** Address to listen on (default 127.0.0.1) and port (default: any free one). */
    readonly listenHost?: string;
    readonly listenPort?: number;
    /** Source address of the connections to the target (e.g. one the bench's NAT rules leave alone). */
    readonly sourceAddress?: string;
    /** Name in {@link DelayProxy.name}, for logs. */
    readonly name?: string;
}

/** Counters of a proxy: what went through it. */
export interface DelayProxyStats {
    /** Connections accepted. */
    connections: number;
    /** Bytes forwarded, both directions. */
    bytes: number;
    /** Chunks forwarded. */
    chunks: number;
}

/** A running proxy. */
export interface DelayProxy {
    readonly name: string;
    readonly host: string;
    readonly port: number;
    readonly target: { readonly host: string; readonly port: number };
    readonly stats: Readonly<DelayProxyStats>;
    /** Whether it is cut. */
    readonly isCut: boolean;
    /** Open connection pairs. */
    openConnections(): number;
    /** Stop forwarding and reading; hold new connections (no close, no reset). */
    cut(): void;
    /** Forward again: held data first, in order; held connections go through. */
    heal(): void;
    /** Close the listener and destroy every connection. */
    close(): Promise<void>;
}

/** Bytes queued in one direction above which the proxy stops reading that side until it drains. */
const HIGH_WATER = 8 * 1024 * 1024;

type Item = { due: number; chunk?: Buffer; end?: true; destroy?: true };

/** One direction of a connection: reads `src`, writes to `dst` after the delay. */
class Direction {
    private readonly queue: Item[] = [];
    private queued = 0;
    private timer: NodeJS.Timeout | undefined;
    private blocked = false;
    private done = false;

    constructor(private readonly src: net.Socket, private readonly dst: net.Socket, private readonly proxy: ProxyState) {
        src.on("data", (chunk: Buffer) => {
            this.push({ due: performance.now() + proxy.delayMs, chunk });
            this.queued += chunk.length;
            if (this.queued > HIGH_WATER) src.pause();
        });
        src.on("end", () => this.push({ due: performance.now() + proxy.delayMs, end: true }));
        src.on("error", () => this.push({ due: performance.now() + proxy.delayMs, destroy: true }));
        src.on("close", () => this.push({ due: performance.now() + proxy.delayMs, destroy: true }));
        dst.on("drain", () => {
            this.blocked = false;
            this.resumeReading();
        });
    }

    private push(item: Item): void {
        if (this.done) return;
        if (item.end || item.destroy) this.done = true;
        this.queue.push(item);
        this.pump();
    }

    /** Reads again unless cut, blocked by the other side or over the high-water mark. */
    resumeReading(): void {
        if (!this.proxy.cut && !this.blocked && this.queued <= HIGH_WATER && !this.src.destroyed) this.src.resume();
    }

    stop(): void {
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
        this.src.pause();
    }

    /** Delivers every item whose time has come, in order; schedules the next. Nothing while cut. */
    pump(): void {
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
        if (this.proxy.cut) return;
        const now = performance.now();
        while (this.queue.length > 0 && this.queue[0].due <= now) {
            const item = this.queue.shift()!;
            if (item.chunk) {
                this.queued -= item.chunk.length;
                this.proxy.stats.bytes += item.chunk.length;
                this.proxy.stats.chunks += 1;
                if (!this.dst.destroyed && !this.dst.write(item.chunk)) {
                    this.blocked = true;
                    this.src.pause();
                }
            } else if (item.end) {
                if (!this.dst.destroyed) this.dst.end();
            } else if (item.destroy) {
                this.dst.destroy();
            }
        }
        if (this.queue.length > 0) {
            // setTimeout may fire a little early (ms resolution): the due time is checked again then.
            this.timer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(this.queue[0].due - now)));
        }
        this.resumeReading();
    }
}

interface ProxyState {
    cut: boolean;
    delayMs: number;
    stats: DelayProxyStats;
}

/** Starts a delay proxy; resolves once it listens. */
export async function startDelayProxy(o: DelayProxyOptions): Promise<DelayProxy> {
    const state: ProxyState = { cut: false, delayMs: o.delayMs, stats: { connections: 0, bytes: 0, chunks: 0 } };
    const pairs = new Set<{ client: net.Socket; upstream?: net.Socket; dirs: Direction[] }>();
    /** Connections accepted while cut: they go through at heal. */
    const held: (() => void)[] = [];
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
        state.stats.connections += 1;
        // No Nagle: the proxy must not hold small writes back (with delayed ACKs that alone adds ~40 ms).
        client.setNoDelay(true);
        client.on("error", () => undefined);
        const pair: { client: net.Socket; upstream?: net.Socket; dirs: Direction[] } = { client, dirs: [] };
        pairs.add(pair);
        client.on("close", () => {
            if (!pair.upstream || pair.upstream.destroyed) pairs.delete(pair);
        });
        const connect = () => {
            if (client.destroyed) {
                pairs.delete(pair);
                return;
            }
            const upstream = net.connect({ host: o.target.host, port: o.target.port, allowHalfOpen: true, ...(o.sourceAddress ? { localAddress: o.sourceAddress } : {}) });
            pair.upstream = upstream;
            upstream.setNoDelay(true);
            upstream.on("error", () => undefined);
            upstream.on("close", () => {
                if (client.destroyed) pairs.delete(pair);
            });
            pair.dirs = [new Direction(client, upstream, state), new Direction(upstream, client, state)];
            client.resume();
        };
        if (state.cut) held.push(connect);
        else connect();
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(o.listenPort ?? 0, o.listenHost ?? "127.0.0.1", () => resolve());
    });
    const address = server.address() as net.AddressInfo;
    return {
        name: o.name ?? `${address.address}:${address.port}→${o.target.host}:${o.target.port}`,
        host: address.address,
        port: address.port,
        target: o.target,
        stats: state.stats,
        get isCut() {
            return state.cut;
        },
        openConnections: () => pairs.size,
        cut() {
            if (state.cut) return;
            state.cut = true;
            for (const p of pairs) {
                if (p.dirs.length === 0) p.client.pause();
                for (const d of p.dirs) d.stop();
            }
        },
        heal() {
            if (!state.cut) return;
            state.cut = false;
            for (const p of pairs) for (const d of p.dirs) d.pump();
            for (const go of held.splice(0)) go();
        },
        close: () => new Promise<void>((resolve) => {
            held.length = 0;
            for (const p of pairs) {
                for (const d of p.dirs) d.stop();
                p.client.destroy();
                p.upstream?.destroy();
            }
            pairs.clear();
            server.close(() => resolve());
        }),
    };
}

/** Proxies that go down and come back together: the links of one emulated inter-region path. */
export interface DelayLink {
    readonly name: string;
    readonly proxies: readonly DelayProxy[];
    cut(): void;
    heal(): void;
    /** Bytes forwarded by all its proxies. */
    bytes(): number;
}

/** Groups `proxies` into one {@link DelayLink}. */
export function delayLink(name: string, proxies: readonly DelayProxy[]): DelayLink {
    return {
        name,
        proxies,
        cut: () => proxies.forEach((p) => p.cut()),
        heal: () => proxies.forEach((p) => p.heal()),
        bytes: () => proxies.reduce((s, p) => s + p.stats.bytes, 0),
    };
}

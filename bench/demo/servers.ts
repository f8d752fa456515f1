/**
 * Small local HTTP servers for the self-contained demonstration and the load generator's tests:
 * a key/value "app" that can be made to stop answering, and a keep-alive proxy in front of it.
 * They listen on 127.0.0.1 only.
 */
import * as http from "http";
import { AddressInfo } from "net";

/** A running server: its port, and a way to close it (open connections are cut). */
export interface Running {
    port: number;
    close(): Promise<void>;
}

/** The demo app: `/whoami.json?key=K&value=V` stores K (the write), anything else just answers. */
export interface DemoApp extends Running {
    /** Keys stored, in order of arrival. */
    readonly stored: Map<string, string>;
    /** Keys the app answered 200 with an id for, i.e. acknowledged. */
    readonly acked: Set<string>;
    /** From now on, hold every request without answering (until {@link resume}). */
    stall(): void;
    /** Answer again; held requests are answered now (late). */
    resume(): void;
}

/** Options of the demo app. */
export interface DemoAppOptions {
    /** Name in the answers. */
    name?: string;
    /**
     * Stop answering `fromMs` after the first request arrives (the load generator's time 0, give
     * or take that request's trip), and answer again (held requests late) at `toMs` if given.
     */
    stallWindow?: { fromMs: number; toMs?: number };
    /** Answer this write 200 with `db.error` and store nothing (as the real app does when its DB fails). */
    failWrite?: (key: string) => boolean;
}

async function listen(server: http.Server): Promise<number> {
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
}

function closer(server: http.Server): () => Promise<void> {
    return () => new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
    });
}

function json(res: http.ServerResponse, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
    res.end(text);
}

/** Starts the demo app on 127.0.0.1 (a free port). */
export async function startDemoApp(opts: DemoAppOptions = {}): Promise<DemoApp> {
    const name = opts.name ?? "app";
    const stored = new Map<string, string>();
    const acked = new Set<string>();
    let held: (() => void)[] | undefined;
    const answer = (req: http.IncomingMessage, res: http.ServerResponse) => {
        const url = new URL(req.url ?? "/", "http://x");
        const key = url.searchParams.get("key");
        if (key === null) { json(res, { host: name }); return; }
        if (opts.failWrite?.(key)) { json(res, { host: name, db: { error: "demo: write refused" } }); return; }
        stored.set(key, url.searchParams.get("value") ?? "");
        acked.add(key);
        json(res, { host: name, db: { kv: { key, value: stored.get(key), id: stored.size } } });
    };
    const stall = () => { held ??= []; };
    const resume = () => {
        const waiting = held ?? [];
        held = undefined;
        for (const go of waiting) go();
    };
    const timers: NodeJS.Timeout[] = [];
    let started = false;
    const server = http.createServer((req, res) => {
        req.resume();
        if (!started && opts.stallWindow) {
            started = true;
            timers.push(setTimeout(stall, opts.stallWindow.fromMs));
            if (opts.stallWindow.toMs !== undefined) timers.push(setTimeout(resume, opts.stallWindow.toMs));
        }
        if (held) held.push(() => answer(req, res));
        else answer(req, res);
    });
    const port = await listen(server);
    const close = closer(server);
    return {
        port, stored, acked, stall, resume,
        close: () => {
            timers.forEach(clearTimeout);
            return close();
        },
    };
}

/** Starts a proxy on 127.0.0.1 forwarding every request to 127.0.0.1:`upstreamPort` over keep-alive connections. */
export async function startProxy(upstreamPort: number): Promise<Running> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    const server = http.createServer((req, res) => {
        const up = http.request({ host: "127.0.0.1", port: upstreamPort, path: req.url, method: req.method, headers: req.headers, agent }, (ur) => {
            res.writeHead(ur.statusCode ?? 502, ur.headers);
            ur.pipe(res);
        });
        up.on("error", () => {
            if (!res.headersSent) res.writeHead(502);
            res.end();
        });
        req.pipe(up);
    });
    const port = await listen(server);
    const close = closer(server);
    return { port, close: async () => { await close(); agent.destroy(); } };
}

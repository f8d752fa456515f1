/**
 * The delay proxy with real sockets on 127.0.0.1: the one-way delay, order, a cut that stalls
 * (existing connections neither forward nor close, new ones hang), a heal that resumes.
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as net from "net";
import { performance } from "perf_hooks";
import { delayLink, startDelayProxy, type DelayProxy } from "./delayProxy";

const DELAY = 40;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An upstream that records what each connection sent and when, and echoes it back. */
interface Upstream {
    port: number;
    conns: { data: string; firstAt?: number; closed: boolean }[];
    close(): Promise<void>;
}

async function startUpstream(): Promise<Upstream> {
    const conns: Upstream["conns"] = [];
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => {
        sockets.add(s);
        const c: Upstream["conns"][number] = { data: "", closed: false };
        conns.push(c);
        s.on("data", (d: Buffer) => {
            c.firstAt ??= performance.now();
            c.data += d.toString();
            s.write(d);
        });
        s.on("error", () => undefined);
        s.on("close", () => {
            c.closed = true;
            sockets.delete(s);
        });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    return {
        port: (server.address() as net.AddressInfo).port,
        conns,
        close: () => new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
        }),
    };
}

async function connect(port: number): Promise<net.Socket & { received: string }> {
    const s = net.connect({ host: "127.0.0.1", port }) as net.Socket & { received: string };
    s.received = "";
    s.on("data", (d: Buffer) => (s.received += d.toString()));
    s.on("error", () => undefined);
    await new Promise<void>((r) => s.once("connect", () => r()));
    return s;
}

async function until(what: string, check: () => boolean, ms = 2000): Promise<void> {
    const deadline = performance.now() + ms;
    while (!check()) {
        if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(5);
    }
}

describe("delay proxy (real sockets on 127.0.0.1)", () => {
    let up: Upstream;
    let proxy: DelayProxy;
    before(async () => {
        up = await startUpstream();
        proxy = await startDelayProxy({ target: { host: "127.0.0.1", port: up.port }, delayMs: DELAY });
    });
    after(async () => {
        await proxy.close();
        await up.close();
    });

    test(`a chunk arrives at least ${DELAY} ms after it was sent, each way`, async () => {
        const c = await connect(proxy.port);
        const n = up.conns.length;
        await until("the upstream connection", () => up.conns.length === n + 1);
        const sent = performance.now();
        c.write("ping");
        await until("the echo", () => c.received === "ping");
        const back = performance.now();
        const arrived = up.conns[n]!.firstAt!;
        assert.ok(arrived - sent >= DELAY, `one way ${arrived - sent} ms`);
        assert.ok(back - arrived >= DELAY, `way back ${back - arrived} ms`);
        assert.ok(back - sent < DELAY * 2 + 100, `round trip ${back - sent} ms`);
        c.destroy();
    });

    test("bytes keep their order: 300 writes arrive as sent", async () => {
        const c = await connect(proxy.port);
        const n = up.conns.length;
        let expected = "";
        for (let i = 0; i < 300; i++) {
            const piece = `${i},`;
            expected += piece;
            c.write(piece);
            if (i % 7 === 0) await new Promise((r) => setImmediate(r));
        }
        await until("every byte upstream", () => up.conns[n]?.data.length === expected.length);
        assert.equal(up.conns[n]!.data, expected);
        await until("the echo", () => c.received.length === expected.length);
        assert.equal(c.received, expected);
        c.destroy();
    });

    test("cut: an open connection stalls without closing, a new one hangs; heal: both go through, in order", async (t) => {
        const c1 = await connect(proxy.port);
        const n = up.conns.length;
        c1.write("before;");
        await until("the first bytes and their echo", () => up.conns[n]?.data === "before;" && c1.received === "before;");
        let closed = false;
        c1.on("close", () => (closed = true));

        proxy.cut();
        t.after(() => proxy.heal());
        assert.equal(proxy.isCut, true);
        c1.write("during;");
        const c2 = await connect(proxy.port); // accepted (as a blackhole would not even answer, nothing flows)
        c2.write("new;");
        await sleep(DELAY * 5);
        assert.equal(up.conns[n]!.data, "before;", "nothing forwarded while cut");
        assert.equal(up.conns.length, n + 1, "the held connection did not reach the server");
        assert.equal(closed, false, "the open connection is not closed");
        assert.equal(c1.destroyed, false);
        assert.equal(c2.destroyed, false);
        assert.equal(c1.received, "before;", "nothing came back while cut");

        const healed = performance.now();
        proxy.heal();
        await until("the held bytes upstream", () => up.conns[n]!.data === "before;during;");
        await until("the held connection upstream", () => up.conns[n + 1]?.data === "new;");
        await until("the echoes", () => c1.received === "before;during;" && c2.received === "new;");
        assert.ok(performance.now() - healed < 1000);
        c1.destroy();
        c2.destroy();
    });

    test("a close reaches the other side (after the delay), not during a cut", async (t) => {
        const c = await connect(proxy.port);
        const n = up.conns.length;
        c.write("x");
        await until("the bytes upstream", () => up.conns[n]?.data === "x");
        proxy.cut();
        t.after(() => proxy.heal());
        c.end();
        await sleep(DELAY * 3);
        assert.equal(up.conns[n]!.closed, false, "no close crosses a cut");
        proxy.heal();
        await until("the close upstream", () => up.conns[n]!.closed);
    });

    test("a link cuts and heals all its proxies", async () => {
        const other = await startDelayProxy({ target: { host: "127.0.0.1", port: up.port }, delayMs: DELAY });
        try {
            const link = delayLink("test", [proxy, other]);
            link.cut();
            assert.deepEqual([proxy.isCut, other.isCut], [true, true]);
            link.heal();
            assert.deepEqual([proxy.isCut, other.isCut], [false, false]);
            assert.ok(link.bytes() > 0);
        } finally {
            await other.close();
        }
    });
});

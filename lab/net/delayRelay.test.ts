import { describe, test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { parseRelayArgs, startRelay } from "./delayRelay";

describe("delayRelay", () => {
  test("parses its command line and rejects bad input", () => {
    assert.deepEqual(parseRelayArgs(["--listen", "4790", "--to", "169.254.79.1:4789", "--delay-ms", "40"]), {
      listenPort: 4790,
      toHost: "169.254.79.1",
      toPort: 4789,
      delayMs: 40,
    });
    assert.equal(parseRelayArgs(["--listen", "1", "--to", "a:2", "--delay-ms", "0", "--bind", "127.0.0.1"]).bindAddress, "127.0.0.1");
    assert.throws(() => parseRelayArgs(["--listen", "4790", "--to", "x:1"]), /missing --delay-ms/);
    assert.throws(() => parseRelayArgs(["--listen", "70000", "--to", "x:1", "--delay-ms", "1"]), /--listen/);
    assert.throws(() => parseRelayArgs(["--listen", "1", "--to", "nocolon", "--delay-ms", "1"]), /HOST:PORT/);
    assert.throws(() => parseRelayArgs(["--listen", "1", "--to", "x:1", "--delay-ms", "-5"]), /delay-ms/);
  });

  test("forwards every datagram once, in order, after the delay (loopback only)", async () => {
    const sink = dgram.createSocket("udp4");
    await new Promise<void>((r) => sink.bind(0, "127.0.0.1", r));
    const relay = await startRelay({ listenPort: 0, bindAddress: "127.0.0.1", toHost: "127.0.0.1", toPort: sink.address().port, delayMs: 40 });
    const got: { n: number; ms: number }[] = [];
    const sentAt = new Map<number, number>();
    const done = new Promise<void>((resolve) =>
      sink.on("message", (m) => {
        const n = Number(m.toString());
        got.push({ n, ms: Date.now() - (sentAt.get(n) as number) });
        if (got.length === 20) resolve();
      }),
    );
    const sender = dgram.createSocket("udp4");
    for (let n = 0; n < 20; n++) {
      sentAt.set(n, Date.now());
      sender.send(String(n), relay.address().port, "127.0.0.1");
      await new Promise((r) => setTimeout(r, 2));
    }
    await done;
    await new Promise((r) => setTimeout(r, 60));
    for (const s of [sender, relay, sink]) s.close();
    assert.deepEqual(got.map((g) => g.n), Array.from({ length: 20 }, (_, i) => i), "order kept, nothing duplicated");
    for (const g of got) assert.ok(g.ms >= 39 && g.ms < 120, `datagram ${g.n} took ${g.ms} ms`);
  });
});

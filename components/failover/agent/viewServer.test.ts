import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import http from "node:http";
import { AddressInfo } from "node:net";
import type { ObserverView } from "./decision";
import { httpRequest } from "./httpClient";
import { checkVoteKey, fetchView, serveViews, VIEW_MAC_HEADER, viewMac, ViewRejected } from "./viewServer";

/** The signed views over real sockets on loopback: what a peer must prove before its vote counts. */

const KEY = Buffer.from("k".repeat(64));
const OTHER_KEY = Buffer.from("o".repeat(64));
const VIEW: ObserverView = { observer: "lb-nyc3-1", verdicts: { nyc3: "up", ams3: "down" } };

/** A hand-made peer: answers /view with whatever `answer` builds from the request's nonce. */
function fakePeer(answer: (nonce: string) => { body: string; mac?: string }): Promise<http.Server> {
    const server = http.createServer((req, res) => {
        const nonce = new URL(req.url!, "http://x").searchParams.get("nonce") ?? "";
        const a = answer(nonce);
        res.writeHead(200, a.mac === undefined ? {} : { [VIEW_MAC_HEADER]: a.mac }).end(a.body);
    });
    return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const urlOf = (s: http.Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

describe("signed views", () => {
    const servers: http.Server[] = [];
    let genuine: http.Server;
    before(async () => {
        genuine = await serveViews("127.0.0.1", 0, KEY, () => VIEW, () => ({ observer: VIEW.observer, actor: false }));
        servers.push(genuine);
    });
    after(async () => {
        for (const s of servers) s.closeAllConnections();
        await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    });

    test("a peer with the same key is believed, verdicts and all", async () => {
        assert.deepEqual(await fetchView(urlOf(genuine), 2000, KEY), VIEW);
    });

    test("a peer with another key is not", async () => {
        await assert.rejects(fetchView(urlOf(genuine), 2000, OTHER_KEY), (e: unknown) => e instanceof ViewRejected && /MAC does not match/.test(e.message));
    });

    test("a view recorded earlier (another request's nonce) is a replay, even correctly signed", async () => {
        const recorded = JSON.stringify({ ...VIEW, nonce: crypto.randomBytes(16).toString("hex") }) + "\n";
        const replayer = await fakePeer(() => ({ body: recorded, mac: viewMac(KEY, recorded) }));
        servers.push(replayer);
        await assert.rejects(fetchView(urlOf(replayer), 2000, KEY), (e: unknown) => e instanceof ViewRejected && /replay/.test(e.message));
    });

    test("a body changed after signing, an unsigned answer and a signed non-view are rejected", async () => {
        const tamperer = await fakePeer((nonce) => {
            const body = JSON.stringify({ ...VIEW, nonce });
            return { body: body.replace('"ams3":"down"', '"ams3":"up"').replace('"nyc3":"up"', '"nyc3":"down"'), mac: viewMac(KEY, body) };
        });
        const unsigned = await fakePeer((nonce) => ({ body: JSON.stringify({ ...VIEW, nonce }) }));
        const notAView = await fakePeer((nonce) => {
            const body = JSON.stringify({ nonce, verdicts: "all down" });
            return { body, mac: viewMac(KEY, body) };
        });
        servers.push(tamperer, unsigned, notAView);
        await assert.rejects(fetchView(urlOf(tamperer), 2000, KEY), /MAC does not match/);
        await assert.rejects(fetchView(urlOf(unsigned), 2000, KEY), /MAC does not match/);
        await assert.rejects(fetchView(urlOf(notAView), 2000, KEY), /not a view/);
    });

    test("the server refuses /view without a well-formed nonce and serves /status unsigned", async () => {
        for (const q of ["", "?nonce=", "?nonce=abc", `?nonce=${"G".repeat(32)}`]) {
            const a = await httpRequest({ method: "GET", url: `${urlOf(genuine)}/view${q}`, headers: {} }, 2000);
            assert.equal(a.status, 400, `/view${q}`);
            assert.equal(a.headers[VIEW_MAC_HEADER], undefined);
        }
        const status = await httpRequest({ method: "GET", url: `${urlOf(genuine)}/status`, headers: {} }, 2000);
        assert.equal(status.status, 200);
        assert.deepEqual(JSON.parse(status.body), { observer: "lb-nyc3-1", actor: false });
    });

    test("a vote key shorter than 32 bytes is refused without echoing it", () => {
        assert.throws(() => checkVoteKey(Buffer.from("short-key-1234"), "/etc/dns-rr-ha/dns-vote-key"), (e: Error) =>
            /has 14 bytes, fewer than 32/.test(e.message) && /\/etc\/dns-rr-ha\/dns-vote-key/.test(e.message) && !e.message.includes("short-key-1234"));
        assert.equal(checkVoteKey(KEY, "f"), KEY);
    });
});

import crypto from "node:crypto";
import http from "node:http";
import type { ObserverView } from "./decision";
import { httpRequest } from "./httpClient";

/**
 * Views are what withdraws a record, so a peer's view is only believed when it proves it knows the
 * observers' shared vote key: the fetcher sends a fresh nonce, the server answers its view with the
 * nonce inside and an HMAC-SHA256 of the exact body. A forged view fails the MAC; a recorded one
 * carries an old nonce. No clock is involved, so droplets' clock skew cannot reject a good view.
 */
export const VIEW_MAC_HEADER = "x-dns-rr-ha-view-mac";

/** Shorter keys are refused: the program generates 64 characters. */
export const MIN_VOTE_KEY_LENGTH = 32;

const NONCE = /^[0-9a-f]{32,128}$/;

/** A peer answered, but not with a view signed for this request: logged, never believed. */
export class ViewRejected extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ViewRejected";
    }
}

export function viewMac(key: Buffer, body: string): string {
    return crypto.createHmac("sha256", key).update(body, "utf8").digest("hex");
}

/** Checks a vote key read from its file; throws saying what is wrong, never echoing the key. */
export function checkVoteKey(key: Buffer, file: string): Buffer {
    if (key.length < MIN_VOTE_KEY_LENGTH) {
        throw new Error(`the vote key in ${file} has ${key.length} bytes, fewer than ${MIN_VOTE_KEY_LENGTH}: the program's wiring writes it; re-run pulumi up`);
    }
    return key;
}

/**
 * Serves GET /view?nonce=HEX (the signed view peers vote with) and GET /status (everything, for
 * operators and tests; read-only, and it carries no secret).
 */
export function serveViews(host: string, port: number, key: Buffer, view: () => ObserverView, status: () => unknown): Promise<http.Server> {
    const server = http.createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://agent");
        if (req.method === "GET" && url.pathname === "/view") {
            const nonce = url.searchParams.get("nonce") ?? "";
            if (!NONCE.test(nonce)) {
                res.writeHead(400, { "content-type": "text/plain" }).end("GET /view?nonce=<32 to 128 lowercase hex digits>\n");
                return;
            }
            const body = JSON.stringify({ ...view(), nonce }) + "\n";
            res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store", [VIEW_MAC_HEADER]: viewMac(key, body) }).end(body);
            return;
        }
        if (req.method === "GET" && url.pathname === "/status") {
            res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(status()) + "\n");
            return;
        }
        res.writeHead(404, { "content-type": "text/plain" }).end("GET /view?nonce=... or /status\n");
    });
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve(server));
    });
}

/**
 * Fetches a peer's view; rejects unless it answers in time a well-formed view signed with `key`
 * for this request's nonce ({@link ViewRejected} when it answered but cannot be believed).
 */
export async function fetchView(baseUrl: string, timeoutMs: number, key: Buffer): Promise<ObserverView> {
    const nonce = crypto.randomBytes(16).toString("hex");
    const answer = await httpRequest({ method: "GET", url: `${baseUrl.replace(/\/+$/, "")}/view?nonce=${nonce}`, headers: {} }, timeoutMs);
    if (answer.status !== 200) throw new ViewRejected(`HTTP ${answer.status}`);
    const mac = Buffer.from(answer.headers[VIEW_MAC_HEADER] ?? "", "hex");
    const expected = Buffer.from(viewMac(key, answer.body), "hex");
    if (mac.length !== expected.length || !crypto.timingSafeEqual(mac, expected)) throw new ViewRejected("the view's MAC does not match the vote key");
    let v: Partial<ObserverView> & { nonce?: unknown };
    try {
        v = JSON.parse(answer.body) as typeof v;
    } catch {
        throw new ViewRejected("a signed answer that is not JSON");
    }
    if (v.nonce !== nonce) throw new ViewRejected("the view answers another request (a replay)");
    if (typeof v.observer !== "string" || typeof v.verdicts !== "object" || v.verdicts === null) throw new ViewRejected("not a view");
    const verdicts = Object.fromEntries(Object.entries(v.verdicts).filter(([, x]) => x === "up" || x === "down"));
    return { observer: v.observer, verdicts };
}

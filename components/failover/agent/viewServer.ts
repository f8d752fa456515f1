import http from "node:http";
import type { ObserverView } from "./decision";
import { httpRequest } from "./httpClient";

/** Serves GET /view (what peers vote with) and GET /status (everything, for operators and tests). */
export function serveViews(host: string, port: number, view: () => ObserverView, status: () => unknown): Promise<http.Server> {
    const server = http.createServer((req, res) => {
        const body = req.method === "GET" && req.url === "/view" ? view() : req.method === "GET" && req.url === "/status" ? status() : undefined;
        if (body === undefined) {
            res.writeHead(404, { "content-type": "text/plain" }).end("GET /view or /status\n");
            return;
        }
        res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(body) + "\n");
    });
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve(server));
    });
}

/** Fetches a peer's view; rejects unless it answers a well-formed view in time. */
export async function fetchView(baseUrl: string, timeoutMs: number): Promise<ObserverView> {
    const answer = await httpRequest({ method: "GET", url: `${baseUrl.replace(/\/+$/, "")}/view`, headers: {} }, timeoutMs);
    if (answer.status !== 200) throw new Error(`HTTP ${answer.status}`);
    const v = JSON.parse(answer.body) as Partial<ObserverView>;
    if (typeof v.observer !== "string" || typeof v.verdicts !== "object" || v.verdicts === null) throw new Error("not a view");
    const verdicts = Object.fromEntries(Object.entries(v.verdicts).filter(([, x]) => x === "up" || x === "down"));
    return { observer: v.observer, verdicts };
}

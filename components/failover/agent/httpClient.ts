import http from "node:http";
import https from "node:https";
import type { HttpAnswer, HttpCall } from "./doDnsApi";

/** One HTTP(S) request with a deadline covering the whole exchange. */
export function httpRequest(call: HttpCall, timeoutMs: number): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
        const mod = call.url.startsWith("https:") ? https : http;
        const req = mod.request(call.url, { method: call.method, headers: call.headers, agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => {
                clearTimeout(timer);
                const headers: Record<string, string> = {};
                for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
                resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString("utf8") });
            });
            res.on("error", reject);
        });
        const timer = setTimeout(() => req.destroy(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
        req.on("error", (e) => {
            clearTimeout(timer);
            reject(e);
        });
        req.end(call.body);
    });
}

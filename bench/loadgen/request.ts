/**
 * One HTTP or HTTPS request with a deadline, its answer read (part of the body kept) and, for a
 * write, whether the server acknowledged it.
 */
import * as http from "http";
import * as https from "https";
import * as net from "net";
import { Scheme } from "./spec";

/** What to send. */
export interface Outgoing {
    scheme: Scheme;
    address: string;
    port: number;
    path: string;
    headers: Record<string, string>;
    timeoutMs: number;
    /** An https.Agent for https (it holds the trusted CAs and verifies), an http.Agent otherwise. */
    agent: http.Agent;
    /** For https: SNI, and the name the certificate must be valid for (default: the address). */
    servername?: string;
    /** Bytes of body to keep (the rest is read and dropped). */
    keepBytes: number;
}

/** What came back: a status (0 for none), the kept body, or the error. */
export interface Answer {
    status: number;
    body: string;
    error?: string;
}

/**
 * Sends one GET; never rejects: a failure is an Answer with status 0 and an error (a refused
 * certificate is its code, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE or ERR_TLS_CERT_ALTNAME_INVALID).
 */
export function send(o: Outgoing): Promise<Answer> {
    return new Promise((resolve) => {
        let settled = false;
        const finish = (a: Answer) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve(a);
        };
        const request = o.scheme === "https" ? https.request : http.request;
        const req = request({
            host: o.address, port: o.port, path: o.path, method: "GET", headers: o.headers, agent: o.agent,
            family: net.isIPv6(o.address) ? 6 : 4, ...(o.servername === undefined ? {} : { servername: o.servername }),
        }, (res) => {
            const chunks: Buffer[] = [];
            let kept = 0;
            res.on("data", (d: Buffer) => {
                if (kept < o.keepBytes) { chunks.push(d); kept += d.length; }
            });
            res.on("end", () => finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).subarray(0, o.keepBytes).toString("utf8") }));
            res.on("error", (e: NodeJS.ErrnoException) => finish({ status: 0, body: "", error: e.code ?? e.message }));
        });
        const timer = setTimeout(() => {
            finish({ status: 0, body: "", error: "timeout" });
            req.destroy();
        }, o.timeoutMs);
        req.on("error", (e: NodeJS.ErrnoException) => finish({ status: 0, body: "", error: e.code ?? e.message }));
        req.end();
    });
}

/** The value at a dotted path of a JSON text, `undefined` when the text is no JSON or the path is absent. */
export function jsonAt(text: string, dotted: string): unknown {
    let v: unknown;
    try { v = JSON.parse(text); } catch { return undefined; }
    for (const part of dotted.split(".")) {
        if (v === null || typeof v !== "object" || !Object.prototype.hasOwnProperty.call(v, part)) return undefined;
        v = (v as Record<string, unknown>)[part];
    }
    return v;
}

/** Whether an answer acknowledges a write: HTTP 200 and, when asked, a non-null value at `ackJsonPath`. */
export function acknowledged(a: Answer, ackJsonPath?: string): boolean {
    if (a.status !== 200) return false;
    if (ackJsonPath === undefined) return true;
    const v = jsonAt(a.body, ackJsonPath);
    return v !== undefined && v !== null;
}

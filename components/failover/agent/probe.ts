import http from "node:http";

export interface ProbeResult {
    readonly ok: boolean;
    readonly ms: number;
    /** Status code, or why there was none. */
    readonly detail: string;
}

/**
 * One health probe: GET with a hard deadline covering connect, headers and body. Only a 200 counts;
 * a blackholed address costs exactly `timeoutMs`, never a TCP retry timeout.
 */
export function probe(url: string, hostHeader: string, timeoutMs: number): Promise<ProbeResult> {
    const started = Date.now();
    return new Promise((resolve) => {
        let done = false;
        const finish = (ok: boolean, detail: string): void => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            req.destroy();
            resolve({ ok, ms: Date.now() - started, detail });
        };
        const req = http.get(url, { headers: { host: hostHeader, "user-agent": "dns-rr-ha-dns-failover" }, agent: false }, (res) => {
            res.resume();
            res.on("end", () => finish(res.statusCode === 200, String(res.statusCode)));
            res.on("error", (e) => finish(false, e.message));
        });
        req.on("error", (e) => finish(false, e.message));
        const timer = setTimeout(() => finish(false, `no answer in ${timeoutMs} ms`), timeoutMs);
    });
}

import { httpRequest } from "./httpClient";

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
export async function probe(url: string, hostHeader: string, timeoutMs: number): Promise<ProbeResult> {
    const started = Date.now();
    try {
        const r = await httpRequest({ method: "GET", url, headers: { host: hostHeader, "user-agent": "dns-rr-ha-dns-failover" } }, timeoutMs);
        return { ok: r.status === 200, ms: Date.now() - started, detail: String(r.status) };
    } catch (e) {
        return { ok: false, ms: Date.now() - started, detail: (e as Error).message };
    }
}

/**
 * Runs inside a lab host's network namespace (`ip netns exec NS node --import tsx netProbe.ts JSON`)
 * and prints a JSON result: the tests' way to act as the client without leaving the lab.
 *   {"mode":"ports","targets":[{"host","port"}],"timeoutMs"}    -> [{host,port,result:"open"|"refused"|"timeout"}]
 *   {"mode":"stream","host","port","path","hostHeader","count","intervalMs","timeoutMs","tls"?} -> {ok,failed,errors,latenciesMs,bodies,results}
 * Stream mode speaks plain HTTP (port 80 by default) unless `tls` is given:
 *   "tls": {"caFile": PEM file of the CA to trust, "servername": the site's name}
 * then HTTPS (port 443 by default) to `host` (an address), sending `servername` as SNI and
 * verifying the certificate's chain against caFile and its name against servername; a refused
 * certificate is a failed request with the TLS error's code. Each request is a new connection
 * (a full handshake), so a stream measures what a new visitor meets.
 */
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";

interface Target { host: string; port: number }

/** What stream mode needs for HTTPS: the CA to trust and the name to ask for and verify. */
export interface ProbeTls { caFile: string; servername: string }

interface GetOptions { host: string; port: number; path: string; hostHeader: string; timeoutMs: number; tls?: { ca: Buffer; servername: string } }

function probePort(t: Target, timeoutMs: number): Promise<string> {
    return new Promise((resolve) => {
        const s = net.connect({ host: t.host, port: t.port });
        const done = (r: string) => { s.destroy(); resolve(r); };
        s.setTimeout(timeoutMs, () => done("timeout"));
        s.on("connect", () => done("open"));
        s.on("error", (e: NodeJS.ErrnoException) => done(e.code === "ECONNREFUSED" ? "refused" : e.code === "EHOSTUNREACH" ? "unreachable" : `error:${e.code}`));
    });
}

function get(o: GetOptions): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const common = { host: o.host, port: o.port, path: o.path, headers: { Host: o.hostHeader, Connection: "close" }, agent: false as const, timeout: o.timeoutMs };
        const onResponse = (res: http.IncomingMessage) => {
            let body = "";
            res.on("data", (d) => { body += d.toString(); });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        };
        const req = o.tls
            ? https.request({ ...common, ca: o.tls.ca, servername: o.tls.servername, rejectUnauthorized: true }, onResponse)
            : http.request(common, onResponse);
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
        req.end();
    });
}

async function main(): Promise<unknown> {
    const input = JSON.parse(process.argv[2] ?? "{}") as Record<string, unknown>;
    if (input.mode === "ports") {
        const targets = input.targets as Target[];
        return Promise.all(targets.map(async (t) => ({ ...t, result: await probePort(t, Number(input.timeoutMs ?? 2000)) })));
    }
    if (input.mode === "stream") {
        const tls = input.tls as ProbeTls | undefined;
        const o: GetOptions = {
            host: String(input.host), port: Number(input.port ?? (tls ? 443 : 80)), path: String(input.path ?? "/"), hostHeader: String(input.hostHeader ?? input.host), timeoutMs: Number(input.timeoutMs ?? 10_000),
            ...(tls ? { tls: { ca: fs.readFileSync(tls.caFile), servername: tls.servername } } : {}),
        };
        const count = Number(input.count ?? 10);
        const interval = Number(input.intervalMs ?? 100);
        const results = await Promise.all(Array.from({ length: count }, (_, i) => new Promise<{ ok: boolean; ms: number; error?: string; body?: string }>((resolve) => {
            setTimeout(() => {
                const t = Date.now();
                get(o).then(
                    (r) => resolve({ ok: r.status === 200, ms: Date.now() - t, body: r.body.slice(0, 400), ...(r.status === 200 ? {} : { error: `HTTP ${r.status}` }) }),
                    (e: NodeJS.ErrnoException) => resolve({ ok: false, ms: Date.now() - t, error: e.code && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e.message }),
                );
            }, i * interval);
        })));
        return {
            ok: results.filter((r) => r.ok).length,
            failed: results.filter((r) => !r.ok).length,
            errors: results.filter((r) => !r.ok).map((r) => r.error),
            latenciesMs: results.map((r) => r.ms),
            bodies: results.map((r) => r.body ?? ""),
            results: results.map((r) => r.ok),
        };
    }
    throw new Error(`unknown mode ${String(input.mode)}`);
}

main().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`), (e: Error) => { process.stderr.write(`${e.message}\n`); process.exit(1); });

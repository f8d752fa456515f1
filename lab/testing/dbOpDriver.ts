/**
 * Runs inside an app server's network namespace (`ip netns exec NS node --import tsx dbOpDriver.ts
 * JSON`) and races the demo app's conflicting writes (`/db-op.json`) against that server's own
 * nginx, as the app's users would through HAProxy; prints one JSON array of {@link DbOpRecord}s.
 *
 *   {"base":"http://10.110.0.4","label":"nyc3","workers":4,"untilEpochMs":..., "timeoutMs":15000,
 *    "ops":["incr","claim","cas"],"counter":"c-x","claimPrefix":"v-x","claimSlotMs":100,"cell":"cell-x"}
 *
 * Each worker loops (no pause) until `untilEpochMs` (or for `opsPerWorker` ops), taking the ops in turn:
 * Writes are POSTed (form-encoded), reads (op=get) are GETs, as db-op.json requires.
 *   incr   `op=incr&name=<counter>`
 *   claim  `op=claim&value=<claimPrefix>-<slot>` where slot = floor(now / claimSlotMs): two regions
 *          (and the workers of one) claiming in the same slot want the same value
 *   cas    `op=get&name=<cell>` then `op=cas&name=<cell>&expect=<version read>&value=<label>-<w>-<i>`
 *          (the get is recorded too, as op "get")
 * Start times are epoch ms on this machine's clock (the lab shares it), so a test can tell which
 * requests started before or after a fault it injected.
 */
import * as http from "http";

export type DbOp = "incr" | "claim" | "cas";

export interface DbOpDriverInput {
    /** `http://<app server's private address>` (nginx listens there only). */
    readonly base: string;
    /** Names this driver's writes (the cas values); usually the region. */
    readonly label: string;
    readonly workers: number;
    /** Workers loop until then, or, with `opsPerWorker`, that many ops each (whenever they end). */
    readonly untilEpochMs: number;
    readonly opsPerWorker?: number;
    readonly timeoutMs: number;
    readonly ops: readonly DbOp[];
    readonly counter: string;
    readonly claimPrefix: string;
    readonly claimSlotMs: number;
    readonly cell: string;
}

/** One request as the driver saw it; the answer's fields as db-op.json gave them. */
export interface DbOpRecord {
    readonly label: string;
    readonly op: DbOp | "get";
    /** The counter, claimed value or cell the request was about. */
    readonly arg: string;
    /** For cas: the version expected. */
    readonly expect?: number;
    /** For cas: the value written. */
    readonly value?: string;
    readonly startEpochMs: number;
    readonly ms: number;
    /** HTTP status; 0 when no answer came (timeout, connection error). */
    readonly status: number;
    /** The answer's `ok`. */
    readonly ok: boolean;
    readonly error?: string;
    /** MariaDB error number the app passed on (1047, 1213, ...). */
    readonly code?: number;
    /** "host:port" of the DB node that served the request (null: none was reachable). */
    readonly db?: string | null;
    /** The app server that answered. */
    readonly host?: string;
    readonly n?: number;
    readonly id?: number;
    readonly version?: number;
}

interface Answer { status: number; body: Record<string, unknown> | undefined; error?: string }

/** GETs `url`, or with `form` POSTs it form-encoded (db-op.json takes writes as POST only). */
function send(url: string, timeoutMs: number, form?: string): Promise<Answer> {
    return new Promise((resolve) => {
        const headers: Record<string, string> = { Connection: "close" };
        if (form !== undefined) Object.assign(headers, { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": String(Buffer.byteLength(form)) });
        const req = http.request(url, { method: form === undefined ? "GET" : "POST", agent: false, timeout: timeoutMs, headers }, (res) => {
            let text = "";
            res.on("data", (d: Buffer) => (text += d.toString()));
            res.on("end", () => {
                let body: Record<string, unknown> | undefined;
                try {
                    body = JSON.parse(text) as Record<string, unknown>;
                } catch {
                    body = undefined;
                }
                resolve({ status: res.statusCode ?? 0, body, ...(body ? {} : { error: `not JSON: ${text.slice(0, 120)}` }) });
            });
            res.on("error", (e) => resolve({ status: 0, body: undefined, error: e.message }));
        });
        req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
        req.on("error", (e) => resolve({ status: 0, body: undefined, error: e.message }));
        req.end(form);
    });
}

async function request(input: DbOpDriverInput, op: DbOpRecord["op"], arg: string, query: string, extra: Partial<DbOpRecord> = {}): Promise<DbOpRecord> {
    const startEpochMs = Date.now();
    const a = op === "get" ? await send(`${input.base}/db-op.json?${query}`, input.timeoutMs) : await send(`${input.base}/db-op.json`, input.timeoutMs, query);
    const b = a.body ?? {};
    const num = (k: string) => (typeof b[k] === "number" ? { [k]: b[k] as number } : {});
    return {
        label: input.label, op, arg, ...extra, startEpochMs, ms: Date.now() - startEpochMs, status: a.status, ok: a.status === 200 && b.ok === true,
        ...(a.error !== undefined ? { error: a.error } : typeof b.error === "string" ? { error: b.error } : {}),
        ...(typeof b.code === "number" ? { code: b.code } : {}),
        ...("db" in b ? { db: b.db as string | null } : {}),
        ...(typeof b.host === "string" ? { host: b.host } : {}),
        ...num("n"), ...num("id"), ...num("version"),
    };
}

export async function runDbOps(input: DbOpDriverInput): Promise<DbOpRecord[]> {
    const records: DbOpRecord[] = [];
    const q = encodeURIComponent;
    await Promise.all(Array.from({ length: input.workers }, async (_, w) => {
        const more = (i: number) => (input.opsPerWorker !== undefined ? i < input.opsPerWorker : Date.now() < input.untilEpochMs);
        for (let i = 0; more(i); i++) {
            const op = input.ops[(i + w) % input.ops.length]!;
            if (op === "incr") {
                records.push(await request(input, "incr", input.counter, `op=incr&name=${q(input.counter)}`));
            } else if (op === "claim") {
                const value = `${input.claimPrefix}-${Math.floor(Date.now() / input.claimSlotMs)}`;
                records.push(await request(input, "claim", value, `op=claim&value=${q(value)}`));
            } else {
                const read = await request(input, "get", input.cell, `op=get&name=${q(input.cell)}`);
                records.push(read);
                if (!read.ok || read.version === undefined || (input.opsPerWorker === undefined && Date.now() >= input.untilEpochMs)) continue;
                const value = `${input.label}-${w}-${i}`;
                records.push(await request(input, "cas", input.cell, `op=cas&name=${q(input.cell)}&expect=${read.version}&value=${q(value)}`, { expect: read.version, value }));
            }
        }
    }));
    return records.sort((a, b) => a.startEpochMs - b.startEpochMs);
}

if (require.main === module) {
    runDbOps(JSON.parse(process.argv[2] ?? "{}") as DbOpDriverInput).then(
        (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
        (e: Error) => { process.stderr.write(`${e.message}\n`); process.exit(1); },
    );
}

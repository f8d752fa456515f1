/**
 * The open-loop run: starts each request when the schedule says, whatever the earlier ones
 * do, and reports every one as a record.
 */
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import { performance } from "perf_hooks";
import { RequestRecord } from "../report/records";
import { overallStats, OverallStats } from "../report/stats";
import { AddressBook, Resolution } from "./resolver";
import { acknowledged, send } from "./request";
import { keyOf, pathFor, plannedAt, requestCount, routeChooser } from "./schedule";
import { Plan, Scheme } from "./spec";

/** What a run prints when done. */
export interface LoadSummary extends OverallStats {
    /** Requests the schedule had (all of them are in `count`). */
    planned: number;
    writes: number;
    acked: number;
    /** Largest delay of a start behind its schedule, ms (how well the schedule was kept). */
    maxLateMs: number;
    /** Every change in what the names resolved to, and every failed look-up. */
    resolutions: Resolution[];
    out: string;
}

const BODY_FOR_ACK = 1 << 20;
const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * One keep-alive pool per scheme. The https one verifies every certificate (against `caFile`
 * when given, else Node's roots); a TLS handshake is paid once per connection, as a browser does.
 */
function agentsFor(plan: Plan): Record<Scheme, http.Agent> {
    const pool = { keepAlive: true, maxSockets: plan.concurrency, maxFreeSockets: plan.concurrency };
    let ca: Buffer | undefined;
    if (plan.caFile !== undefined) {
        try {
            ca = fs.readFileSync(plan.caFile);
        } catch (e) {
            throw new Error(`caFile ${plan.caFile}: ${(e as Error).message}`);
        }
    }
    return { http: new http.Agent(pool), https: new https.Agent({ ...pool, rejectUnauthorized: true, ...(ca ? { ca } : {}) }) };
}

/** Runs `plan`, handing each record to `sink` as it completes; resolves when every request has. */
export async function runLoad(plan: Plan, sink: (r: RequestRecord) => void): Promise<LoadSummary> {
    const agents = agentsFor(plan);
    const t0 = performance.now();
    const clock = () => round(performance.now() - t0);
    const book = new AddressBook([...new Set(plan.routes.map((r) => r.host))], clock);
    await book.refresh();
    const refresher = plan.resolveEverySec ? setInterval(() => void book.refresh(), plan.resolveEverySec * 1000) : undefined;
    const choose = routeChooser(plan.routes.map((r) => r.weight));
    const n = requestCount(plan.rate, plan.durationSec);
    const records: RequestRecord[] = [];
    const pending = new Set<Promise<void>>();
    let inFlight = 0;
    const emit = (r: RequestRecord) => { records.push(r); sink(r); };

    const launch = (i: number) => {
        const route = plan.routes[choose()];
        const key = route.write ? keyOf(plan.keyPrefix, i) : undefined;
        const path = key === undefined ? route.path : pathFor(route, key);
        const t = clock();
        const base = { i, t, planned: round(plannedAt(i, plan.rate)), path, ...(key === undefined ? {} : { key }) };
        let address: string;
        try {
            address = book.pick(route.host);
        } catch (e) {
            emit({ ...base, ms: 0, status: 0, ok: false, error: (e as Error).message, target: "", ...(key === undefined ? {} : { acked: false }) });
            return;
        }
        const target = `${address.includes(":") ? `[${address}]` : address}:${route.port}`;
        if (inFlight >= plan.concurrency) {
            emit({ ...base, ms: 0, status: 0, ok: false, error: "concurrency cap", target, ...(key === undefined ? {} : { acked: false }) });
            return;
        }
        inFlight += 1;
        const keepBytes = Math.max(plan.bodyExcerptBytes, route.ackJsonPath ? BODY_FOR_ACK : 0);
        const p = send({
            scheme: route.scheme, address, port: route.port, path, headers: { ...plan.headers, Host: route.hostHeader }, timeoutMs: plan.timeoutMs,
            agent: agents[route.scheme], keepBytes, ...(route.servername === undefined ? {} : { servername: route.servername }),
        }).then((a) => {
            inFlight -= 1;
            const acked = key === undefined ? undefined : acknowledged(a, route.ackJsonPath);
            const ok = acked ?? (a.status >= 200 && a.status < 300);
            const error = a.error ?? (ok ? undefined : a.status === 200 ? "not acknowledged" : `HTTP ${a.status}`);
            emit({
                ...base, ms: round(clock() - t), status: a.status, ok, ...(error ? { error } : {}), target,
                ...(acked === undefined ? {} : { acked }), ...(plan.bodyExcerptBytes > 0 ? { body: a.body.slice(0, plan.bodyExcerptBytes) } : {}),
            });
        });
        pending.add(p);
        void p.then(() => pending.delete(p));
    };

    await new Promise<void>((done) => {
        let next = 0;
        const tick = () => {
            while (next < n && plannedAt(next, plan.rate) <= performance.now() - t0) launch(next++);
            if (next < n) setTimeout(tick, Math.max(0, plannedAt(next, plan.rate) - (performance.now() - t0)));
            else done();
        };
        tick();
    });
    await Promise.all([...pending]);
    if (refresher) clearInterval(refresher);
    agents.http.destroy();
    agents.https.destroy();
    const writes = records.filter((r) => r.key !== undefined);
    return {
        ...overallStats(records, plan.durationSec),
        planned: n,
        writes: writes.length,
        acked: writes.filter((r) => r.acked).length,
        maxLateMs: records.reduce((m, r) => Math.max(m, round(r.t - r.planned)), 0),
        resolutions: book.log,
        out: plan.out,
    };
}

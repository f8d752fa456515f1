/**
 * Writes through every entry point at once, from the client host, each write a fresh key the
 * app acknowledges only when the database stored it (`db.kv.id` in the answer).
 */
import { LabState } from "../../lab/labState";
import { LoadResult } from "../loadgen/client";
import { LoadSpec } from "../loadgen/spec";
import { RequestRecord } from "../report/records";
import { BenchContext } from "../scenario";

/**
 * The site through one LB address, as a browser reaches it: HTTPS to the address with SNI and
 * Host = siteName, the certificate verified against the lab ACME CA's root (plain HTTP would only
 * get HAProxy's 301).
 */
export function siteThrough(state: LabState, address: string): Pick<LoadSpec, "scheme" | "host" | "hostHeader" | "caFile"> {
    return { scheme: "https", host: address, hostHeader: state.siteName, caFile: state.acmeRootFile };
}

export interface WriteLoad {
    readonly prefix: string;
    readonly records: RequestRecord[];
    readonly results: LoadResult[];
}

/** Starts one write load per entry point (rate split between them); resolves when all end. */
export async function writeThroughEntryPoints(ctx: BenchContext, state: LabState, name: string, rate: number, durationSec: number): Promise<WriteLoad> {
    const prefix = `${name}-${Date.now().toString(36)}`;
    const results = await Promise.all(state.entryPoints.map((e) => ctx.load(`${name}-${e.region}`, {
        ...siteThrough(state, e.ipv4),
        paths: [{ path: "/whoami.json?write=0&key={key}&value=v", ackJsonPath: "db.kv.id" }],
        rate: rate / state.entryPoints.length,
        durationSec,
        concurrency: ctx.concurrency,
        timeoutMs: ctx.timeoutMs,
        keyPrefix: `${prefix}-${e.region}`,
    }, ["ip", "netns", "exec", state.clientNetns])));
    return { prefix, records: results.flatMap((r) => r.records), results };
}

/**
 * Test helper: hand-made request records.
 */
import { RequestRecord } from "./records";

/** A record with the given fields, the rest neutral (planned = t, a timeout when not ok). */
export function rec(i: number, t: number, ms: number, ok = true, extra: Partial<RequestRecord> = {}): RequestRecord {
    return { i, t, planned: t, ms, status: ok ? 200 : 0, ok, target: "127.0.0.1:1", path: "/", ...(ok ? {} : { error: "timeout" }), ...extra };
}

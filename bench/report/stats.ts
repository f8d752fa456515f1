/**
 * Percentiles and overall figures of a set of request records.
 */
import { RequestRecord } from "./records";

/**
 * Nearest-rank percentile of ascending-sorted values: the smallest value such that at least
 * `p`% of the values are less than or equal to it. `null` for no values.
 */
export function percentile(sorted: readonly number[], p: number): number | null {
    if (sorted.length === 0) return null;
    if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is not within 0..100`);
    const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
    return sorted[rank - 1];
}

/** Overall figures of one load run. Latencies count successful requests only. */
export interface OverallStats {
    /** Requests started. */
    count: number;
    /** Requests that were ok. */
    ok: number;
    /** Requests that failed. */
    errors: number;
    /** Failed requests by error text. */
    errorsByKind: Record<string, number>;
    /** Latency of ok requests, ms (null when none was ok). */
    p50: number | null;
    p90: number | null;
    p99: number | null;
    max: number | null;
    /** Ok requests per second over the run's duration. */
    throughput: number;
    /** The duration the throughput is computed over, seconds. */
    durationSec: number;
}

/**
 * Overall figures of `records` over a run of `durationSec` seconds (the planned duration:
 * a run that stalls still lasted that long). 0 throughput for a zero duration.
 */
export function overallStats(records: readonly RequestRecord[], durationSec: number): OverallStats {
    const okMs = records.filter((r) => r.ok).map((r) => r.ms).sort((a, b) => a - b);
    const errorsByKind: Record<string, number> = {};
    for (const r of records) {
        if (r.ok) continue;
        const kind = r.error ?? "error";
        errorsByKind[kind] = (errorsByKind[kind] ?? 0) + 1;
    }
    return {
        count: records.length,
        ok: okMs.length,
        errors: records.length - okMs.length,
        errorsByKind,
        p50: percentile(okMs, 50),
        p90: percentile(okMs, 90),
        p99: percentile(okMs, 99),
        max: okMs.length ? okMs[okMs.length - 1] : null,
        throughput: durationSec > 0 ? okMs.length / durationSec : 0,
        durationSec,
    };
}

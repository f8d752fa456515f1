/**
 * The load generator's per-request record, one JSON object per line of its output file,
 * and helpers to read such a file back. Pure data: no I/O except {@link parseRecords}' input.
 */

/** One request as the load generator saw it. */
export interface RequestRecord {
    /** Sequence number in the schedule (0-based). */
    i: number;
    /** When the request started, in ms since the run's start. */
    t: number;
    /** When the schedule wanted it started, in ms since the run's start. */
    planned: number;
    /** Duration until the whole answer was read, or until the error, in ms. */
    ms: number;
    /** HTTP status, 0 when no answer came. */
    status: number;
    /** True for a 2xx answer (and, for a write, an acknowledged one). */
    ok: boolean;
    /** Why the request failed: "timeout", "ECONNREFUSED", "HTTP 503", "not acknowledged", ... */
    error?: string;
    /** The address:port the request went to ("" when none could be chosen). */
    target: string;
    /** Path and query that were sent. */
    path: string;
    /** Set on writes: the unique key written. */
    key?: string;
    /** Set on writes: whether the server acknowledged the key. */
    acked?: boolean;
    /** The first bytes of the answer's body, when asked for. */
    body?: string;
}

/** Parses newline-delimited JSON records; blank lines are skipped, a malformed line throws with its number. */
export function parseRecords(text: string): RequestRecord[] {
    const out: RequestRecord[] = [];
    text.split("\n").forEach((line, n) => {
        if (line.trim() === "") return;
        try {
            out.push(JSON.parse(line) as RequestRecord);
        } catch (e) {
            throw new Error(`record line ${n + 1}: ${(e as Error).message}`);
        }
    });
    return out;
}

/** The keys whose writes the server acknowledged, in schedule order. */
export function ackedKeys(records: readonly RequestRecord[]): string[] {
    return [...records].sort((a, b) => a.i - b.i).filter((r) => r.key !== undefined && r.acked === true).map((r) => r.key as string);
}

/** Acknowledged keys that `present` does not hold: the writes lost. */
export function missingAckedKeys(records: readonly RequestRecord[], present: ReadonlySet<string>): string[] {
    return ackedKeys(records).filter((k) => !present.has(k));
}

/**
 * Judges a race of conflicting writes (lab/testing/dbOpDriver.ts records, from every region) against
 * what the database holds afterwards. Pure: the tests and the bench fetch the rows, this decides.
 *
 * Each write request ends one of three ways:
 *   acked          HTTP 200, ok: the app says it committed
 *   refused        known not to have changed anything: 409 (duplicate claim, version mismatch), a
 *                  certification conflict (1213, after the app's one retry), no node reachable
 *                  (the app never touched a database)
 *   indeterminate  anything else (no answer, the connection to the DB lost mid-commit, 1047 on a
 *                  COMMIT): the write may or may not have committed, as with any database
 * so an exact check becomes a range: the counter lies in [acked, acked + indeterminate].
 */
import type { DbOpRecord } from "./dbOpDriver";

export type Outcome = "acked" | "refused" | "indeterminate" | "invalid";

export function outcomeOf(r: DbOpRecord): Outcome {
    if (r.ok) return "acked";
    if (r.status === 409) return "refused";
    if (r.status === 400) return "invalid";
    if (r.status === 503 && (r.code === 1213 || r.error === "conflict")) return "refused";
    if (r.status === 503 && r.db === null && (r.error ?? "").startsWith("no database reachable")) return "refused";
    return "indeterminate";
}

export interface CountByOutcome { acked: number; refused: number; indeterminate: number; invalid: number }

function count(records: readonly DbOpRecord[]): CountByOutcome {
    const c: CountByOutcome = { acked: 0, refused: 0, indeterminate: 0, invalid: 0 };
    for (const r of records) c[outcomeOf(r)]++;
    return c;
}

/** What one node holds of the race's names. */
export interface RaceRows {
    /** The counter's value (null: no row). */
    readonly counter: number | null;
    /** Every claims row whose value has the race's prefix. */
    readonly claims: readonly { value: string; host: string }[];
    /** The cas cell (null: no row). */
    readonly cell: { value: string; version: number } | null;
}

export interface RaceVerdict {
    readonly incr: CountByOutcome & { final: number; withinBounds: boolean };
    readonly claims: CountByOutcome & {
        rows: number;
        /** Values acknowledged to more than one request. */
        ackedTwice: string[];
        /** Acknowledged values the rows lack, or hold for another app server than the one that acknowledged. */
        ackedMissing: string[];
        /** Rows no request can account for (neither acknowledged nor indeterminate). */
        unexplained: string[];
    };
    readonly cas: CountByOutcome & {
        /** Versions acknowledged to more than one writer. */
        wonTwice: number[];
        finalVersion: number;
        /** The cell holds the newest acknowledged version's value (or a later, indeterminate one). */
        finalConsistent: boolean;
    };
    /** Requests the app rejected as malformed (a bug in the driver or the app). */
    readonly invalid: number;
    /** Every check passed. */
    readonly ok: boolean;
    /** What failed, in words. */
    readonly problems: string[];
}

/**
 * Checks the race's records (all regions together) against one node's rows. The names are new per
 * race, so the counter and the cell start at nothing.
 */
export function judgeRace(records: readonly DbOpRecord[], rows: RaceRows): RaceVerdict {
    const writes = (op: DbOpRecord["op"]) => records.filter((r) => r.op === op);
    const problems: string[] = [];

    const incrs = writes("incr");
    const ic = count(incrs);
    const final = rows.counter ?? 0;
    const withinBounds = final >= ic.acked && final <= ic.acked + ic.indeterminate;
    if (!withinBounds) problems.push(`counter is ${final}, but ${ic.acked} increments were acknowledged and ${ic.indeterminate} indeterminate (expected ${ic.acked}..${ic.acked + ic.indeterminate})`);

    const claims = writes("claim");
    const cc = count(claims);
    const ackedBy = new Map<string, string[]>();
    for (const r of claims.filter((x) => x.ok)) ackedBy.set(r.arg, [...(ackedBy.get(r.arg) ?? []), r.host ?? "?"]);
    const ackedTwice = [...ackedBy].filter(([, hosts]) => hosts.length > 1).map(([v]) => v);
    const stored = new Map(rows.claims.map((c) => [c.value, c.host]));
    const ackedMissing = [...ackedBy].filter(([v, hosts]) => stored.get(v) !== hosts[0]).map(([v]) => v);
    const maybe = new Set(claims.filter((r) => outcomeOf(r) === "indeterminate").map((r) => r.arg));
    const unexplained = rows.claims.filter((c) => !ackedBy.has(c.value) && !maybe.has(c.value)).map((c) => c.value);
    if (ackedTwice.length > 0) problems.push(`claims acknowledged twice: ${ackedTwice.slice(0, 5).join(", ")}`);
    if (ackedMissing.length > 0) problems.push(`acknowledged claims missing or held by another server: ${ackedMissing.slice(0, 5).map((v) => `${v} (acked by ${ackedBy.get(v)!.join("+")}, row: ${stored.get(v) ?? "none"})`).join(", ")}`);
    if (unexplained.length > 0) problems.push(`claims rows no request accounts for: ${unexplained.slice(0, 5).join(", ")}`);

    const cases = writes("cas");
    const sc = count(cases);
    const wins = new Map<number, DbOpRecord[]>();
    for (const r of cases.filter((x) => x.ok)) {
        const v = r.version ?? (r.expect ?? -1) + 1;
        wins.set(v, [...(wins.get(v) ?? []), r]);
    }
    const wonTwice = [...wins].filter(([, rs]) => rs.length > 1).map(([v]) => v).sort((a, b) => a - b);
    if (wonTwice.length > 0) problems.push(`cas versions won by two writers: ${wonTwice.slice(0, 5).join(", ")}`);
    const finalVersion = rows.cell?.version ?? 0;
    const newestAcked = Math.max(0, ...wins.keys());
    const indeterminateValues = new Set(cases.filter((r) => outcomeOf(r) === "indeterminate").map((r) => r.value));
    const finalConsistent = finalVersion === newestAcked
        ? newestAcked === 0 || rows.cell?.value === wins.get(newestAcked)![0]!.value
        : finalVersion > newestAcked && finalVersion <= newestAcked + sc.indeterminate && indeterminateValues.has(rows.cell?.value);
    if (!finalConsistent) problems.push(`cas cell at version ${finalVersion} holding ${JSON.stringify(rows.cell?.value)}, newest acknowledged version ${newestAcked} wrote ${JSON.stringify(wins.get(newestAcked)?.[0]?.value)} (${sc.indeterminate} indeterminate)`);
    if (finalVersion > sc.acked + sc.indeterminate) problems.push(`cas cell at version ${finalVersion}, more than ${sc.acked} acknowledged + ${sc.indeterminate} indeterminate writes`);

    const invalid = ic.invalid + cc.invalid + sc.invalid + count(writes("get")).invalid;
    if (invalid > 0) problems.push(`${invalid} requests rejected as malformed: ${records.filter((r) => outcomeOf(r) === "invalid").slice(0, 3).map((r) => r.error).join("; ")}`);
    return {
        incr: { ...ic, final, withinBounds },
        claims: { ...cc, rows: rows.claims.length, ackedTwice, ackedMissing, unexplained },
        cas: { ...sc, wonTwice, finalVersion, finalConsistent },
        invalid,
        ok: problems.length === 0,
        problems,
    };
}

/** One line for a figure: per op, acknowledged / refused / indeterminate. */
export function describeVerdict(v: RaceVerdict): string {
    return [
        `incr ${v.incr.acked} acked / ${v.incr.refused} refused / ${v.incr.indeterminate} indeterminate, counter ${v.incr.final}`,
        `claim ${v.claims.acked} acked / ${v.claims.refused} refused / ${v.claims.indeterminate} indeterminate, ${v.claims.ackedTwice.length} acked twice, ${v.claims.ackedMissing.length} acked missing`,
        `cas ${v.cas.acked} acked / ${v.cas.refused} refused / ${v.cas.indeterminate} indeterminate, ${v.cas.wonTwice.length} versions won twice, final version ${v.cas.finalVersion}`,
    ].join("; ");
}

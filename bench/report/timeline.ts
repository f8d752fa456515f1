/**
 * Per-second series of a run and fault markers: what the SVG timeline draws.
 */
import { RequestRecord } from "./records";
import { percentile } from "./stats";

/** One value per second (index = second since the start), `null` where there is none. */
export interface Series {
    /** Legend text, e.g. "requests/s" or "lag db1→db2". */
    name: string;
    /** Unit of the values, shown on the axis, e.g. "req/s" or "ms". */
    unit: string;
    /** Which y axis: left (counts per second) or right (durations). */
    axis: "left" | "right";
    values: (number | null)[];
}

/** A fault or event at `t` seconds since the start. */
export interface Marker {
    t: number;
    label: string;
}

/** Series and markers on one time axis of `seconds` seconds. */
export interface Timeline {
    seconds: number;
    series: Series[];
    markers: Marker[];
}

/** The per-second series of request records: requests/s, errors/s, p50 and p99 of ok requests. */
export interface SecondSeries {
    requests: number[];
    errors: number[];
    p50: (number | null)[];
    p99: (number | null)[];
}

/**
 * Buckets records by the second they started in (`floor(t / 1000)`), over `seconds` seconds
 * (default: up to the last record's second). Records beyond `seconds` are dropped.
 */
export function perSecond(records: readonly RequestRecord[], seconds?: number): SecondSeries {
    const n = seconds ?? records.reduce((m, r) => Math.max(m, Math.floor(r.t / 1000) + 1), 0);
    const requests = new Array<number>(n).fill(0);
    const errors = new Array<number>(n).fill(0);
    const okMs: number[][] = Array.from({ length: n }, () => []);
    for (const r of records) {
        const s = Math.floor(r.t / 1000);
        if (s < 0 || s >= n) continue;
        requests[s] += 1;
        if (r.ok) okMs[s].push(r.ms);
        else errors[s] += 1;
    }
    const sorted = okMs.map((v) => v.sort((a, b) => a - b));
    return { requests, errors, p50: sorted.map((v) => percentile(v, 50)), p99: sorted.map((v) => percentile(v, 99)) };
}

/** The standard series of one load run, names prefixed by `label` when given (e.g. "direct"). */
export function loadSeries(records: readonly RequestRecord[], seconds: number, label?: string): Series[] {
    const s = perSecond(records, seconds);
    const name = (n: string) => (label ? `${label} ${n}` : n);
    return [
        { name: name("requests/s"), unit: "req/s", axis: "left", values: s.requests },
        { name: name("errors/s"), unit: "req/s", axis: "left", values: s.errors },
        { name: name("p99"), unit: "ms", axis: "right", values: s.p99 },
    ];
}

/**
 * Puts timelines one after the other on one axis: each is shifted by the seconds of those
 * before it, its series padded with `null` outside its span; series of the same name and
 * unit join. A marker with the part's title marks where each part starts, when given.
 */
export function concatTimelines(parts: readonly { title?: string; timeline: Timeline }[]): Timeline {
    const seconds = parts.reduce((s, p) => s + p.timeline.seconds, 0);
    const series = new Map<string, Series>();
    const markers: Marker[] = [];
    let offset = 0;
    for (const { title, timeline } of parts) {
        if (title !== undefined) markers.push({ t: offset, label: title });
        for (const m of timeline.markers) markers.push({ t: m.t + offset, label: m.label });
        for (const s of timeline.series) {
            const id = `${s.name}\u0000${s.unit}\u0000${s.axis}`;
            const into = series.get(id) ?? { ...s, values: new Array<number | null>(seconds).fill(null) };
            s.values.slice(0, timeline.seconds).forEach((v, k) => { into.values[offset + k] = v; });
            series.set(id, into);
        }
        offset += timeline.seconds;
    }
    return { seconds, series: [...series.values()], markers };
}

/**
 * A timeline of `seconds` seconds from the caller's series (e.g. {@link loadSeries} plus replication
 * lag per connection) and markers; each series is cut or padded with `null` to `seconds` values,
 * markers outside 0..seconds are kept out and the rest sorted by time.
 */
export function buildTimeline(seconds: number, series: readonly Series[], markers: readonly Marker[] = []): Timeline {
    const fit = (v: readonly (number | null)[]) => Array.from({ length: seconds }, (_, k) => v[k] ?? null);
    return {
        seconds,
        series: series.map((s) => ({ ...s, values: fit(s.values) })),
        markers: markers.filter((m) => m.t >= 0 && m.t <= seconds).sort((a, b) => a.t - b.t),
    };
}

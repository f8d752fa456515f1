/**
 * Side-by-side figures of two loads run at the same time.
 */
import { Figure } from "./report/markdown";
import { OverallStats } from "./report/stats";

/** ok req/s, p50 and p99 latency of side A next to side B (the report adds the ratio A ÷ B). */
export function sideBySide(a: { label: string; stats: OverallStats }, b: { label: string; stats: OverallStats }): Figure[] {
    const pick = (k: "throughput" | "p50" | "p99") => ({ a: { label: a.label, value: a.stats[k] }, b: { label: b.label, value: b.stats[k] } });
    return [
        { name: "ok requests/s", unit: "req/s", ...pick("throughput") },
        { name: "p50 latency", unit: "ms", ...pick("p50") },
        { name: "p99 latency", unit: "ms", ...pick("p99") },
    ];
}

/**
 * Markdown rendering: aligned tables and the bench report.
 */
import { mdEscape } from "./escape";
import { fmt } from "./format";
import { OverallStats } from "./stats";
import { Marker } from "./timeline";

/** A table column: heading and alignment (numbers read best right-aligned). */
export interface Column {
    title: string;
    align?: "left" | "right";
}

/**
 * A Markdown table whose cells are escaped and padded so the pipes line up in the source too;
 * the separator row carries the alignment (`---:` right, `:---` left).
 */
export function mdTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
    const head = columns.map((c) => mdEscape(c.title));
    const body = rows.map((r) => columns.map((_, k) => mdEscape(r[k] ?? "")));
    const width = columns.map((_, k) => Math.max(3, head[k].length, ...body.map((r) => r[k].length)));
    const pad = (cells: string[]) => cells.map((c, k) => (columns[k].align === "right" ? c.padStart(width[k]) : c.padEnd(width[k])));
    const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
    const sep = columns.map((c, k) => (c.align === "right" ? `${"-".repeat(width[k] - 1)}:` : `:${"-".repeat(width[k] - 1)}`));
    return [line(pad(head)), line(sep), ...body.map((r) => line(pad(r)))].join("\n");
}

/** One measured figure, on one side (`b` absent) or side by side (`a` vs `b`, with the ratio a ÷ b). */
export interface Figure {
    /** e.g. "req/s", "p99 latency", "acknowledged writes lost". */
    name: string;
    unit: string;
    a: { label: string; value: number | null };
    b?: { label: string; value: number | null };
}

/** What one scenario measured: its figures, and the load statistics of each side. */
export interface ScenarioReport {
    name: string;
    description?: string;
    figures: Figure[];
    loads: { label: string; stats: OverallStats }[];
    markers?: Marker[];
}

/** The whole report: title, run parameters (shown as given) and the scenarios. */
export interface BenchReport {
    title: string;
    parameters: Record<string, string | number>;
    scenarios: ScenarioReport[];
    /** Relative path of the timeline chart, embedded as an image when given. */
    timelineSvg?: string;
}

function ratio(f: Figure): string {
    if (!f.b || f.a.value === null || f.b.value === null || f.b.value === 0) return "—";
    return fmt(f.a.value / f.b.value, 3);
}

function figuresTable(scenarios: readonly ScenarioReport[]): string {
    const cols: Column[] = [
        { title: "Scenario" }, { title: "Figure" }, { title: "Unit" },
        { title: "A" }, { title: "A value", align: "right" }, { title: "B" }, { title: "B value", align: "right" }, { title: "A ÷ B", align: "right" },
    ];
    const rows = scenarios.flatMap((s) => s.figures.map((f) => [
        s.name, f.name, f.unit, f.a.label, fmt(f.a.value), f.b?.label ?? "", f.b ? fmt(f.b.value) : "", ratio(f),
    ]));
    return mdTable(cols, rows);
}

function loadsTable(scenarios: readonly ScenarioReport[]): string {
    const n = (title: string): Column => ({ title, align: "right" });
    const cols: Column[] = [{ title: "Scenario" }, { title: "Load" }, n("requests"), n("errors"), n("ok req/s"), n("p50 ms"), n("p90 ms"), n("p99 ms"), n("max ms"), { title: "errors by kind" }];
    const rows = scenarios.flatMap((s) => s.loads.map(({ label, stats: x }) => [
        s.name, label, fmt(x.count), fmt(x.errors), fmt(x.throughput, 1), fmt(x.p50), fmt(x.p90), fmt(x.p99), fmt(x.max),
        Object.entries(x.errorsByKind).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}: ${v}`).join(", "),
    ]));
    return mdTable(cols, rows);
}

/** The report as Markdown: title, parameters, figures side by side, load per side, faults, chart. */
export function renderMarkdown(r: BenchReport): string {
    const out: string[] = [`# ${mdEscape(r.title)}`, "", "## Run parameters", ""];
    for (const [k, v] of Object.entries(r.parameters)) out.push(`- ${mdEscape(k)}: ${mdEscape(String(v))}`);
    out.push("", "## Figures", "", "Each row is measured side by side in the same run; A ÷ B is the ratio of the two values.", "", figuresTable(r.scenarios));
    out.push("", "## Load per side", "", "Latencies are of ok requests; ok req/s is over the planned duration.", "", loadsTable(r.scenarios));
    const described = r.scenarios.filter((s) => s.description || s.markers?.length);
    if (described.length) {
        out.push("", "## Scenarios");
        for (const s of described) {
            out.push("", `### ${mdEscape(s.name)}`);
            if (s.description) out.push("", mdEscape(s.description));
            if (s.markers?.length) out.push("", ...s.markers.map((m) => `- at ${fmt(m.t, 3)} s: ${mdEscape(m.label)}`));
        }
    }
    if (r.timelineSvg) out.push("", "## Timeline", "", `![requests, errors and latency per second, faults marked](${encodeURI(r.timelineSvg)})`);
    return `${out.join("\n")}\n`;
}

/**
 * A standalone SVG timeline chart: per-second series as step lines on a left (counts) and a
 * right (durations) axis, vertical fault markers with labels, ticks with units and a legend.
 * No script, no external font or stylesheet: every style is an attribute.
 */
import { xmlEscape } from "./escape";
import { fmt } from "./format";
import { Axis, niceAxis } from "./scale";
import { Series, Timeline } from "./timeline";

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];
const FONT = 'font-family="sans-serif" font-size="11"';

/** Chart size in pixels and its title. */
export interface SvgOptions {
    title: string;
    width?: number;
    height?: number;
}

interface Frame { left: number; right: number; top: number; bottom: number }

const n1 = (v: number) => String(Math.round(v * 10) / 10);

function maxOf(series: readonly Series[]): number {
    return series.reduce((m, s) => s.values.reduce<number>((a, v) => (v !== null && v > a ? v : a), m), 0);
}

function unitsOf(series: readonly Series[]): string {
    return [...new Set(series.map((s) => s.unit))].join(", ");
}

/** The step line of one series: each second's value drawn flat across that second, gaps at `null`. */
function stepPath(values: readonly (number | null)[], x: (t: number) => number, y: (v: number) => number): string {
    const parts: string[] = [];
    let open = false;
    values.forEach((v, s) => {
        if (v === null) { open = false; return; }
        parts.push(`${open ? "L" : "M"}${n1(x(s))},${n1(y(v))}H${n1(x(s + 1))}`);
        open = true;
    });
    return parts.join("");
}

function yAxis(axis: Axis, f: Frame, side: "left" | "right", unit: string): string[] {
    const x = side === "left" ? f.left : f.right;
    const y = (v: number) => f.bottom - (v / axis.max) * (f.bottom - f.top);
    const out = [`<line x1="${x}" y1="${f.top}" x2="${x}" y2="${f.bottom}" stroke="#333"/>`];
    for (const t of axis.ticks) {
        const ty = n1(y(t));
        const d = side === "left" ? -5 : 5;
        if (side === "left") out.push(`<line x1="${f.left}" y1="${ty}" x2="${f.right}" y2="${ty}" stroke="#e5e5e5"/>`);
        out.push(`<line x1="${x}" y1="${ty}" x2="${x + d}" y2="${ty}" stroke="#333"/>`);
        out.push(`<text x="${x + d * 1.6}" y="${ty}" dy="4" text-anchor="${side === "left" ? "end" : "start"}" ${FONT}>${xmlEscape(fmt(t))}</text>`);
    }
    const lx = side === "left" ? 16 : f.right + 52;
    const ly = (f.top + f.bottom) / 2;
    out.push(`<text x="${lx}" y="${n1(ly)}" transform="rotate(-90 ${lx} ${n1(ly)})" text-anchor="middle" ${FONT}>${xmlEscape(unit)}</text>`);
    return out;
}

function xAxis(seconds: number, f: Frame, x: (t: number) => number): string[] {
    const axis = niceAxis(seconds, 10);
    const out = [`<line x1="${f.left}" y1="${f.bottom}" x2="${f.right}" y2="${f.bottom}" stroke="#333"/>`];
    for (const t of axis.ticks.filter((t) => t <= seconds)) {
        const tx = n1(x(t));
        out.push(`<line x1="${tx}" y1="${f.bottom}" x2="${tx}" y2="${f.bottom + 5}" stroke="#333"/>`);
        out.push(`<text x="${tx}" y="${f.bottom + 17}" text-anchor="middle" ${FONT}>${xmlEscape(fmt(t))}</text>`);
    }
    out.push(`<text x="${n1((f.left + f.right) / 2)}" y="${f.bottom + 34}" text-anchor="middle" ${FONT}>time (s)</text>`);
    return out;
}

interface LegendItem { x: number; row: number; text: string }

/** Legend entries laid out left to right from `left`, wrapping before `right`. */
function legendLayout(series: readonly Series[], left: number, right: number): LegendItem[] {
    let x = left;
    let row = 0;
    return series.map((s) => {
        const text = `${s.name} (${s.unit}, ${s.axis} axis)`;
        const w = 28 + text.length * 6.2;
        if (x + w > right && x > left) { x = left; row += 1; }
        const item = { x, row, text };
        x += w + 12;
        return item;
    });
}

function legend(series: readonly Series[], items: readonly LegendItem[], y0: number): string[] {
    return items.flatMap(({ x, row, text }, k) => {
        const y = y0 + row * 16;
        const dash = series[k].axis === "right" ? ' stroke-dasharray="5 3"' : "";
        return [
            `<line x1="${n1(x)}" y1="${y - 4}" x2="${n1(x + 20)}" y2="${y - 4}" stroke="${PALETTE[k % PALETTE.length]}" stroke-width="2"${dash}/>`,
            `<text x="${n1(x + 24)}" y="${y}" ${FONT}>${xmlEscape(text)}</text>`,
        ];
    });
}

/** Renders `timeline` as a standalone SVG document (UTF-8 text). */
export function renderTimelineSvg(timeline: Timeline, opts: SvgOptions): string {
    const width = opts.width ?? 960;
    const height = opts.height ?? 420;
    const items = legendLayout(timeline.series, 64, width - 72);
    const rows = items.length ? items[items.length - 1].row + 1 : 0;
    const f: Frame = { left: 64, right: width - 72, top: 36, bottom: height - 44 - rows * 16 };
    const seconds = Math.max(1, timeline.seconds);
    const x = (t: number) => f.left + (t / seconds) * (f.right - f.left);
    const left = timeline.series.filter((s) => s.axis === "left");
    const right = timeline.series.filter((s) => s.axis === "right");
    const la = niceAxis(maxOf(left));
    const ra = niceAxis(maxOf(right));
    const y = (a: Axis) => (v: number) => f.bottom - (v / a.max) * (f.bottom - f.top);
    const out = [
        `<?xml version="1.0" encoding="UTF-8"?>`,
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
        `<title>${xmlEscape(opts.title)}</title>`,
        `<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`,
        `<text x="${width / 2}" y="20" text-anchor="middle" font-family="sans-serif" font-size="14" font-weight="bold">${xmlEscape(opts.title)}</text>`,
        ...yAxis(la, f, "left", unitsOf(left) || "per second"),
        ...(right.length ? yAxis(ra, f, "right", unitsOf(right)) : []),
        ...xAxis(timeline.seconds, f, x),
    ];
    timeline.series.forEach((s, k) => {
        const d = stepPath(s.values, x, y(s.axis === "left" ? la : ra));
        if (!d) return;
        const dash = s.axis === "right" ? ' stroke-dasharray="5 3"' : "";
        out.push(`<path d="${d}" fill="none" stroke="${PALETTE[k % PALETTE.length]}" stroke-width="1.5"${dash}><title>${xmlEscape(s.name)}</title></path>`);
    });
    for (const m of timeline.markers) {
        const mx = n1(x(Math.min(m.t, seconds)));
        // Labels run down the line on its left, or on its right where the left axis is.
        const side = x(m.t) - f.left < 14 ? 11 : -3;
        out.push(`<line x1="${mx}" y1="${f.top}" x2="${mx}" y2="${f.bottom}" stroke="#555" stroke-dasharray="3 3"/>`);
        out.push(`<text x="${mx}" y="${f.top + 4}" dy="${side}" transform="rotate(-90 ${mx} ${f.top + 4})" text-anchor="end" ${FONT} fill="#333">${xmlEscape(m.label)}</text>`);
    }
    out.push(...legend(timeline.series, items, f.bottom + 52), "</svg>");
    return `${out.join("\n")}\n`;
}

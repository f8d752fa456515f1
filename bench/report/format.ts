/**
 * Number formatting shared by the Markdown report and the SVG chart.
 */

/** Formats a number for a table or an axis: `—` for none, integers as is, others with up to `digits` decimals. */
export function fmt(value: number | null | undefined, digits = 2): string {
    if (value === null || value === undefined || !Number.isFinite(value)) return "—";
    if (Number.isInteger(value)) return String(value);
    return String(Number(value.toFixed(digits)));
}

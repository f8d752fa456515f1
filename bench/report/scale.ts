/**
 * Axis scales with "nice" tick steps (1, 2 or 5 times a power of ten).
 */

/** A linear axis from 0 to `max` (a whole number of steps) with ticks every `step`. */
export interface Axis {
    max: number;
    step: number;
    ticks: number[];
}

/** An axis from 0 covering `maxValue` with about `target` ticks; 0..1 when there is nothing to show. */
export function niceAxis(maxValue: number, target = 5): Axis {
    const top = Number.isFinite(maxValue) && maxValue > 0 ? maxValue : 1;
    const raw = top / Math.max(1, target);
    const mag = 10 ** Math.floor(Math.log10(raw));
    const norm = raw / mag;
    const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
    const count = Math.max(1, Math.ceil(top / step - 1e-9));
    const ticks = Array.from({ length: count + 1 }, (_, k) => Number((k * step).toPrecision(12)));
    return { max: ticks[ticks.length - 1], step, ticks };
}

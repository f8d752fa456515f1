/**
 * The open-loop schedule: when each request starts and which route it takes. Pure.
 */
import { Route } from "./spec";

/** How many requests a run of `durationSec` at `rate` per second starts. */
export function requestCount(rate: number, durationSec: number): number {
    return Math.round(rate * durationSec);
}

/** When request `i` is due, ms since the start: evenly spaced, never drifting. */
export function plannedAt(i: number, rate: number): number {
    return (i * 1000) / rate;
}

/**
 * Smooth weighted round-robin: yields route indexes in proportion to the weights,
 * interleaved (weights 3 and 1 give 0, 0, 1, 0, ...), the same sequence every run.
 */
export function routeChooser(weights: readonly number[]): () => number {
    const current = weights.map(() => 0);
    const total = weights.reduce((a, b) => a + b, 0);
    return () => {
        let best = 0;
        weights.forEach((w, k) => {
            current[k] += w;
            if (current[k] > current[best]) best = k;
        });
        current[best] -= total;
        return best;
    };
}

/** The unique key of request `i`. */
export function keyOf(prefix: string, i: number): string {
    return `${prefix}-${i}`;
}

/** The route's path with `{key}` and `{value}` filled in (URL-encoded); the value is the key. */
export function pathFor(route: Route, key: string): string {
    const k = encodeURIComponent(key);
    return route.path.replace(/\{key\}/g, k).replace(/\{value\}/g, k);
}

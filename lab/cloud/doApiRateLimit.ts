/**
 * DigitalOcean's per-token burst limit (250 requests in any 60 s), as a
 * sliding window over request times. Pure apart from the clock it is given.
 */

/** What one request gets from {@link RateLimiter.take}; mirrors the `ratelimit-*` headers. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  /** Requests left in the current window after this one. */
  remaining: number;
  /** Unix time (seconds) when the oldest counted request leaves the window. */
  resetEpochSec: number;
}

/** Window length of the limit. */
export const RATE_WINDOW_MS = 60_000;

/** Sliding-window counter per key (the bearer token). */
export class RateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(private readonly limit: number) {
    if (!(Number.isInteger(limit) && limit > 0)) throw new Error(`rate limit must be a positive integer, got ${limit}`);
  }

  /** Counts a request at `nowMs` unless the window is full (a refused request is not counted). */
  take(key: string, nowMs: number): RateDecision {
    const recent = (this.hits.get(key) ?? []).filter((t) => t > nowMs - RATE_WINDOW_MS);
    const allowed = recent.length < this.limit;
    if (allowed) recent.push(nowMs);
    this.hits.set(key, recent);
    const oldest = recent[0] ?? nowMs;
    return {
      allowed,
      limit: this.limit,
      remaining: Math.max(0, this.limit - recent.length),
      resetEpochSec: Math.ceil((oldest + RATE_WINDOW_MS) / 1000),
    };
  }
}

/** The response headers DigitalOcean sends with every authenticated answer. */
export function rateLimitHeaders(d: RateDecision, nowMs: number): Record<string, string> {
  const headers: Record<string, string> = {
    "ratelimit-limit": String(d.limit),
    "ratelimit-remaining": String(d.remaining),
    "ratelimit-reset": String(d.resetEpochSec),
  };
  if (!d.allowed) headers["retry-after"] = String(Math.max(1, d.resetEpochSec - Math.floor(nowMs / 1000)));
  return headers;
}
